package panel

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// Certificates for the tests are made here, at run time, relative to now:
// a root CA, an intermediate CA and leaves with chosen keys, names and
// validity.

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type testCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func (c testCert) certPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw}))
}

func pkcs8PEM(t testing.TB, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func sec1PEM(t testing.TB, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

func pkcs1PEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// rsa2048 is generated once: RSA key generation is slow.
func rsa2048(t testing.TB) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return rsaKey
}

var serial int64

// issue makes a certificate for key, signed by parent (self-signed when
// parent is nil).
func issue(t testing.TB, key crypto.Signer, parent *testCert, cn string, names []string, from, until time.Time, ca bool) testCert {
	t.Helper()
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Test"}},
		NotBefore: from, NotAfter: until, DNSNames: names, BasicConstraintsValid: true, IsCA: ca,
		KeyUsage: x509.KeyUsageDigitalSignature}
	if ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{cert: c, key: key}
}

func year() (time.Time, time.Time) { return testNow.AddDate(0, -1, 0), testNow.AddDate(1, 0, 0) }

func leaf(t testing.TB, key crypto.Signer, parent *testCert, names ...string) testCert {
	from, until := year()
	return issue(t, key, parent, names[0], names, from, until, false)
}

func wantErr(t *testing.T, err error, field, key string) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) || pe.Field != field || pe.Key != key || pe.Kind != KindInvalid {
		t.Fatalf("got %v, want invalid %s: %s", err, field, key)
	}
}

func TestCheckCertificateAcceptsEveryKeyFormat(t *testing.T) {
	ec := ecKey(t)
	rk := rsa2048(t)
	_, edk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	domains := []string{"example.com", "shop.example"}
	cases := []struct {
		name, key string
		cert      testCert
		keyType   string
	}{
		{"ECDSA SEC 1", sec1PEM(t, ec), leaf(t, ec, nil, "example.com", "www.example.com"), "ECDSA P-256"},
		{"ECDSA PKCS #8", pkcs8PEM(t, ec), leaf(t, ec, nil, "example.com"), "ECDSA P-256"},
		{"RSA PKCS #1", pkcs1PEM(rk), leaf(t, rk, nil, "example.com"), "RSA 2048"},
		{"RSA PKCS #8", pkcs8PEM(t, rk), leaf(t, rk, nil, "example.com"), "RSA 2048"},
		{"Ed25519 PKCS #8", pkcs8PEM(t, edk), leaf(t, edk, nil, "example.com"), "Ed25519"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, uncovered, err := CheckCertificate(CertInput{Key: c.key, Cert: c.cert.certPEM()}, testNow, domains)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if b.Info.KeyType != c.keyType || !b.Info.SelfSigned || b.Info.Subject != "CN=example.com,O=Test" {
				t.Errorf("info %+v", b.Info)
			}
			// shop.example is not covered: a warning, not a refusal.
			if len(uncovered) != 1 || uncovered[0] != "shop.example" {
				t.Errorf("uncovered %v, want [shop.example]", uncovered)
			}
			// What is stored is canonical PKCS #8 and parses back to the same key.
			blk, rest := pem.Decode([]byte(b.KeyPEM))
			if blk == nil || blk.Type != "PRIVATE KEY" || len(rest) != 0 {
				t.Fatalf("key PEM %q", b.KeyPEM)
			}
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil || !k.(interface{ Equal(crypto.PrivateKey) bool }).Equal(c.cert.key) {
				t.Fatalf("stored key does not round-trip: %v", err)
			}
			if b.CertPEM != c.cert.certPEM() || b.ChainPEM != "" {
				t.Errorf("cert/chain PEM not canonical")
			}
		})
	}
}

func TestCheckCertificateOpenSSLStyleInput(t *testing.T) {
	ec := ecKey(t)
	c := leaf(t, ec, nil, "example.com")
	// "openssl ecparam -genkey" writes the curve before the key; pastes from
	// Windows have CRLF line ends; text around the blocks (openssl's "Bag
	// Attributes") is ignored.
	key := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + sec1PEM(t, ec)
	cert := "Bag Attributes\n    friendlyName: example\n" + strings.ReplaceAll(c.certPEM(), "\n", "\r\n")
	if _, _, err := CheckCertificate(CertInput{Key: key, Cert: cert}, testNow, []string{"example.com"}); err != nil {
		t.Fatalf("refused: %v", err)
	}
}

