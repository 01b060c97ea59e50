package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"kontor/internal/panel"
)

// slJournal counts the change journal's rows for a user and topic: the
// agent applies exactly what is journalled.
func slJournal(t *testing.T, s *Store, userID int64, what string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(s.q(`SELECT COUNT(*) FROM changes WHERE account_id = ? AND what = ?`), userID, what).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func slUser(t *testing.T, s *Store, a panel.Actor, nu NewUser) panel.User {
	t.Helper()
	nu.ResellerID, nu.PasswordHash = a.ID, "h"
	res, err := s.CreateUser(context.Background(), a, nu)
	if err != nil {
		t.Fatal(err)
	}
	return res.User
}

func slActor(u panel.User) panel.Actor {
	return panel.Actor{ID: u.ID, Role: panel.RoleUser, Login: u.Login, ResellerID: u.ParentID}
}

func TestFrontPageStore(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		lim := panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}
		svc := panel.ServiceSet{panel.SvcPHP: 1, panel.SvcErrorFiles: 1, panel.SvcProtectedDirs: 1}
		r1, a1 := reseller(t, s, lim, svc)
		_, a2 := reseller(t, s, lim, svc)
		u1 := slUser(t, s, a1, NewUser{Profile: panel.Profile{Name: "Plain"}, Services: panel.ServiceSet{panel.SvcPHP: 1}})
		u2 := slUser(t, s, a1, NewUser{Services: panel.ServiceSet{panel.SvcErrorFiles: 1}})
		u3 := slUser(t, s, a1, NewUser{Services: panel.ServiceSet{panel.SvcProtectedDirs: 1}})
		u4 := slUser(t, s, a2, NewUser{})

		login, err := s.SetFrontPageOn(ctx, a1, u1.ID, "hash1")
		if err != nil || login != u1.Login+"fp" {
			t.Fatalf("on: %q %v", login, err)
		}
		fp, err := s.FrontPage(ctx, slActor(u1), u1.ID)
		if err != nil || !fp.On || fp.Login != login {
			t.Fatalf("user sees %+v %v", fp, err)
		}
		wantKind(t, slErrS(s.SetFrontPageOn(ctx, a1, u1.ID, "h")), panel.KindConflict, "err.frontpage.already_on")

		// Custom error files or protected directories keep FrontPage off,
		// naming the service; nothing is stored or journalled.
		pe := wantKind(t, slErrS(s.SetFrontPageOn(ctx, a1, u2.ID, "h")), panel.KindForbidden, "err.frontpage.services")
		if pe.Field != panel.SvcErrorFiles.Field() {
			t.Errorf("field %q", pe.Field)
		}
		pe = wantKind(t, slErrS(s.SetFrontPageOn(ctx, a1, u3.ID, "h")), panel.KindForbidden, "err.frontpage.services")
		if pe.Field != panel.SvcProtectedDirs.Field() {
			t.Errorf("field %q", pe.Field)
		}
		for _, u := range []panel.User{u2, u3} {
			if fp, _ := s.FrontPage(ctx, a1, u.ID); fp.On || slJournal(t, s, u.ID, "frontpage") != 0 {
				t.Fatalf("%s: refused FrontPage left traces", u.Login)
			}
		}

		// Nobody outside the subtree, no user and no visiting reseller
		// switches it.
		wantKind(t, slErrS(s.SetFrontPageOn(ctx, a2, u1.ID, "h")), panel.KindNotFound, "")
		wantKind(t, s.SetFrontPageOff(ctx, a2, u1.ID), panel.KindNotFound, "")
		wantKind(t, slErrS(s.SetFrontPageOn(ctx, a1, u4.ID, "h")), panel.KindNotFound, "")
		wantKind(t, slErrS(s.SetFrontPageOn(ctx, a1, r1.ID, "h")), panel.KindNotFound, "")
		wantKind(t, slErrS(s.SetFrontPageOn(ctx, slActor(u1), u1.ID, "h")), panel.KindForbidden, "")
		acting := slActor(u1)
		acting.ActingID = r1.ID
		wantKind(t, s.SetFrontPageOff(ctx, acting, u1.ID), panel.KindForbidden, "")
		if _, err := s.FrontPage(ctx, a2, u1.ID); panel.ErrorKind(err) != panel.KindNotFound {
			t.Fatalf("res2 reads res1's FrontPage: %v", err)
		}

		// A taken publishing login gets a number.
		if _, err := s.CreateReseller(ctx, admin, NewReseller{Login: panel.UserLogin(5) + "fp", PasswordHash: "h", DefaultHash: "h", Limits: lim, Services: svc}); err != nil {
			t.Fatal(err)
		}
		u5 := slUser(t, s, a1, NewUser{})
		if u5.Login != panel.UserLogin(5) {
			t.Fatalf("numbering changed: %s", u5.Login)
		}
		if login5, err := s.SetFrontPageOn(ctx, a1, u5.ID, "h"); err != nil || login5 != u5.Login+"fp2" {
			t.Fatalf("clash: %q %v", login5, err)
		}

		// The list: paged, searched, with state and blockers.
		rows, total, err := s.FrontPageUsers(ctx, a1, UserFilter{})
		if err != nil || total != 5 || len(rows) != 5 {
			t.Fatalf("list: %d of %d, %v", len(rows), total, err)
		}
		byLogin := map[string]FrontPageRow{}
		for _, r := range rows {
			byLogin[r.Login] = r
		}
		if r := byLogin[u1.Login]; !r.On || r.FPLogin != login || r.Name != "Plain" || len(r.Blockers) != 0 {
			t.Errorf("u1 row %+v", r)
		}
		if r := byLogin[u2.Login]; r.On || len(r.Blockers) != 1 || r.Blockers[0] != panel.SvcErrorFiles {
			t.Errorf("u2 row %+v", r)
		}
		if rows, total, _ := s.FrontPageUsers(ctx, a1, UserFilter{Limit: 2, Offset: 2}); total != 5 || len(rows) != 2 {
			t.Errorf("page 2: %d of %d", len(rows), total)
		}
		if rows, total, _ := s.FrontPageUsers(ctx, a1, UserFilter{Search: "plain"}); total != 1 || rows[0].ID != u1.ID {
			t.Errorf("search: %+v", rows)
		}
		if _, total, _ := s.FrontPageUsers(ctx, a2, UserFilter{}); total != 2 {
			t.Errorf("res2 sees %d users, want its own 2", total)
		}
		wantKind(t, slErrList(s.FrontPageUsers(ctx, a2, UserFilter{ResellerID: r1.ID})), panel.KindNotFound, "")
		wantKind(t, slErrList(s.FrontPageUsers(ctx, slActor(u1), UserFilter{})), panel.KindForbidden, "")
		wantKind(t, slErrList(s.FrontPageUsers(ctx, a1, UserFilter{Search: "a\nb"})), panel.KindInvalid, "")

		// The user changes its publishing password; a visiting reseller
		// cannot (protected section), nor can a user without FrontPage.
		if err := s.SetFrontPagePassword(ctx, slActor(u1), "hash2"); err != nil {
			t.Fatal(err)
		}
		if id, h, err := s.FrontPageCredentials(ctx, login); err != nil || id != u1.ID || h != "hash2" {
			t.Fatalf("credentials: %d %q %v", id, h, err)
		}
		wantKind(t, s.SetFrontPagePassword(ctx, acting, "hash3"), panel.KindForbidden, "err.acting.protected")
		wantKind(t, s.SetFrontPagePassword(ctx, slActor(u4), "hash3"), panel.KindForbidden, "err.frontpage.off")
		wantKind(t, s.SetFrontPagePassword(ctx, a1, "hash3"), panel.KindForbidden, "")
		if _, h, _ := s.FrontPageCredentials(ctx, login); h != "hash2" {
			t.Fatal("refused password change stored")
		}
		// A locked user cannot publish.
		if err := s.SetStatus(ctx, a1, u1.ID, panel.StatusLocked); err != nil {
			t.Fatal(err)
		}
		wantKind(t, slErrCred(s.FrontPageCredentials(ctx, login)), panel.KindNotFound, "")
		if err := s.SetStatus(ctx, a1, u1.ID, panel.StatusEnabled); err != nil {
			t.Fatal(err)
		}

		// Off removes the login and password.
		if err := s.SetFrontPageOff(ctx, a1, u1.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.SetFrontPageOff(ctx, a1, u1.ID), panel.KindConflict, "err.frontpage.already_off")
		wantKind(t, slErrCred(s.FrontPageCredentials(ctx, login)), panel.KindNotFound, "")
		if n := slJournal(t, s, u1.ID, "frontpage"); n != 3 {
			t.Errorf("journal has %d frontpage changes for u1, want 3 (on, password, off)", n)
		}
		msgs, _, _ := s.Messages(ctx, a1, MessageFilter{})
		seen := map[string]bool{}
		for _, m := range msgs {
			seen[m.Key] = true
		}
		if !seen["msg.frontpage.on"] || !seen["msg.frontpage.off"] {
			t.Errorf("reseller messages %v", seen)
		}
		// Deleting the user takes its publishing login along.
		if err := s.DeleteAccount(ctx, a1, u5.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, slErrCred(s.FrontPageCredentials(ctx, u5.Login+"fp2")), panel.KindNotFound, "")
	})
}

