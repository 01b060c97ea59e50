package web

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// svlReseller is res1 as the store sees it.
func (f *fixture) svlReseller() panel.Actor {
	return panel.Actor{ID: f.res1.ID, Role: panel.RoleReseller, Login: f.res1.Login, ResellerID: f.res1.ID}
}

// svlOffer lets res1 offer the services and limits the lists are about.
func (f *fixture) svlOffer() {
	f.t.Helper()
	ctx := context.Background()
	svc := panel.ServiceSet{panel.SvcPHP: 1, panel.SvcFTP: 1, panel.SvcShell: 2, panel.SvcSSL: 1,
		panel.SvcErrorFiles: 1, panel.SvcProtectedDirs: 1}
	if err := f.app.Store.SetResellerServices(ctx, admin, f.res1.ID, svc); err != nil {
		f.t.Fatal(err)
	}
	if err := f.app.Store.SetResellerLimits(ctx, admin, f.res1.ID, panel.ResellerLimits{panel.ResUsers: {Value: 100, Mode: panel.ModeHard},
		panel.ResMySQL: {Value: 10, Mode: panel.ModeMaximum, AllowUnlimited: true}}); err != nil {
		f.t.Fatal(err)
	}
}

// svlUser creates a user of res1.
func (f *fixture) svlUser(name string, svc panel.ServiceSet, lim panel.Limits, domains ...string) panel.User {
	f.t.Helper()
	in := app.UserInput{Password: "userpw1", Profile: panel.Profile{Name: name}, Services: svc, Limits: lim}
	for _, d := range domains {
		in.Domains = append(in.Domains, store.NewDomain{Name: d, DNS: true})
	}
	res, _, err := f.app.CreateUser(context.Background(), f.svlReseller(), in)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.User
}

// svlText is the visible text with entities resolved ("user's").
func svlText(body string) string { return html.UnescapeString(text(body)) }

var secretRe = regexp.MustCompile(`<code class="secret">([^<]+)</code>`)

