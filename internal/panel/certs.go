package panel

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

// A user with an exclusive IP address may get a certificate of its own
// (USR-6). What a reseller pastes ends up in files the web server loads, so
// everything is parsed and checked here, and only canonical PEM re-encoded
// from the parsed objects is ever stored: no byte of the paste itself
// reaches a file.

// MaxPEMLen is the largest paste accepted per field (key, certificate,
// chain). A real key is under 4 KiB and a long chain under 16 KiB; anything
// larger is refused before it is parsed.
const MaxPEMLen = 64 << 10

// maxChainCerts caps the certificates of the chain field.
const maxChainCerts = 10

// minRSABits is the smallest RSA key accepted: current TLS libraries refuse
// shorter ones, so the site would not start.
const minRSABits = 2048

// CertInput is a pasted private key, certificate and optional chain.
type CertInput struct {
	Key   string
	Cert  string
	Chain string
}

// CertInfo describes a certificate for the list and detail pages; it never
// contains the key.
type CertInfo struct {
	Subject     string
	Issuer      string
	DNSNames    []string
	NotBefore   time.Time
	NotAfter    time.Time
	SelfSigned  bool
	KeyType     string // "RSA 2048", "ECDSA P-256", "Ed25519"
	Fingerprint string // SHA-256 of the certificate, hex pairs
}

// CertBundle is a checked key pair in canonical PEM: the key as PKCS #8,
// the certificate, and the chain certificates one after the other.
type CertBundle struct {
	KeyPEM   string
	CertPEM  string
	ChainPEM string
	Info     CertInfo
}

// CheckCertificate parses and checks a pasted key pair for a user whose
// domains (punycode) are given, at the time now (the app's clock):
// sizes and characters first, then the PEM blocks of each field (a key in
// the certificate field or the other way round is named as such), the key
// (RSA, ECDSA or Ed25519 in PKCS #1, SEC 1 or PKCS #8), the certificate and
// the chain; then that key and certificate belong together, the validity
// period, the chain (when given) verifying the certificate, and that the
// certificate covers at least one domain. It returns the canonical bundle
// and the domains the certificate does not cover (a warning, not an error).
// Every error names the field it is about.
func CheckCertificate(in CertInput, now time.Time, domains []string) (CertBundle, []string, error) {
	var b CertBundle
	fields := []struct {
		name, v string
		req     bool
	}{{"key", in.Key, true}, {"cert", in.Cert, true}, {"chain", in.Chain, false}}
	for _, f := range fields {
		if len(f.v) > MaxPEMLen {
			return b, nil, Invalid(f.name, "err.ssl.too_large", MaxPEMLen>>10)
		}
		if f.req && strings.TrimSpace(f.v) == "" {
			return b, nil, Invalid(f.name, "err.required")
		}
		if !pemText(f.v) {
			return b, nil, Invalid(f.name, "err.ssl.chars")
		}
	}
	key, err := parseKey(in.Key)
	if err != nil {
		return b, nil, err
	}
	certs, err := parseCerts("cert", in.Cert)
	if err != nil {
		return b, nil, err
	}
	if len(certs) == 0 {
		return b, nil, Invalid("cert", "err.ssl.cert_missing")
	}
	leaf := certs[0]
	chain := certs[1:] // a full chain pasted into the certificate field is fine
	more, err := parseCerts("chain", in.Chain)
	if err != nil {
		return b, nil, err
	}
	chain = append(chain, more...)
	if len(chain) > maxChainCerts {
		return b, nil, Invalid("chain", "err.ssl.chain_long", maxChainCerts)
	}
	keyType, err := checkKeyStrength(key)
	if err != nil {
		return b, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return b, nil, Invalid("key", "err.ssl.key_type")
	}
	b.KeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b.CertPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}))
	// The web server's own check: the key's public half is the
	// certificate's.
	if _, err := tls.X509KeyPair([]byte(b.CertPEM), []byte(b.KeyPEM)); err != nil {
		return b, nil, Invalid("key", "err.ssl.mismatch")
	}
	if now.Before(leaf.NotBefore) {
		return b, nil, Invalid("cert", "err.ssl.not_yet_valid", leaf.NotBefore.UTC().Format("2006-01-02 15:04 MST"))
	}
	if now.After(leaf.NotAfter) {
		return b, nil, Invalid("cert", "err.ssl.expired", leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST"))
	}
	if len(chain) > 0 {
		if err := verifyChain(leaf, chain, now); err != nil {
			return b, nil, err
		}
		var cb strings.Builder
		for _, c := range chain {
			cb.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
		}
		b.ChainPEM = cb.String()
	}
	covered, uncovered := coverage(leaf, domains)
	if len(domains) > 0 && len(covered) == 0 {
		shown := make([]string, len(domains))
		for i, d := range domains {
			shown[i] = DisplayDomain(d)
		}
		return b, nil, Invalid("cert", "err.ssl.no_domain", strings.Join(shown, ", "))
	}
	b.Info = describe(leaf)
	b.Info.KeyType = keyType
	return b, uncovered, nil
}

