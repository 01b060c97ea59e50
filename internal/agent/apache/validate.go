package apache

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// This file re-validates everything that reaches a generated file. The
// checks are allow-lists: a value either matches a strict pattern and is
// used in its canonical form, or the user fails with the field's name.

// server is the checked, canonical form of agent.Server.
type server struct {
	shared     []string // "192.0.2.1:80", "[2001:db8::1]:80" (with Options.Port); sorted
	coldFusion string   // "127.0.0.1:8500", "" when none
}

// checkServer validates the server-wide facts.
// port is the port of the shared vhosts (Options.Port, already checked).
func checkServer(srv agent.Server, port uint16) (server, error) {
	var s server
	for i, ip := range srv.SharedIPv4 {
		a, err := checkIP(fmt.Sprintf("server.shared_ipv4[%d]", i), ip)
		if err != nil {
			return s, err
		}
		if !a.Is4() {
			return s, panel.Invalid(fmt.Sprintf("server.shared_ipv4[%d]", i), "err.ip.family")
		}
		s.shared = append(s.shared, hostPort(a, port))
	}
	for i, ip := range srv.SharedIPv6 {
		a, err := checkIP(fmt.Sprintf("server.shared_ipv6[%d]", i), ip)
		if err != nil {
			return s, err
		}
		if !a.Is6() {
			return s, panel.Invalid(fmt.Sprintf("server.shared_ipv6[%d]", i), "err.ip.family")
		}
		s.shared = append(s.shared, hostPort(a, port))
	}
	sort.Strings(s.shared)
	s.shared = dedup(s.shared)
	if srv.ColdFusion != "" {
		cf, err := checkHostPort("server.coldfusion", srv.ColdFusion)
		if err != nil {
			return s, err
		}
		s.coldFusion = cf
	}
	return s, nil
}

// checkIP parses an address with net/netip and refuses the forms that
// make no sense for a vhost: zones (they carry free text), the
// unspecified address, multicast and IPv4-mapped IPv6.
func checkIP(field, ip string) (netip.Addr, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() || a.Is4In6() {
		return netip.Addr{}, panel.Invalid(field, "err.ip.invalid")
	}
	return a, nil
}

// hostPort formats an address and port the way Apache reads them.
func hostPort(a netip.Addr, port uint16) string {
	return netip.AddrPortFrom(a, port).String()
}

// checkHostPort validates the ColdFusion engine's address: an IP address
// or a host name, and a port. It is only ever used as the target of
// mod_proxy, so nothing else (no scheme, no path) is accepted.
func checkHostPort(field, hp string) (string, error) {
	if ap, err := netip.ParseAddrPort(hp); err == nil {
		if _, err := checkIP(field, ap.Addr().String()); err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
			return "", panel.Invalid(field, "err.hostport.invalid")
		}
		return ap.String(), nil
	}
	i := strings.LastIndexByte(hp, ':')
	if i < 0 {
		return "", panel.Invalid(field, "err.hostport.invalid")
	}
	host, port := hp[:i], hp[i+1:]
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", panel.Invalid(field, "err.hostport.invalid")
	}
	if host != "localhost" {
		if d, err := panel.NormalizeDomain(field, host); err != nil || d != host {
			return "", panel.Invalid(field, "err.hostport.invalid")
		}
	}
	return host + ":" + port, nil
}

// dedup removes adjacent duplicates from a sorted slice.
func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// user is the checked, canonical form of agent.User.
type user struct {
	login    string
	home     string
	locked   bool
	php      bool
	upload   bool
	ssi      bool
	cgi      bool
	python   bool
	wap      bool
	listing  bool
	cf       bool // the service is on; whether a handler exists depends on the server
	errFiles bool
	protect  bool
	stats    bool // Webalizer pages behind Basic auth (STA-4)
	ssl      bool // the service is on and a certificate exists
	wildcard bool
	domains  []domain
	certPEM  string // certificate with the chain appended, canonical PEM
	keyPEM   string
	fp       *frontPage
}