func TestFrontPageList(t *testing.T) {
	f := newFixture(t)
	f.svlOffer()
	ctx := context.Background()
	blocked := f.svlUser("Errol Errorpages", panel.ServiceSet{panel.SvcErrorFiles: 1}, nil)
	c := f.login(f.res1.Login, "/reseller/")

	code, body := c.get("/reseller/users/frontpage")
	if code != http.StatusOK || !strings.Contains(svlText(body), f.user1.Login+" Anna Alpha Off") {
		t.Fatalf("list: %d %s", code, svlText(body))
	}
	if !strings.Contains(svlText(body), "Not possible while this is on: Custom error files") {
		t.Errorf("the blocked user's row does not say why: %s", svlText(body))
	}
	// The tile on the Users overview is ready, not "coming".
	if _, body := c.get("/reseller/users/"); !strings.Contains(body, `href="/reseller/users/frontpage"`) {
		t.Error("Users overview does not link FrontPage")
	}

	// Switching on shows the login and a password, once.
	code, body, _ = c.post("/reseller/users/frontpage/"+itoa(f.user1.ID), url.Values{"on": {"1"}})
	m := secretRe.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil || !strings.Contains(svlText(body), "Publishing login "+f.user1.Login+"fp") ||
		!strings.Contains(svlText(body), "cannot be shown again") {
		t.Fatalf("switch on: %d %s", code, svlText(body))
	}
	pw := m[1]
	id, hash, err := f.app.Store.FrontPageCredentials(ctx, f.user1.Login+"fp")
	if ok, _ := auth.Verify(hash, pw); err != nil || id != f.user1.ID || !ok || strings.Contains(hash, pw) {
		t.Fatalf("stored credentials do not check the shown password: %v", err)
	}
	_, body = c.get("/reseller/users/frontpage")
	if !strings.Contains(svlText(body), f.user1.Login+" Anna Alpha On "+f.user1.Login+"fp Switch off") || strings.Contains(body, pw) {
		t.Fatalf("list after on: %s", svlText(body))
	}
	// Switching on again says so.
	code, body, _ = c.post("/reseller/users/frontpage/"+itoa(f.user1.ID), url.Values{"on": {"1"}})
	if code != http.StatusConflict || !strings.Contains(svlText(body), "FrontPage is already on for this user") {
		t.Errorf("twice on: %d %s", code, svlText(body))
	}

	// Custom error files refuse it, naming both rules; nothing is issued.
	code, body, _ = c.post("/reseller/users/frontpage/"+itoa(blocked.ID), url.Values{"on": {"1"}, "q": {"errol"}})
	if code != http.StatusForbidden || !strings.Contains(svlText(body),
		"Custom error files is on: FrontPage can only be used while custom error files and password-protected directories are both off.") ||
		!strings.Contains(body, `class="invalid"`) || !strings.Contains(body, `value="errol"`) {
		t.Fatalf("blocked: %d %s", code, svlText(body))
	}
	if fp, _ := f.app.Store.FrontPage(ctx, f.svlReseller(), blocked.ID); fp.On {
		t.Fatal("blocked user got FrontPage")
	}

	// Off, back to the list with its search.
	code, _, loc := c.post("/reseller/users/frontpage/"+itoa(f.user1.ID), url.Values{"on": {"0"}, "q": {"anna"}})
	if code != http.StatusSeeOther || loc != "/reseller/users/frontpage?q=anna&done=fp_off" {
		t.Fatalf("off: %d %s", code, loc)
	}
	_, body = c.get(loc)
	if !strings.Contains(svlText(body), "FrontPage has been switched off.") || !strings.Contains(svlText(body), "1 users") {
		t.Errorf("after off: %s", svlText(body))
	}
	if _, _, err := f.app.Store.FrontPageCredentials(ctx, f.user1.Login+"fp"); panel.ErrorKind(err) != panel.KindNotFound {
		t.Fatalf("publishing login survives off: %v", err)
	}
	// A toggle is on=1 or on=0, nothing else.
	if code, _, _ := c.post("/reseller/users/frontpage/"+itoa(f.user1.ID), url.Values{"on": {"maybe"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("on=maybe: %d", code)
	}
	// Another reseller's user: not found, and nothing changes.
	code, _, _ = c.post("/reseller/users/frontpage/"+itoa(f.user2.ID), url.Values{"on": {"1"}})
	if code != http.StatusNotFound {
		t.Errorf("foreign user: %d", code)
	}
	if fp, _ := f.app.Store.FrontPage(ctx, admin, f.user2.ID); fp.On {
		t.Fatal("foreign user switched")
	}
	// Paging with many users stays a page.
	for i := 0; i < 30; i++ {
		f.svlUser("Bulk", nil, nil)
	}
	_, body = c.get("/reseller/users/frontpage?per=10&page=2")
	if n := strings.Count(body, `action="/reseller/users/frontpage/`); n != 10 || !strings.Contains(svlText(body), "2 / 4") {
		t.Errorf("page 2 has %d rows: %s", n, svlText(body))
	}
}

func TestFrontPageAPI(t *testing.T) {
	f := newFixture(t)
	f.svlOffer()
	blocked := f.svlUser("Pat Protected", panel.ServiceSet{panel.SvcProtectedDirs: 1}, nil)
	api := f.apiLogin(f.res1.Login)
	path := "/api/v1/users/" + itoa(f.user1.ID) + "/frontpage"

	code, body := api.do("PUT", path, `{"on":true}`)
	var on struct {
		Frontpage bool
		Login     string
		Password  string
	}
	if err := json.Unmarshal([]byte(body), &on); code != http.StatusOK || err != nil || !on.Frontpage || on.Login != f.user1.Login+"fp" || len(on.Password) < 6 {
		t.Fatalf("on: %d %s", code, body)
	}
	if code, body := api.do("PUT", path, `{"on":true}`); code != http.StatusConflict || !strings.Contains(body, `"kind": "conflict"`) {
		t.Errorf("twice: %d %s", code, body)
	}
	code, body = api.do("GET", "/api/v1/frontpage?q=anna", "")
	if code != http.StatusOK || !strings.Contains(body, `"frontpage_login": "`+on.Login+`"`) || !strings.Contains(body, `"total": 1`) {
		t.Errorf("list: %d %s", code, body)
	}
	if code, body := api.do("PUT", "/api/v1/users/"+itoa(blocked.ID)+"/frontpage", `{"on":true}`); code != http.StatusForbidden ||
		!strings.Contains(body, `"field": "service.protected_dirs"`) || !strings.Contains(body, "Password-protected directories is on") {
		t.Errorf("blocked: %d %s", code, body)
	}
	if code, body := api.do("PUT", path, `{}`); code != http.StatusUnprocessableEntity || !strings.Contains(body, `"field": "on"`) {
		t.Errorf("no on: %d %s", code, body)
	}
	if code, _ := api.do("PUT", "/api/v1/users/"+itoa(f.user2.ID)+"/frontpage", `{"on":true}`); code != http.StatusNotFound {
		t.Errorf("foreign: %d", code)
	}

	// The user changes its publishing password through the API.
	ua := f.apiLogin(f.user1.Login)
	if code, body := ua.do("PUT", "/api/v1/frontpage/password", `{"new":"fresh123","new2":"fresh124"}`); code != http.StatusUnprocessableEntity || !strings.Contains(body, `"field": "new2"`) {
		t.Errorf("mismatch: %d %s", code, body)
	}
	if code, body := ua.do("PUT", "/api/v1/frontpage/password", `{"new":"fresh123","new2":"fresh123"}`); code != http.StatusNoContent {
		t.Fatalf("password: %d %s", code, body)
	}
	_, hash, _ := f.app.Store.FrontPageCredentials(context.Background(), on.Login)
	if ok, _ := auth.Verify(hash, "fresh123"); !ok {
		t.Fatal("new publishing password not stored")
	}
	if code, body := api.do("PUT", path, `{"on":false}`); code != http.StatusOK || !strings.Contains(body, `"frontpage": false`) || strings.Contains(body, "password") {
		t.Errorf("off: %d %s", code, body)
	}
}

func TestUserFrontPagePage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.login(f.user1.Login, "/user/")
	// The user menu leads to it; off, the page says so and refuses.
	_, body := c.get("/user/")
	if !strings.Contains(body, `href="/user/frontpage"`) {
		t.Error("user menu lacks FrontPage")
	}
	_, body = c.get("/user/frontpage")
	if !strings.Contains(svlText(body), "FrontPage is not switched on for your account") || strings.Contains(body, `name="new2"`) {
		t.Fatalf("off: %s", svlText(body))
	}
	code, body, _ := c.post("/user/frontpage", url.Values{"new": {"abcdef1"}, "new2": {"abcdef1"}})
	if code != http.StatusForbidden || !strings.Contains(svlText(body), "FrontPage is not switched on for this account.") {
		t.Fatalf("off, post: %d %s", code, svlText(body))
	}

	if _, err := f.app.SetFrontPage(ctx, f.svlReseller(), f.user1.ID, true); err != nil {
		t.Fatal(err)
	}
	_, body = c.get("/user/frontpage")
	if !strings.Contains(svlText(body), "Publishing login "+f.user1.Login+"fp") || !strings.Contains(body, `name="new2"`) ||
		strings.Contains(body, `name="old"`) {
		t.Fatalf("on: %s", svlText(body))
	}
	for _, bad := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"new": {"abc"}, "new2": {"abc"}}, "The password must have at least 6 and at most 12 characters."},
		{url.Values{"new": {"abcdef1"}, "new2": {"abcdef2"}}, "The two new passwords differ."},
		{url.Values{"new": {"abc\ndef1"}, "new2": {"abc\ndef1"}}, "Control characters are not allowed in a password."},
	} {
		code, body, _ := c.post("/user/frontpage", bad.form)
		if code != http.StatusUnprocessableEntity || !strings.Contains(svlText(body), bad.want) {
			t.Errorf("%v: %d %s", bad.form, code, svlText(body))
		}
	}
	code, _, loc := c.post("/user/frontpage", url.Values{"new": {"Publish42"}, "new2": {"Publish42"}})
	if code != http.StatusSeeOther {
		t.Fatalf("change: %d", code)
	}
	if _, body := c.get(loc); !strings.Contains(svlText(body), "The publishing password has been changed.") {
		t.Errorf("after change: %s", svlText(body))
	}
	_, hash, _ := f.app.Store.FrontPageCredentials(ctx, f.user1.Login+"fp")
	if ok, _ := auth.Verify(hash, "Publish42"); !ok {
		t.Fatal("publishing password not changed")
	}
}