func slErrS(_ string, err error) error { return err }

func slErrList[T any](_ T, _ int, err error) error { return err }

func slErrCred(_ int64, _ string, err error) error { return err }

// slBundle makes a checked self-signed certificate for names.
func slBundle(t *testing.T, names ...string) panel.CertBundle {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	b, _, err := panel.CheckCertificate(panel.CertInput{
		Key:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})),
		Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}, now, names)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func slCert(b panel.CertBundle) Certificate {
	return Certificate{KeyPEM: b.KeyPEM, CertPEM: b.CertPEM, ChainPEM: b.ChainPEM, Info: b.Info}
}

func TestSSLStore(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		lim := panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}
		svc := panel.ServiceSet{panel.SvcSSL: 1}
		r1, a1 := reseller(t, s, lim, svc)
		r2, a2 := reseller(t, s, lim, svc)
		shared, _ := s.AddIP(ctx, admin, "192.0.2.1", true, 0)
		ex1, _ := s.AddIP(ctx, admin, "192.0.2.10", false, r1.ID)
		ex2, _ := s.AddIP(ctx, admin, "192.0.2.11", false, r1.ID)
		ex3, _ := s.AddIP(ctx, admin, "192.0.2.12", false, r2.ID)
		u1 := slUser(t, s, a1, NewUser{Profile: panel.Profile{Name: "With IP"}, Services: svc, Domains: []NewDomain{{Name: "a.example"}, {Name: "b.example"}}})
		u2 := slUser(t, s, a1, NewUser{Domains: []NewDomain{{Name: "c.example"}}}) // no SSL service
		u3 := slUser(t, s, a1, NewUser{Services: svc, Domains: []NewDomain{{Name: "d.example"}}})
		slUser(t, s, a1, NewUser{Services: svc})
		u5 := slUser(t, s, a2, NewUser{Services: svc, Domains: []NewDomain{{Name: "e.example"}}})
		for _, x := range []struct {
			a      panel.Actor
			domain int64
			ip     int64
		}{{a1, u1.Domains[0].ID, ex1.ID}, {a1, u2.Domains[0].ID, ex2.ID}, {a1, u3.Domains[0].ID, shared.ID}, {a2, u5.Domains[0].ID, ex3.ID}} {
			if err := s.SetDomainIP(ctx, x.a, x.domain, x.ip); err != nil {
				t.Fatal(err)
			}
		}

		// Only users with a domain on an exclusive address are listed.
		rows, total, err := s.SSLUsers(ctx, a1, UserFilter{})
		if err != nil || total != 2 || len(rows) != 2 || rows[0].ID != u1.ID || rows[1].ID != u2.ID {
			t.Fatalf("list: %+v %d %v", rows, total, err)
		}
		if !rows[0].Service || rows[1].Service || rows[0].Cert != nil || len(rows[0].Domains) != 2 ||
			rows[0].Domains[0] != (SSLDomain{Name: "a.example", Address: "192.0.2.10", Exclusive: true}) || rows[0].Domains[1].Exclusive {
			t.Fatalf("rows %+v", rows)
		}
		if rows, total, _ := s.SSLUsers(ctx, a1, UserFilter{Search: "with ip"}); total != 1 || rows[0].ID != u1.ID {
			t.Errorf("search %+v", rows)
		}
		if _, total, _ := s.SSLUsers(ctx, a2, UserFilter{}); total != 1 {
			t.Errorf("res2 sees %d", total)
		}
		wantKind(t, slErrList(s.SSLUsers(ctx, slActor(u1), UserFilter{})), panel.KindForbidden, "")

		// Refused by id: no exclusive address, another reseller's user, a user.
		wantKind(t, slErrSSL(s.SSLUser(ctx, a1, u3.ID)), panel.KindForbidden, "err.ssl.no_exclusive_ip")
		wantKind(t, slErrSSL(s.SSLUser(ctx, a2, u1.ID)), panel.KindNotFound, "")
		wantKind(t, slErrSSL(s.SSLUser(ctx, slActor(u1), u1.ID)), panel.KindForbidden, "")

		b := slBundle(t, "a.example")
		wantKind(t, s.SetCertificate(ctx, a1, u2.ID, slCert(slBundle(t, "c.example"))), panel.KindForbidden, "err.ssl.service_off")
		wantKind(t, s.SetCertificate(ctx, a1, u3.ID, slCert(slBundle(t, "d.example"))), panel.KindForbidden, "err.ssl.no_exclusive_ip")
		wantKind(t, s.SetCertificate(ctx, a2, u1.ID, slCert(b)), panel.KindNotFound, "")
		bad := slCert(b)
		bad.KeyPEM = "junk"
		wantKind(t, s.SetCertificate(ctx, a1, u1.ID, bad), panel.KindInternal, "")
		for _, u := range []panel.User{u1, u2, u3} {
			if slJournal(t, s, u.ID, "ssl") != 0 {
				t.Fatalf("%s: refused certificate journalled", u.Login)
			}
		}
		if err := s.SetCertificate(ctx, a1, u1.ID, slCert(b)); err != nil {
			t.Fatal(err)
		}
		got, err := s.SSLUser(ctx, a1, u1.ID)
		if err != nil || got.Cert == nil || got.Cert.CertPEM != b.CertPEM || got.Cert.Info.Fingerprint != b.Info.Fingerprint ||
			got.Cert.Info.Subject != "CN=a.example" || strings.Join(got.Cert.Info.DNSNames, ",") != "a.example" || !got.Cert.Info.SelfSigned {
			t.Fatalf("stored %+v %v", got.Cert, err)
		}
		// The key is stored for the agent, never read back for a page.
		if got.Cert.KeyPEM != "" {
			t.Fatal("SSLUser returns the private key")
		}
		var key string
		if err := s.db.QueryRow(s.q(`SELECT key_pem FROM ssl_certs WHERE account_id = ?`), u1.ID).Scan(&key); err != nil || key != b.KeyPEM {
			t.Fatalf("stored key %v", err)
		}
		// Saving again replaces it.
		b2 := slBundle(t, "a.example", "b.example")
		if err := s.SetCertificate(ctx, a1, u1.ID, slCert(b2)); err != nil {
			t.Fatal(err)
		}
		rows, _, _ = s.SSLUsers(ctx, a1, UserFilter{})
		if rows[0].Cert == nil || rows[0].Cert.Subject != "CN=a.example" || !rows[0].Cert.SelfSigned {
			t.Fatalf("list after save: %+v", rows[0].Cert)
		}
		var n int
		_ = s.db.QueryRow(`SELECT COUNT(*) FROM ssl_certs`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d certificates stored, want 1", n)
		}
		wantKind(t, s.DeleteCertificate(ctx, a2, u1.ID), panel.KindNotFound, "")
		if err := s.DeleteCertificate(ctx, a1, u1.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.DeleteCertificate(ctx, a1, u1.ID), panel.KindNotFound, "")
		if got, _ := s.SSLUser(ctx, a1, u1.ID); got.Cert != nil {
			t.Fatal("certificate survived delete")
		}
		if n := slJournal(t, s, u1.ID, "ssl"); n != 3 {
			t.Errorf("journal: %d ssl changes, want 3", n)
		}
	})
}