type domain struct {
	name    string
	display string // Unicode form, for a comment only
	ip      string // exclusive address without port, canonical; "" for shared
	ipAddr  netip.Addr
}

type frontPage struct {
	login string
	hash  string
}

// sslFiles reports whether some vhost refers to the certificate files.
func (u *user) sslFiles() bool {
	if !u.ssl {
		return false
	}
	for _, d := range u.domains {
		if d.ip != "" {
			return true
		}
	}
	return false
}

// checkUser validates one user and returns its canonical form.
func checkUser(u agent.User, opt Options) (*user, error) {
	if err := panel.ValidateLogin("login", u.Login); err != nil {
		return nil, err
	}
	if err := agent.CheckPath("home", u.Home, opt.HomeBase); err != nil {
		return nil, err
	}
	if err := u.Services.Validate(); err != nil {
		return nil, err
	}
	cu := &user{
		login:    u.Login,
		home:     u.Home,
		locked:   u.Locked,
		php:      u.Services.On(panel.SvcPHP),
		upload:   u.Services.On(panel.SvcPHP) && u.Services.On(panel.SvcPHPUpload),
		ssi:      u.Services.On(panel.SvcSSI),
		cgi:      u.Services.On(panel.SvcCGI),
		python:   u.Services.On(panel.SvcPython),
		wap:      u.Services.On(panel.SvcWAP),
		listing:  u.Services.On(panel.SvcDirListing),
		cf:       u.Services.On(panel.SvcColdFusion),
		errFiles: u.Services.On(panel.SvcErrorFiles),
		protect:  u.Services.On(panel.SvcProtectedDirs),
		stats:    u.Services.On(panel.SvcWebalizer),
		wildcard: u.Limits.Get(panel.ResWildcard) != 0,
	}
	seen := make(map[string]bool, len(u.Domains))
	cu.domains = make([]domain, 0, len(u.Domains))
	for i, d := range u.Domains {
		field := fmt.Sprintf("domains[%d].name", i)
		n, err := panel.NormalizeDomain(field, d.Name)
		if err != nil {
			return nil, err
		}
		// The stored form is already normalised; anything else means the
		// row did not come through the panel's validation.
		if n != d.Name {
			return nil, panel.Invalid(field, "err.domain.not_normalized")
		}
		if seen[n] {
			return nil, panel.Conflict(field, "err.domain.taken")
		}
		seen[n] = true
		cd := domain{name: n, display: panel.DisplayDomain(n)}
		if d.IP != "" {
			a, err := checkIP(fmt.Sprintf("domains[%d].ip", i), d.IP)
			if err != nil {
				return nil, err
			}
			cd.ip, cd.ipAddr = a.String(), a
		}
		cu.domains = append(cu.domains, cd)
	}
	// Deeper names first: Apache gives a request to the first vhost whose
	// name or alias matches, so sub.example.com must come before the
	// *.example.com alias of example.com. Then by name, for stable output.
	sort.Slice(cu.domains, func(i, j int) bool {
		a, b := cu.domains[i].name, cu.domains[j].name
		if la, lb := strings.Count(a, "."), strings.Count(b, "."); la != lb {
			return la > lb
		}
		return a < b
	})
	if u.Services.On(panel.SvcSSL) && u.SSL != nil {
		cert, key, err := checkCert(u.SSL)
		if err != nil {
			return nil, err
		}
		cu.ssl, cu.certPEM, cu.keyPEM = true, cert, key
	}
	if u.FrontPage != nil {
		if err := panel.ValidateFrontPageLogin(u.FrontPage.Login); err != nil {
			return nil, err
		}
		if !bcryptHash(u.FrontPage.Hash) {
			return nil, panel.Invalid("frontpage_hash", "err.hash.format")
		}
		cu.fp = &frontPage{login: u.FrontPage.Login, hash: u.FrontPage.Hash}
	}
	return cu, nil
}