// svlPair makes an ECDSA key and a self-signed certificate for names,
// valid from..until, as PEM.
func svlPair(t *testing.T, from, until time.Time, names ...string) (keyPEM, certPEM string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return svlPEM(t, k), svlCert(t, k, from, until, names...)
}

func svlPEM(t *testing.T, k crypto.Signer) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func svlCert(t *testing.T, k crypto.Signer, from, until time.Time, names ...string) string {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0], Organization: []string{"Paste Ltd"}},
		DNSNames: names, NotBefore: from, NotAfter: until}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// keyBody is a piece of a PEM key's base64 that must never reach a page.
func keyBody(keyPEM string) string { return strings.Split(keyPEM, "\n")[1][:40] }

func TestSSLPages(t *testing.T) {
	f := newFixture(t)
	f.svlOffer()
	ctx := context.Background()
	st := f.app.Store
	ex1, err := st.AddIP(ctx, admin, "192.0.2.10", false, f.res1.ID)
	if err != nil {
		t.Fatal(err)
	}
	ex2, _ := st.AddIP(ctx, admin, "192.0.2.11", false, f.res1.ID)
	shop := f.svlUser("Sam Shop", panel.ServiceSet{panel.SvcSSL: 1}, nil, "shop.example", "bakery.example")
	nossl := f.svlUser("Nora Nossl", nil, nil, "nossl.example")
	for _, x := range []struct{ d, ip int64 }{{shop.Domains[1].ID, ex1.ID}, {nossl.Domains[0].ID, ex2.ID}} {
		if err := st.SetDomainIP(ctx, f.svlReseller(), x.d, x.ip); err != nil {
			t.Fatal(err)
		}
	}
	c := f.login(f.res1.Login, "/reseller/")
	page := "/reseller/users/ssl/" + itoa(shop.ID)

	// The list: users with an exclusive address only.
	code, body := c.get("/reseller/users/ssl")
	if code != http.StatusOK || !strings.Contains(body, `href="`+page+`"`) || !strings.Contains(body, `href="/reseller/users/ssl/`+itoa(nossl.ID)+`"`) ||
		strings.Contains(body, `href="/reseller/users/ssl/`+itoa(f.user1.ID)+`"`) || !strings.Contains(svlText(body), "shop.example 192.0.2.10") {
		t.Fatalf("list: %d %s", code, svlText(body))
	}
	// A user without one is refused by id, with the reason.
	code, body = c.get("/reseller/users/ssl/" + itoa(f.user1.ID))
	if code != http.StatusForbidden || !strings.Contains(svlText(body), f.user1.Login+" has no domain on an exclusive IP address") {
		t.Fatalf("no exclusive IP: %d %s", code, svlText(body))
	}
	// Another reseller's user does not exist here.
	for _, p := range []string{"", "/self-signed", "/delete"} {
		var code int
		if p == "" {
			code, _ = c.get("/reseller/users/ssl/" + itoa(f.user2.ID))
		} else {
			code, _, _ = c.post("/reseller/users/ssl/"+itoa(f.user2.ID)+p, url.Values{"company": {"X"}})
		}
		if code != http.StatusNotFound {
			t.Errorf("foreign %q: %d", p, code)
		}
	}

	// A good paste: stored, shown without the key, the uncovered domain
	// named as a warning.
	now := time.Now()
	key, cert := svlPair(t, now.Add(-time.Hour), now.AddDate(0, 6, 0), "bakery.example", "www.bakery.example")
	code, _, loc := c.post(page, url.Values{"key": {key}, "cert": {cert}})
	if code != http.StatusSeeOther || loc != page+"?done=ssl_saved" {
		t.Fatalf("paste: %d %s", code, loc)
	}
	_, body = c.get(loc)
	tx := svlText(body)
	if !strings.Contains(tx, "The certificate has been stored.") || !strings.Contains(tx, "Subject CN=bakery.example,O=Paste Ltd") ||
		!strings.Contains(tx, "Names (SAN) bakery.example, www.bakery.example") ||
		!strings.Contains(tx, "The certificate does not cover these domains of the user: shop.example") {
		t.Fatalf("after paste: %s", tx)
	}
	if strings.Contains(body, "PRIVATE KEY-----\n") || strings.Contains(body, keyBody(key)) {
		t.Fatal("the page shows the private key")
	}
	saved, _ := st.SSLUser(ctx, f.svlReseller(), shop.ID)

	// Bad pastes: a clear message naming the field, nothing stored, the key
	// not echoed.
	otherKey, _ := svlPair(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), "bakery.example")
	expKey, expCert := svlPair(t, now.AddDate(-2, 0, 0), now.AddDate(0, 0, -3), "bakery.example")
	futKey, futCert := svlPair(t, now.AddDate(0, 0, 3), now.AddDate(1, 0, 0), "bakery.example")
	elseKey, elseCert := svlPair(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), "elsewhere.example")
	for _, bad := range []struct {
		name string
		form url.Values
		code int
		want string
	}{
		{"expired", url.Values{"key": {expKey}, "cert": {expCert}}, 422, "The certificate has expired: it was valid until"},
		{"not yet valid", url.Values{"key": {futKey}, "cert": {futCert}}, 422, "The certificate is not valid yet"},
		{"key of another certificate", url.Values{"key": {otherKey}, "cert": {cert}}, 422, "The private key does not belong to this certificate."},
		{"garbage", url.Values{"key": {key}, "cert": {"MIIB this is not a certificate"}}, 422, "This is not valid PEM text."},
		{"swapped", url.Values{"key": {cert}, "cert": {key}}, 422, "This is a certificate, not a private key. Did you swap the fields?"},
		{"no domain of the user", url.Values{"key": {elseKey}, "cert": {elseCert}}, 422, "The certificate covers none of the user's domains (bakery.example, shop.example)."},
		{"2 MB paste", url.Values{"key": {key}, "cert": {strings.Repeat("A", 2<<20)}}, 422, "The form is too large: at most 64 KiB may be pasted per field."},
		{"100 KB field", url.Values{"key": {key}, "cert": {strings.Repeat("A", 100<<10)}}, 422, "At most 64 KiB may be pasted into this field."},
	} {
		code, body, _ := c.post(page, bad.form)
		if code != bad.code || !strings.Contains(svlText(body), bad.want) {
			t.Errorf("%s: %d %s", bad.name, code, svlText(body))
			continue
		}
		for _, k := range []string{key, otherKey, expKey, futKey, elseKey} {
			if strings.Contains(body, keyBody(k)) {
				t.Errorf("%s: the error page echoes a private key", bad.name)
			}
		}
	}
	if now, _ := st.SSLUser(ctx, f.svlReseller(), shop.ID); now.Cert == nil || now.Cert.Info.Fingerprint != saved.Cert.Info.Fingerprint {
		t.Fatal("a refused paste changed the stored certificate")
	}

	// Self-signed from company details: all domains and their www. names.
	code, body, _ = c.post(page+"/self-signed", url.Values{"company": {"Muster GmbH"}, "country": {"Germany"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(svlText(body), "Enter the country as two letters") {
		t.Errorf("bad country: %d %s", code, svlText(body))
	}
	code, _, _ = c.post(page+"/self-signed", url.Values{"company": {"Muster GmbH"}, "department": {"IT"}, "city": {"Köln"},
		"state": {"NRW"}, "country": {"de"}, "email": {"it@muster.example"}})
	if code != http.StatusSeeOther {
		t.Fatalf("self-signed: %d", code)
	}
	got, _ := st.SSLUser(ctx, f.svlReseller(), shop.ID)
	blk, _ := pem.Decode([]byte(got.Cert.CertPEM))
	x, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if want := "bakery.example www.bakery.example shop.example www.shop.example"; strings.Join(x.DNSNames, " ") != want {
		t.Errorf("SANs %v, want %s", x.DNSNames, want)
	}
	for _, d := range []string{"bakery.example", "www.shop.example"} {
		if err := x.VerifyHostname(d); err != nil {
			t.Errorf("%s not covered: %v", d, err)
		}
	}
	if x.Subject.CommonName != "bakery.example" || x.Subject.Organization[0] != "Muster GmbH" || x.Subject.Country[0] != "DE" ||
		x.Subject.Locality[0] != "Köln" || x.Subject.OrganizationalUnit[0] != "IT" || x.EmailAddresses[0] != "it@muster.example" {
		t.Errorf("subject %v %v", x.Subject, x.EmailAddresses)
	}
	if pk, ok := x.PublicKey.(*ecdsa.PublicKey); !ok || pk.Curve != elliptic.P256() {
		t.Errorf("key %T", x.PublicKey)
	}
	if d := x.NotAfter.Sub(time.Now()); d < 364*24*time.Hour || d > 367*24*time.Hour || x.CheckSignatureFrom(x) != nil && x.CheckSignature(x.SignatureAlgorithm, x.RawTBSCertificate, x.Signature) != nil {
		t.Errorf("validity %v or signature", x.NotAfter)
	}
	_, body = c.get(page)
	if !strings.Contains(svlText(body), "self-signed") || strings.Contains(svlText(body), "does not cover") {
		t.Errorf("page after self-signed: %s", svlText(body))
	}

	// Without the SSL service: the page says why, saving is refused.
	_, body = c.get("/reseller/users/ssl/" + itoa(nossl.ID))
	if !strings.Contains(svlText(body), "The SSL service is off for "+nossl.Login) || strings.Contains(body, `name="cert"`) {
		t.Errorf("no SSL service page: %s", svlText(body))
	}
	code, body, _ = c.post("/reseller/users/ssl/"+itoa(nossl.ID)+"/self-signed", url.Values{"company": {"X"}})
	if code != http.StatusForbidden || !strings.Contains(svlText(body), "The SSL service is off for "+nossl.Login) {
		t.Errorf("no SSL service: %d %s", code, svlText(body))
	}

	// Delete.
	code, _, loc = c.post(page+"/delete", nil)
	if _, body := c.get(loc); code != http.StatusSeeOther || !strings.Contains(svlText(body), "The certificate has been deleted.") ||
		!strings.Contains(svlText(body), "Current certificate No certificate.") {
		t.Fatalf("delete: %d %s", code, svlText(body))
	}
}

func TestSSLAPI(t *testing.T) {
	f := newFixture(t)
	f.svlOffer()
	ctx := context.Background()
	ex, _ := f.app.Store.AddIP(ctx, admin, "192.0.2.20", false, f.res1.ID)
	shop := f.svlUser("Sam Shop", panel.ServiceSet{panel.SvcSSL: 1}, nil, "shop.example")
	if err := f.app.Store.SetDomainIP(ctx, f.svlReseller(), shop.Domains[0].ID, ex.ID); err != nil {
		t.Fatal(err)
	}
	api := f.apiLogin(f.res1.Login)
	path := "/api/v1/users/" + itoa(shop.ID) + "/ssl"
	now := time.Now()
	key, cert := svlPair(t, now.Add(-time.Hour), now.AddDate(0, 3, 0), "shop.example")
	body, _ := json.Marshal(map[string]string{"key": key, "cert": cert})
	code, out := f.apiDo(api, "PUT", path, string(body))
	if code != http.StatusOK || !strings.Contains(out, `"subject": "CN=shop.example,O=Paste Ltd"`) || !strings.Contains(out, `"uncovered": []`) ||
		strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, keyBody(key)) {
		t.Fatalf("paste: %d %s", code, out)
	}
	if code, out := api.do("GET", "/api/v1/ssl", ""); code != http.StatusOK || !strings.Contains(out, `"login": "`+shop.Login+`"`) || !strings.Contains(out, `"total": 1`) {
		t.Errorf("list: %d %s", code, out)
	}
	expKey, expCert := svlPair(t, now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1), "shop.example")
	body, _ = json.Marshal(map[string]string{"key": expKey, "cert": expCert})
	for _, bad := range []struct{ body, field string }{
		{string(body), "cert"},
		{`{}`, "mode"},
		{`{"key":"x","self_signed":{"company":"A"}}`, "mode"},
		{`{"self_signed":{"company":"A","country":"XYZ"}}`, "country"},
		{`{"key":"` + strings.Repeat("A", 2<<20) + `"}`, "body"},
		{`{"cert":1}`, "cert"},
	} {
		if code, out := api.do("PUT", path, bad.body); code != http.StatusUnprocessableEntity || !strings.Contains(out, `"field": "`+bad.field+`"`) {
			t.Errorf("%.60s: %d %s", bad.body, code, out)
		}
	}
	code, out = api.do("PUT", path, `{"self_signed":{"company":"Muster GmbH","country":"at"}}`)
	if code != http.StatusOK || !strings.Contains(out, `"self_signed": true`) || !strings.Contains(out, `"www.shop.example"`) || !strings.Contains(out, "C=AT") {
		t.Fatalf("self-signed: %d %s", code, out)
	}
	var got struct {
		Certificate struct {
			CertPEM string `json:"cert_pem"`
		}
	}
	_ = json.Unmarshal([]byte(out), &got)
	if blk, _ := pem.Decode([]byte(got.Certificate.CertPEM)); blk == nil {
		t.Fatal("no certificate PEM in the answer")
	} else if x, err := x509.ParseCertificate(blk.Bytes); err != nil || strings.Join(x.DNSNames, ",") != "shop.example,www.shop.example" {
		t.Fatalf("parsed back: %v %v", x, err)
	}
	// Refused by id: another reseller's user, a user without an exclusive address.
	if code, _ := api.do("GET", "/api/v1/users/"+itoa(f.user2.ID)+"/ssl", ""); code != http.StatusNotFound {
		t.Errorf("foreign: %d", code)
	}
	if code, out := api.do("GET", "/api/v1/users/"+itoa(f.user1.ID)+"/ssl", ""); code != http.StatusForbidden || !strings.Contains(out, "exclusive IP address") {
		t.Errorf("no exclusive: %d %s", code, out)
	}
	if code, _ := api.do("DELETE", path, ""); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if code, _ := api.do("DELETE", path, ""); code != http.StatusNotFound {
		t.Errorf("delete twice: %d", code)
	}
}