func slErrSSL(_ SSLUser, err error) error { return err }

func TestMySQLStore(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		lim := panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard},
			panel.ResMySQL: {Value: 10, Mode: panel.ModeMaximum, AllowUnlimited: true}}
		r1, a1 := reseller(t, s, lim, nil)
		_, a2 := reseller(t, s, lim, nil)
		u1 := slUser(t, s, a1, NewUser{Limits: panel.Limits{panel.ResMySQL: 2}})
		u2 := slUser(t, s, a1, NewUser{})
		u3 := slUser(t, s, a1, NewUser{Limits: panel.Limits{panel.ResMySQL: -1}})
		rows, total, err := s.MySQLUsers(ctx, a1, UserFilter{})
		if err != nil || total != 2 || rows[0].ID != u1.ID || rows[0].Limit != 2 || rows[1].ID != u3.ID || rows[1].Limit != -1 || rows[0].External {
			t.Fatalf("list %+v %d %v", rows, total, err)
		}
		// The admin has not allowed it: refused, nothing stored.
		wantKind(t, s.SetMySQLExternal(ctx, a1, u1.ID, true), panel.KindForbidden, "err.mysql.not_allowed")
		if on, _ := s.MySQLExternal(ctx, a1, u1.ID); on || slJournal(t, s, u1.ID, "mysql") != 0 {
			t.Fatal("refused external access stored")
		}
		if err := s.SetResellerMySQLExternal(ctx, admin, r1.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMySQLExternal(ctx, a1, u1.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMySQLExternal(ctx, a1, u1.ID, true); err != nil { // no change, no journal
			t.Fatal(err)
		}
		wantKind(t, s.SetMySQLExternal(ctx, a1, u2.ID, true), panel.KindForbidden, "err.mysql.no_databases")
		wantKind(t, s.SetMySQLExternal(ctx, a2, u1.ID, false), panel.KindNotFound, "")
		wantKind(t, s.SetMySQLExternal(ctx, slActor(u1), u1.ID, false), panel.KindForbidden, "")
		wantKind(t, slErrBool(s.MySQLExternal(ctx, a2, u1.ID)), panel.KindNotFound, "")
		if rows, _, _ := s.MySQLUsers(ctx, a1, UserFilter{}); !rows[0].External || rows[1].External {
			t.Fatalf("after on: %+v", rows)
		}
		// Switching off always works, also after the admin withdrew the permission.
		if err := s.SetResellerMySQLExternal(ctx, admin, r1.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMySQLExternal(ctx, a1, u1.ID, false); err != nil {
			t.Fatal(err)
		}
		if n := slJournal(t, s, u1.ID, "mysql"); n != 2 {
			t.Errorf("journal: %d mysql changes, want 2", n)
		}
		if _, total, _ := s.MySQLUsers(ctx, a2, UserFilter{}); total != 0 {
			t.Errorf("res2 sees %d", total)
		}
	})
}

func slErrBool(_ bool, err error) error { return err }