// pemText reports whether s holds only what PEM consists of: printable
// ASCII, tabs and line breaks. NUL, other control characters and non-ASCII
// bytes never belong in a key or certificate.
func pemText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// pemBlocks decodes every PEM block of a field. A block that does not decode
// (broken base64, missing END line) is an error, not silently skipped, so
// the count of BEGIN lines must match the blocks found.
func pemBlocks(field, s string) ([]*pem.Block, error) {
	rest := []byte(strings.ReplaceAll(s, "\r\n", "\n"))
	begins := bytes.Count(rest, []byte("-----BEGIN "))
	var out []*pem.Block
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		out = append(out, blk)
	}
	if len(out) != begins || (len(out) == 0 && strings.TrimSpace(s) != "") {
		return nil, Invalid(field, "err.ssl.pem")
	}
	return out, nil
}

func isKeyBlock(t string) bool {
	return strings.HasSuffix(t, "PRIVATE KEY")
}

// parseKey finds the one private key of the key field.
func parseKey(s string) (crypto.Signer, error) {
	blocks, err := pemBlocks("key", s)
	if err != nil {
		return nil, err
	}
	var key crypto.Signer
	for _, blk := range blocks {
		switch {
		case blk.Type == "EC PARAMETERS":
			continue // "openssl ecparam -genkey" writes the curve first
		case blk.Type == "CERTIFICATE":
			return nil, Invalid("key", "err.ssl.cert_in_key")
		case blk.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(blk.Headers["Proc-Type"], "ENCRYPTED"):
			return nil, Invalid("key", "err.ssl.key_encrypted")
		case !isKeyBlock(blk.Type):
			return nil, Invalid("key", "err.ssl.key_block")
		}
		if key != nil {
			return nil, Invalid("key", "err.ssl.key_many")
		}
		var k any
		var err error
		switch blk.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(blk.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		default:
			return nil, Invalid("key", "err.ssl.key_block")
		}
		if err != nil {
			return nil, Invalid("key", "err.ssl.key_parse")
		}
		switch v := k.(type) {
		case *rsa.PrivateKey:
			key = v
		case *ecdsa.PrivateKey:
			key = v
		case ed25519.PrivateKey:
			key = v
		default:
			return nil, Invalid("key", "err.ssl.key_type")
		}
	}
	if key == nil {
		return nil, Invalid("key", "err.ssl.key_missing")
	}
	return key, nil
}

// parseCerts parses the certificates of the certificate or chain field.
func parseCerts(field, s string) ([]*x509.Certificate, error) {
	blocks, err := pemBlocks(field, s)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for _, blk := range blocks {
		if isKeyBlock(blk.Type) {
			return nil, Invalid(field, "err.ssl.key_in_cert")
		}
		if blk.Type != "CERTIFICATE" {
			return nil, Invalid(field, "err.ssl.cert_block")
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, Invalid(field, "err.ssl.cert_parse")
		}
		out = append(out, c)
		if len(out) > maxChainCerts+1 {
			return nil, Invalid(field, "err.ssl.chain_long", maxChainCerts)
		}
	}
	return out, nil
}