// apiDo is api.do for bodies built in the test.
func (f *fixture) apiDo(c *apiClient, method, path, body string) (int, string) {
	return c.do(method, path, body)
}

func TestMySQLList(t *testing.T) {
	f := newFixture(t)
	f.svlOffer()
	ctx := context.Background()
	db := f.svlUser("Dora Database", nil, panel.Limits{panel.ResMySQL: 3})
	c := f.login(f.res1.Login, "/reseller/")
	code, body := c.get("/reseller/users/mysql")
	if code != http.StatusOK || !strings.Contains(svlText(body), db.Login+" Dora Database 3 Off") ||
		!strings.Contains(svlText(body), "Your provider has not allowed external access") || strings.Contains(body, `action="/reseller/users/mysql/`) ||
		strings.Contains(svlText(body), "Anna Alpha") {
		t.Fatalf("list: %d %s", code, svlText(body))
	}
	code, body, _ = c.post("/reseller/users/mysql/"+itoa(db.ID), url.Values{"on": {"1"}})
	if code != http.StatusForbidden || !strings.Contains(svlText(body), "Your provider has not allowed external access to MySQL databases") {
		t.Fatalf("not allowed: %d %s", code, svlText(body))
	}
	if on, _ := f.app.Store.MySQLExternal(ctx, f.svlReseller(), db.ID); on {
		t.Fatal("stored although not allowed")
	}
	if err := f.app.Store.SetResellerMySQLExternal(ctx, admin, f.res1.ID, true); err != nil {
		t.Fatal(err)
	}
	code, _, loc := c.post("/reseller/users/mysql/"+itoa(db.ID), url.Values{"on": {"1"}})
	if _, body := c.get(loc); code != http.StatusSeeOther || !strings.Contains(svlText(body), "External MySQL access has been switched on.") ||
		!strings.Contains(svlText(body), db.Login+" Dora Database 3 On Switch off") {
		t.Fatalf("on: %d %s", code, svlText(body))
	}
	code, body, _ = c.post("/reseller/users/mysql/"+itoa(f.user1.ID), url.Values{"on": {"1"}})
	if code != http.StatusForbidden || !strings.Contains(svlText(body), f.user1.Login+" has no MySQL databases") {
		t.Errorf("no databases: %d %s", code, svlText(body))
	}
	if code, _, _ := c.post("/reseller/users/mysql/"+itoa(f.user2.ID), url.Values{"on": {"1"}}); code != http.StatusNotFound {
		t.Errorf("foreign: %d", code)
	}
	api := f.apiLogin(f.res1.Login)
	if code, out := api.do("GET", "/api/v1/mysql", ""); code != http.StatusOK || !strings.Contains(out, `"external_allowed": true`) || !strings.Contains(out, `"external": true`) {
		t.Errorf("api list: %d %s", code, out)
	}
	if code, out := api.do("PUT", "/api/v1/users/"+itoa(db.ID)+"/mysql-external", `{"on":false}`); code != http.StatusOK || !strings.Contains(out, `"external": false`) {
		t.Errorf("api off: %d %s", code, out)
	}
	if code, _ := api.do("PUT", "/api/v1/users/"+itoa(db.ID)+"/mysql-external", `{}`); code != http.StatusUnprocessableEntity {
		t.Errorf("api without on: %d", code)
	}
	if code, _ := api.do("PUT", "/api/v1/users/"+itoa(f.user2.ID)+"/mysql-external", `{"on":true}`); code != http.StatusNotFound {
		t.Errorf("api foreign: %d", code)
	}
}