// bcryptHash accepts exactly the "$2a$"/"$2b$"/"$2y$" form Apache
// verifies: cost 04..31 and 53 characters of bcrypt's base64. The '$'
// signs are part of the format; the file is read by Apache, never a shell.
func bcryptHash(h string) bool {
	if len(h) != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$' {
		return false
	}
	if h[2] != 'a' && h[2] != 'b' && h[2] != 'y' {
		return false
	}
	cost, err := strconv.Atoi(h[4:6])
	if err != nil || cost < 4 || cost > 31 {
		return false
	}
	for i := 7; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '/') {
			return false
		}
	}
	return true
}

// checkCert parses the key pair and the chain and returns canonical PEM
// re-encoded from the parsed blocks, so no byte outside a PEM block (text
// before or after, headers) reaches a file, and Apache never starts with a
// certificate that does not belong to its key.
func checkCert(c *agent.Certificate) (cert, key string, err error) {
	if len(c.CertPEM) > panel.MaxPEMLen || len(c.KeyPEM) > panel.MaxPEMLen || len(c.ChainPEM) > panel.MaxPEMLen {
		return "", "", panel.Invalid("ssl", "err.pem.long")
	}
	certs, err := pemBlocks("ssl.cert", c.CertPEM, "CERTIFICATE", 1)
	if err != nil {
		return "", "", err
	}
	var chain []*pem.Block
	if strings.TrimSpace(c.ChainPEM) != "" {
		if chain, err = pemBlocks("ssl.chain", c.ChainPEM, "CERTIFICATE", 10); err != nil {
			return "", "", err
		}
	}
	keys, err := pemBlocks("ssl.key", c.KeyPEM, "", 1)
	if err != nil {
		return "", "", err
	}
	for _, b := range append(certs, chain...) {
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return "", "", panel.Invalid("ssl.cert", "err.cert.parse")
		}
	}
	switch keys[0].Type {
	case "PRIVATE KEY":
		_, err = x509.ParsePKCS8PrivateKey(keys[0].Bytes)
	case "RSA PRIVATE KEY":
		_, err = x509.ParsePKCS1PrivateKey(keys[0].Bytes)
	case "EC PRIVATE KEY":
		_, err = x509.ParseECPrivateKey(keys[0].Bytes)
	default:
		err = fmt.Errorf("key type %q", keys[0].Type)
	}
	if err != nil {
		return "", "", panel.Invalid("ssl.key", "err.key.parse")
	}
	var cb bytes.Buffer
	for _, b := range append(certs, chain...) {
		pem.Encode(&cb, &pem.Block{Type: b.Type, Bytes: b.Bytes})
	}
	kb := pem.EncodeToMemory(&pem.Block{Type: keys[0].Type, Bytes: keys[0].Bytes})
	if _, err := tls.X509KeyPair(cb.Bytes(), kb); err != nil {
		return "", "", panel.Invalid("ssl.key", "err.cert.key_mismatch")
	}
	return cb.String(), string(kb), nil
}

// pemBlocks decodes between 1 and max PEM blocks of type typ ("" for any
// private-key type) and refuses anything but whitespace around them and
// PEM headers inside them.
func pemBlocks(field, s, typ string, max int) ([]*pem.Block, error) {
	// pem.Decode would skip text before a block; a paste that does not
	// start with one did not come through the panel's canonical encoding.
	if !strings.HasPrefix(strings.TrimSpace(s), "-----BEGIN ") {
		return nil, panel.Invalid(field, "err.pem.invalid")
	}
	rest := []byte(s)
	var out []*pem.Block
	for {
		b, r := pem.Decode(rest)
		if b == nil {
			break
		}
		if len(b.Headers) > 0 || (typ != "" && b.Type != typ) || (typ == "" && !strings.HasSuffix(b.Type, "PRIVATE KEY")) {
			return nil, panel.Invalid(field, "err.pem.type")
		}
		out = append(out, b)
		rest = r
	}
	if len(out) == 0 || len(out) > max || len(bytes.TrimSpace(rest)) > 0 {
		return nil, panel.Invalid(field, "err.pem.invalid")
	}
	return out, nil
}