func checkKeyStrength(key crypto.Signer) (string, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		bits := k.N.BitLen()
		if bits < minRSABits {
			return "", Invalid("key", "err.ssl.weak_key", bits, minRSABits)
		}
		return fmt.Sprintf("RSA %d", bits), nil
	case *ecdsa.PrivateKey:
		return "ECDSA " + k.Curve.Params().Name, nil
	case ed25519.PrivateKey:
		return "Ed25519", nil
	}
	return "", Invalid("key", "err.ssl.key_type")
}

// verifyChain checks that the chain leads from the certificate to the top of
// the chain. Self-signed chain certificates are the anchors; a bundle
// without its root (the usual case) is anchored at its last certificate: we
// check that the links hold, browsers judge the root.
func verifyChain(leaf *x509.Certificate, chain []*x509.Certificate, now time.Time) error {
	inter, roots := x509.NewCertPool(), x509.NewCertPool()
	anchored := false
	for _, c := range chain {
		if selfSigned(c) {
			roots.AddCert(c)
			anchored = true
		} else {
			inter.AddCert(c)
		}
	}
	if !anchored {
		roots.AddCert(chain[len(chain)-1])
	}
	_, err := leaf.Verify(x509.VerifyOptions{Intermediates: inter, Roots: roots, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return Invalid("chain", "err.ssl.chain")
	}
	return nil
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// coverage splits domains into those the certificate's names cover and the
// rest. Only the subject alternative names count, as in browsers.
func coverage(leaf *x509.Certificate, domains []string) (covered, uncovered []string) {
	for _, d := range domains {
		if leaf.VerifyHostname(d) == nil {
			covered = append(covered, d)
		} else {
			uncovered = append(uncovered, d)
		}
	}
	return covered, uncovered
}

func describe(c *x509.Certificate) CertInfo {
	sum := sha256.Sum256(c.Raw)
	hex := make([]string, len(sum))
	for i, x := range sum {
		hex[i] = fmt.Sprintf("%02X", x)
	}
	return CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), DNSNames: append([]string(nil), c.DNSNames...),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, SelfSigned: selfSigned(c), Fingerprint: strings.Join(hex, ":")}
}

// UncoveredDomains returns the domains a stored certificate (canonical PEM)
// does not cover, for the warning on the detail page: domains may have been
// added since the certificate was saved.
func UncoveredDomains(certPEM string, domains []string) []string {
	blk, _ := pem.Decode([]byte(certPEM))
	if blk == nil {
		return domains
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return domains
	}
	_, un := coverage(c, domains)
	return un
}

// CertSubject is the company details a self-signed certificate is made
// from (USR-6).
type CertSubject struct {
	Company    string
	Department string
	City       string
	State      string
	Country    string // ISO 3166 two-letter code
	Email      string
}

// maxSubjectLen is X.509's upper bound for organisation and locality names.
const maxSubjectLen = 64

// Clean trims and checks the details: the company is required, the country
// is two letters (stored upper-case), the e-mail a plain address; no field
// takes control characters, quotes or backslashes.
func (c CertSubject) Clean() (CertSubject, error) {
	fields := []struct {
		name string
		v    *string
		req  bool
	}{{"company", &c.Company, true}, {"department", &c.Department, false}, {"city", &c.City, false},
		{"state", &c.State, false}, {"country", &c.Country, false}}
	for _, f := range fields {
		v, err := CleanText(f.name, *f.v, f.req)
		if err != nil {
			return c, err
		}
		if len([]rune(v)) > maxSubjectLen {
			return c, Invalid(f.name, "err.text.long", maxSubjectLen)
		}
		if strings.ContainsAny(v, "\"'`\\<>") {
			return c, Invalid(f.name, "err.ssl.subject_chars")
		}
		*f.v = v
	}
	if c.Country != "" {
		up := strings.ToUpper(c.Country)
		if len(up) != 2 || up[0] < 'A' || up[0] > 'Z' || up[1] < 'A' || up[1] > 'Z' {
			return c, Invalid("country", "err.ssl.country")
		}
		c.Country = up
	}
	var err error
	if c.Email, err = ValidateEmail("email", c.Email, false); err != nil {
		return c, err
	}
	return c, nil
}