func TestCheckCertificateRefusals(t *testing.T) {
	ec, other := ecKey(t), ecKey(t)
	good := leaf(t, ec, nil, "example.com")
	goodKey := pkcs8PEM(t, ec)
	domains := []string{"example.com"}
	expired := issue(t, ec, nil, "example.com", []string{"example.com"}, testNow.AddDate(-2, 0, 0), testNow.AddDate(0, 0, -1), false)
	future := issue(t, ec, nil, "example.com", []string{"example.com"}, testNow.AddDate(0, 0, 2), testNow.AddDate(1, 0, 0), false)
	elsewhere := leaf(t, ec, nil, "elsewhere.example")
	broken := strings.Replace(good.certPEM(), "\n", "\n!!", 2)
	encrypted := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: []byte("xx")}))
	weakKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak := leaf(t, weakKey, nil, "example.com")

	cases := []struct {
		name       string
		in         CertInput
		field, key string
	}{
		{"expired", CertInput{Key: goodKey, Cert: expired.certPEM()}, "cert", "err.ssl.expired"},
		{"not yet valid", CertInput{Key: goodKey, Cert: future.certPEM()}, "cert", "err.ssl.not_yet_valid"},
		{"key of another certificate", CertInput{Key: pkcs8PEM(t, other), Cert: good.certPEM()}, "key", "err.ssl.mismatch"},
		{"garbage certificate", CertInput{Key: goodKey, Cert: "hello, this is my certificate"}, "cert", "err.ssl.pem"},
		{"garbage key", CertInput{Key: "not a key at all", Cert: good.certPEM()}, "key", "err.ssl.pem"},
		{"damaged base64", CertInput{Key: goodKey, Cert: broken}, "cert", "err.ssl.pem"},
		{"fields swapped", CertInput{Key: good.certPEM(), Cert: goodKey}, "key", "err.ssl.cert_in_key"},
		{"key in the certificate field", CertInput{Key: goodKey, Cert: goodKey}, "cert", "err.ssl.key_in_cert"},
		{"key in the chain field", CertInput{Key: goodKey, Cert: good.certPEM(), Chain: goodKey}, "chain", "err.ssl.key_in_cert"},
		{"2 MB paste", CertInput{Key: goodKey, Cert: strings.Repeat("A", 2<<20)}, "cert", "err.ssl.too_large"},
		{"2 MB key", CertInput{Key: strings.Repeat("-----BEGIN PRIVATE KEY-----\n", 80000), Cert: good.certPEM()}, "key", "err.ssl.too_large"},
		{"NUL byte", CertInput{Key: goodKey, Cert: good.certPEM() + "\x00"}, "cert", "err.ssl.chars"},
		{"non-ASCII", CertInput{Key: goodKey + "ä", Cert: good.certPEM()}, "key", "err.ssl.chars"},
		{"empty key", CertInput{Key: " \n", Cert: good.certPEM()}, "key", "err.required"},
		{"empty certificate", CertInput{Key: goodKey}, "cert", "err.required"},
		{"encrypted key", CertInput{Key: encrypted, Cert: good.certPEM()}, "key", "err.ssl.key_encrypted"},
		{"two keys", CertInput{Key: goodKey + goodKey, Cert: good.certPEM()}, "key", "err.ssl.key_many"},
		{"only EC parameters", CertInput{Key: "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n", Cert: good.certPEM()}, "key", "err.ssl.key_missing"},
		{"key block of garbage", CertInput{Key: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")})), Cert: good.certPEM()}, "key", "err.ssl.key_parse"},
		{"certificate block of garbage", CertInput{Key: goodKey, Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}))}, "cert", "err.ssl.cert_parse"},
		{"a CSR instead of a certificate", CertInput{Key: goodKey, Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte("x")}))}, "cert", "err.ssl.cert_block"},
		{"weak RSA key", CertInput{Key: pkcs1PEM(weakKey), Cert: weak.certPEM()}, "key", "err.ssl.weak_key"},
		{"no domain of the user", CertInput{Key: goodKey, Cert: elsewhere.certPEM()}, "cert", "err.ssl.no_domain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, _, err := CheckCertificate(c.in, testNow, domains)
			wantErr(t, err, c.field, c.key)
			if b.Info.Subject != "" {
				t.Errorf("a refused bundle carries info: %+v", b.Info)
			}
		})
	}
}

