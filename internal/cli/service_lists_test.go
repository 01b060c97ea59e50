package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// svlFiles writes a key and a self-signed certificate for names, valid
// from..until, and returns their paths.
func svlFiles(t *testing.T, from, until time.Time, names ...string) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: from, NotAfter: until}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	dir := t.TempDir()
	kp, cp := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(kp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return kp, cp
}

func TestUserServiceCommands(t *testing.T) {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	ctx := context.Background()
	st := h.store()
	a := app.New(st, nil)
	a.Hasher = cheap
	res, _, err := a.CreateReseller(ctx, admin, app.ResellerInput{Password: "respass1",
		Limits:   panel.ResellerLimits{panel.ResUsers: {Value: 5, Mode: panel.ModeHard}, panel.ResMySQL: {Value: 5, Mode: panel.ModeMaximum}},
		Services: panel.ServiceSet{panel.SvcSSL: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ra := panel.Actor{ID: res.ID, Role: panel.RoleReseller, ResellerID: res.ID}
	cr, _, err := a.CreateUser(ctx, ra, app.UserInput{Password: "userpw1", Services: panel.ServiceSet{panel.SvcSSL: 1},
		Limits: panel.Limits{panel.ResMySQL: 2}, Domains: []store.NewDomain{{Name: "shop.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	u := cr.User
	ip, err := st.AddIP(ctx, admin, "192.0.2.30", false, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetDomainIP(ctx, ra, u.Domains[0].ID, ip.ID); err != nil {
		t.Fatal(err)
	}

	// FrontPage: the password is printed once and only its hash stored.
	r := h.must(h.dbRun("user", "frontpage", u.Login, "on"))
	pw := field(r.out, "password")
	_, hash, err := st.FrontPageCredentials(ctx, field(r.out, "login"))
	if ok, _ := auth.Verify(hash, pw); err != nil || field(r.out, "login") != u.Login+"fp" || !ok {
		t.Fatalf("frontpage on: %q %v", r.out, err)
	}
	if r := h.dbRun("user", "frontpage", u.Login, "maybe"); r.code != 2 || !strings.Contains(r.errOut, "on or off") {
		t.Errorf("bad state: %+v", r)
	}
	if r := h.dbRun("user", "frontpage", "web99", "on"); r.code != 1 {
		t.Errorf("unknown user: %+v", r)
	}
	h.must(h.dbRun("user", "frontpage", u.Login, "off"))

	// MySQL external access needs the admin's permission for the reseller.
	if r := h.dbRun("user", "mysql-external", u.Login, "on"); r.code != 1 || !strings.Contains(r.errOut, "Your provider has not allowed external access") {
		t.Fatalf("not allowed: %+v", r)
	}
	if err := st.SetResellerMySQLExternal(ctx, admin, res.ID, true); err != nil {
		t.Fatal(err)
	}
	if r := h.must(h.dbRun("user", "mysql-external", u.Login, "on")); !strings.Contains(r.out, "mysql-external: on") {
		t.Errorf("on: %q", r.out)
	}

	// SSL from files; the key is never printed.
	now := time.Now()
	kp, cp := svlFiles(t, now.Add(-time.Hour), now.AddDate(0, 6, 0), "shop.example")
	r = h.must(h.dbRun("user", "ssl", u.Login, "--key", kp, "--cert", cp))
	if !strings.Contains(r.out, "subject:     CN=shop.example") || strings.Contains(r.out, "PRIVATE") {
		t.Fatalf("ssl: %q", r.out)
	}
	ekp, ecp := svlFiles(t, now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1), "shop.example")
	if r := h.dbRun("user", "ssl", u.Login, "--key", ekp, "--cert", ecp); r.code != 1 || !strings.Contains(r.errOut, "cert: The certificate has expired") {
		t.Errorf("expired: %+v", r)
	}
	if r := h.dbRun("user", "ssl", u.Login, "--key", kp, "--self-signed"); r.code != 2 {
		t.Errorf("two modes: %+v", r)
	}
	huge := filepath.Join(t.TempDir(), "big.pem")
	_ = os.WriteFile(huge, make([]byte, 2<<20), 0o600)
	if r := h.dbRun("user", "ssl", u.Login, "--key", huge, "--cert", cp); r.code != 2 || !strings.Contains(r.errOut, "larger than 64 KiB") {
		t.Errorf("2 MB file: %+v", r)
	}
	r = h.must(h.dbRun("user", "ssl", u.Login, "--self-signed", "--company", "Muster GmbH", "--country", "de"))
	if !strings.Contains(r.out, "names:       shop.example, www.shop.example") || !strings.Contains(r.out, "self-signed: true") {
		t.Errorf("self-signed: %q", r.out)
	}
	h.must(h.dbRun("user", "ssl", u.Login, "--delete"))
	if r := h.must(h.dbRun("user", "ssl", u.Login)); !strings.Contains(r.out, "certificate: none") {
		t.Errorf("after delete: %q", r.out)
	}
}