var csrfValueRe = regexp.MustCompile(`name="csrf" value="[^"]+"`)

func TestVisitLoginPage(t *testing.T) {
	f := newFixture(t)
	login := f.user1.Login
	c := f.client()
	code, body := c.get("/" + login)
	if code != http.StatusOK || !strings.Contains(body, `value="`+login+`" readonly`) ||
		!strings.Contains(svlText(body), "As reseller, enter your reseller password to open this user's panel.") {
		t.Fatalf("/%s: %d %s", login, code, svlText(body))
	}
	// An unknown name gets the same page: nothing tells whether it exists.
	_, other := f.client().get("/nosuchuser")
	norm := func(b, name string) string {
		return csrfValueRe.ReplaceAllString(strings.ReplaceAll(b, name, "NAME"), "")
	}
	if norm(body, login) != norm(other, "nosuchuser") {
		t.Error("the page for an unknown login differs from a real one")
	}
	// The catch-all takes nothing from the other routes.
	for path, want := range map[string]int{"/login": 200, "/healthz": 200, "/static/style.css": 200, "/admin": 301, "/reseller": 301,
		"/static": 301, "/logout": 405, "/Web1": 404, "/favicon.ico": 404, "/a/b": 404} {
		code, body := f.client().get(path)
		if code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
		if path == "/login" && (!strings.Contains(body, `name="next"`) || strings.Contains(body, "readonly")) {
			t.Errorf("/login is not the plain login page")
		}
	}
	if code, body := f.client().get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %q", body)
	}

	// Another reseller's password does not open it; the page stays.
	code, body, _ = c.post("/"+login, url.Values{"login": {"admin"}, "password": {f.pw[f.res2.Login]}})
	if code != http.StatusUnauthorized || !strings.Contains(svlText(body), "Login or password is wrong.") || !strings.Contains(body, `value="`+login+`" readonly`) {
		t.Fatalf("res2's password: %d %s", code, svlText(body))
	}
	// Without the form's token: refused.
	if code, _, _ := f.client().post("/"+login, url.Values{"password": {f.pw[f.res1.Login]}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("forged: %d", code)
	}
	// The reseller's password opens the user's panel, marked as a visit;
	// the login field of the form cannot redirect it to another account.
	code, _, loc := c.post("/"+login, url.Values{"login": {f.res2.Login}, "password": {f.pw[f.res1.Login]}})
	if code != http.StatusSeeOther || loc != "/user/" {
		t.Fatalf("reseller password: %d %s", code, loc)
	}
	_, body = c.get("/user/")
	if !strings.Contains(svlText(body), login+" as reseller") {
		t.Fatalf("header not marked: %s", svlText(body))
	}
	msgs, _, _ := f.app.Store.Messages(context.Background(), f.svlReseller(), store.MessageFilter{})
	if len(msgs) == 0 || msgs[0].Key != "msg.reseller.visit" || msgs[0].Subject != login {
		t.Errorf("visit not recorded: %+v", msgs)
	}
	// FrontPage credentials are a protected section in a visit.
	if _, err := f.app.SetFrontPage(context.Background(), f.svlReseller(), f.user1.ID, true); err != nil {
		t.Fatal(err)
	}
	_, body = c.get("/user/frontpage")
	if !strings.Contains(body, `class="note error protected"`) || strings.Contains(body, `name="new2"`) {
		t.Errorf("visit sees the password form: %s", svlText(body))
	}
	code, body, _ = c.post("/user/frontpage", url.Values{"new": {"Visit123"}, "new2": {"Visit123"}})
	if code != http.StatusForbidden || !strings.Contains(svlText(body), "This is a protected section") {
		t.Errorf("visit changes the publishing password: %d %s", code, svlText(body))
	}

	// The user's own password there: the user's own session, no mark.
	u := f.client()
	u.get("/" + login)
	code, _, _ = u.post("/"+login, url.Values{"password": {f.pw[login]}})
	if _, body := u.get("/user/"); code != http.StatusSeeOther || strings.Contains(svlText(body), "as reseller") {
		t.Errorf("own password: %d %s", code, svlText(body))
	}
	// The reseller's own account (web0) opens the same way (ROLE-1).
	r := f.client()
	r.get("/" + panel.DefaultUserLogin(f.res1.Login))
	if code, _, loc := r.post("/"+panel.DefaultUserLogin(f.res1.Login), url.Values{"password": {f.pw[f.res1.Login]}}); code != http.StatusSeeOther || loc != "/user/" {
		t.Errorf("web0: %d %s", code, loc)
	}
}