func TestCheckCertificateChain(t *testing.T) {
	from, until := year()
	root := issue(t, ecKey(t), nil, "Test Root", nil, from.AddDate(-1, 0, 0), until.AddDate(5, 0, 0), true)
	inter := issue(t, ecKey(t), &root, "Test Intermediate", nil, from.AddDate(-1, 0, 0), until.AddDate(2, 0, 0), true)
	k := ecKey(t)
	l := leaf(t, k, &inter, "example.com", "www.example.com")
	stranger := issue(t, ecKey(t), nil, "Other Root", nil, from, until, true)
	expiredInter := issue(t, inter.key, &root, "Test Intermediate", nil, from.AddDate(-3, 0, 0), testNow.AddDate(0, 0, -1), true)
	key := pkcs8PEM(t, k)
	domains := []string{"example.com"}

	for name, chain := range map[string]string{
		"intermediate and root":  inter.certPEM() + root.certPEM(),
		"intermediate only":      inter.certPEM(),
		"root first, then inter": root.certPEM() + inter.certPEM(),
	} {
		b, _, err := CheckCertificate(CertInput{Key: key, Cert: l.certPEM(), Chain: chain}, testNow, domains)
		if err != nil {
			t.Fatalf("%s: refused: %v", name, err)
		}
		if b.Info.SelfSigned || !strings.Contains(b.Info.Issuer, "Test Intermediate") || strings.Count(b.ChainPEM, "BEGIN CERTIFICATE") != strings.Count(chain, "BEGIN CERTIFICATE") {
			t.Errorf("%s: info %+v, chain %d certs", name, b.Info, strings.Count(b.ChainPEM, "BEGIN"))
		}
	}
	// The whole chain pasted into the certificate field: the first is the
	// certificate, the rest is the chain.
	b, _, err := CheckCertificate(CertInput{Key: key, Cert: l.certPEM() + inter.certPEM()}, testNow, domains)
	if err != nil || b.CertPEM != l.certPEM() || b.ChainPEM != inter.certPEM() {
		t.Fatalf("full chain in the certificate field: %v", err)
	}
	// A chain that does not lead to the certificate, or has run out.
	_, _, err = CheckCertificate(CertInput{Key: key, Cert: l.certPEM(), Chain: stranger.certPEM()}, testNow, domains)
	wantErr(t, err, "chain", "err.ssl.chain")
	_, _, err = CheckCertificate(CertInput{Key: key, Cert: l.certPEM(), Chain: expiredInter.certPEM() + root.certPEM()}, testNow, domains)
	wantErr(t, err, "chain", "err.ssl.chain")
	_, _, err = CheckCertificate(CertInput{Key: key, Cert: l.certPEM(), Chain: "-----BEGIN CERTIFICATE-----\nnope\n"}, testNow, domains)
	wantErr(t, err, "chain", "err.ssl.pem")
	_, _, err = CheckCertificate(CertInput{Key: key, Cert: l.certPEM(), Chain: strings.Repeat(inter.certPEM(), 11)}, testNow, domains)
	wantErr(t, err, "chain", "err.ssl.chain_long")
}

func TestUncoveredDomains(t *testing.T) {
	k := ecKey(t)
	c := leaf(t, k, nil, "example.com", "*.example.com")
	got := UncoveredDomains(c.certPEM(), []string{"example.com", "shop.example.com", "example.org"})
	if len(got) != 1 || got[0] != "example.org" {
		t.Fatalf("uncovered %v, want [example.org]", got)
	}
}

func TestCertSubjectClean(t *testing.T) {
	got, err := CertSubject{Company: " Müller GmbH ", City: "Köln", Country: "de", Email: "it@mueller.example"}.Clean()
	if err != nil || got.Company != "Müller GmbH" || got.Country != "DE" {
		t.Fatalf("%+v %v", got, err)
	}
	for _, c := range []struct {
		in         CertSubject
		field, key string
	}{
		{CertSubject{}, "company", "err.required"},
		{CertSubject{Company: "A\nB"}, "company", "err.text.control"},
		{CertSubject{Company: `A "quoted" firm`}, "company", "err.ssl.subject_chars"},
		{CertSubject{Company: "A", City: strings.Repeat("x", 65)}, "city", "err.text.long"},
		{CertSubject{Company: "A", Country: "Deutschland"}, "country", "err.ssl.country"},
		{CertSubject{Company: "A", Country: "D1"}, "country", "err.ssl.country"},
		{CertSubject{Company: "A", Email: "nope"}, "email", "err.email"},
	} {
		_, err := c.in.Clean()
		wantErr(t, err, c.field, c.key)
	}
}

func TestCheckFrontPage(t *testing.T) {
	if err := CheckFrontPage(ServiceSet{SvcPHP: 1}, true); err != nil {
		t.Fatalf("plain user refused: %v", err)
	}
	if err := CheckFrontPage(ServiceSet{SvcErrorFiles: 1, SvcProtectedDirs: 1}, false); err != nil {
		t.Fatalf("without FrontPage refused: %v", err)
	}
	for _, sv := range []Service{SvcErrorFiles, SvcProtectedDirs} {
		err := CheckFrontPage(ServiceSet{sv: 1}, true)
		var pe *Error
		if !errors.As(err, &pe) || pe.Kind != KindForbidden || pe.Field != sv.Field() || pe.Key != "err.frontpage.services" {
			t.Fatalf("%s with FrontPage: %v", sv, err)
		}
	}
}

func TestFrontPageLogin(t *testing.T) {
	if FrontPageLogin("web1", 1) != "web1fp" || FrontPageLogin("web1", 3) != "web1fp3" {
		t.Fatal(FrontPageLogin("web1", 1), FrontPageLogin("web1", 3))
	}
	for _, ok := range []string{"web1fp", "res1web0fp2", "fpfp"} {
		if err := ValidateFrontPageLogin(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"web1", "fp", "web1fpx", "Web1fp", "web 1fp", "web1fp\n", "../fp"} {
		if ValidateFrontPageLogin(bad) == nil {
			t.Errorf("%q passed", bad)
		}
	}
}

func TestActing(t *testing.T) {
	if (Actor{ID: 5, Role: RoleUser}).Acting() {
		t.Fatal("a user's own session is acting")
	}
	a := Actor{ID: 5, Role: RoleUser, ActingID: 2}
	if !a.Acting() {
		t.Fatal("a reseller's visit is not acting")
	}
	var pe *Error
	if err := a.CheckProtected("new"); !errors.As(err, &pe) || pe.Kind != KindForbidden || pe.Key != "err.acting.protected" {
		t.Fatalf("protected section open to a visit: %v", err)
	}
}
