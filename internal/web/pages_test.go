package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kontor/internal/app"
	"kontor/internal/panel"
)

func TestResellerMenusAndOverview(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	_, body := c.get("/reseller/general/")
	tx := text(body)
	// Five menus in the navigation (GEN-1).
	for _, m := range []string{"General", "Templates", "Settings", "Users", "Stats"} {
		if !strings.Contains(body, "<summary>"+m+"</summary>") {
			t.Errorf("menu %s missing", m)
		}
	}
	// General's overview links Stats and Traffic and shows the resource table.
	for _, want := range []string{`href="/reseller/stats/users"`, `href="/reseller/stats/traffic"`, `href="/reseller/general/password"`} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
	// user1 got 1200 MB of storage against a maximum of 1000: highlighted.
	if !strings.Contains(body, `<tr class="over">
    <th scope="row">Storage space (MB)</th>`) {
		t.Errorf("storage row not highlighted:\n%s", body)
	}
	if !strings.Contains(tx, "Storage space (MB) 0 1200 (1000)") {
		t.Errorf("storage row reads wrong: %s", tx)
	}
	if !strings.Contains(tx, "Users 1 1 (10 hard)") {
		t.Errorf("users row reads wrong: %s", tx)
	}
	// Every menu overview and every tool page answers.
	for _, m := range resellerMenus() {
		if code, b := c.get(m.URL); code != 200 || !strings.Contains(b, `class="tiles"`) {
			t.Errorf("%s: %d", m.URL, code)
		}
		for _, tl := range m.Tools {
			if code, _ := c.get(tl.URL); code != 200 {
				t.Errorf("%s: %d", tl.URL, code)
			}
		}
	}
	if code, _ := c.get("/reseller/nosuchmenu/"); code != 404 {
		t.Errorf("unknown menu: %d", code)
	}
}

func TestUserListSearch(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	_, body := c.get("/reseller/users/list?q=alpha")
	tx := text(body)
	if !strings.Contains(tx, "1 users") || !strings.Contains(tx, f.user1.Login) || !strings.Contains(tx, "alpha.example") {
		t.Errorf("search alpha: %s", tx)
	}
	_, body = c.get("/reseller/users/list")
	if !strings.Contains(text(body), "2 users") || !strings.Contains(text(body), "own account") {
		t.Errorf("list: %s", text(body))
	}
	code, body := c.get("/reseller/users/list?q=" + url.QueryEscape(strings.Repeat("x", 300)))
	if code != 200 || !strings.Contains(text(body), "At most 200 characters") {
		t.Errorf("overlong search: %d %s", code, text(body))
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	other := f.login(f.res1.Login, "/reseller/")
	c.get("/reseller/general/password")
	cases := []struct {
		old, n1, n2, want string
	}{
		{"wrong", "newpass1", "newpass1", "The old password is wrong."},
		{"res1pass", "short", "short", "The password must have at least 6 and at most 12 characters."},
		{"res1pass", "muchtoolongpassword", "muchtoolongpassword", "at most 12 characters"},
		{"res1pass", "newpass1", "newpass2", "The two new passwords differ."},
	}
	for _, cs := range cases {
		code, body, _ := c.post("/reseller/general/password", url.Values{"old": {cs.old}, "new": {cs.n1}, "new2": {cs.n2}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), cs.want) {
			t.Errorf("%+v: %d %s", cs, code, text(body))
		}
	}
	code, _, loc := c.post("/reseller/general/password", url.Values{"old": {"res1pass"}, "new": {"newpass1"}, "new2": {"newpass1"}})
	if code != http.StatusSeeOther {
		t.Fatalf("change: %d", code)
	}
	_, body := c.get(loc)
	if !strings.Contains(text(body), "Your password has been changed.") {
		t.Errorf("no confirmation: %s", text(body))
	}
	// The other session ended; the new password works, the old does not.
	if code, _ := other.get("/reseller/general/"); code != http.StatusSeeOther {
		t.Errorf("other session survived the password change: %d", code)
	}
	f.pw[f.res1.Login] = "newpass1"
	f.login(f.res1.Login, "/reseller/")
	// The admin's policy applies (GEN-2).
	if err := f.app.SaveSettings(t.Context(), admin, app.Settings{Password: panel.PasswordPolicy{Min: 10, Max: 20}}); err != nil {
		t.Fatal(err)
	}
	c.get("/reseller/general/password")
	_, body, _ = c.post("/reseller/general/password", url.Values{"old": {"newpass1"}, "new": {"abcdefgh"}, "new2": {"abcdefgh"}})
	if !strings.Contains(text(body), "at least 10 and at most 20 characters") {
		t.Errorf("policy not applied: %s", text(body))
	}
}

func TestLanguageAndDesign(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	c.get("/reseller/general/language")
	// The classic design is only offered when the admin enables it.
	code, body, _ := c.post("/reseller/general/language", url.Values{"language": {"de"}, "design": {"classic"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Unknown design.") {
		t.Fatalf("classic without admin consent: %d %s", code, text(body))
	}
	code, _, _ = c.post("/reseller/general/language", url.Values{"language": {"de"}, "design": {"ocean"}})
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d", code)
	}
	_, body = c.get("/reseller/general/")
	for _, want := range []string{"<summary>Allgemein</summary>", "<summary>Vorlagen</summary>", `class="design-ocean"`, `lang="de"`} {
		if !strings.Contains(body, want) {
			t.Errorf("German page lacks %s", want)
		}
	}
	// New users inherit the reseller's language and design (GEN-3).
	cr, _, err := f.app.CreateUser(t.Context(), panel.Actor{ID: f.res1.ID, Role: panel.RoleReseller, ResellerID: f.res1.ID}, app.UserInput{Password: "abcdef1"})
	if err != nil {
		t.Fatal(err)
	}
	if cr.User.Language != "de" || cr.User.Design != "ocean" {
		t.Errorf("new user has %s/%s, want de/ocean", cr.User.Language, cr.User.Design)
	}
	// A user changes its language but never its design.
	u := f.login(f.user1.Login, "/user/")
	_, body = u.get("/user/language")
	if strings.Contains(body, `name="design"`) {
		t.Error("user is offered a design choice")
	}
	u.post("/user/language", url.Values{"language": {"de"}, "design": {"ocean"}})
	got, _ := f.app.Store.User(t.Context(), admin, f.user1.ID)
	if got.Language != "de" || got.Design != "default" {
		t.Errorf("user now %s/%s, want de/default", got.Language, got.Design)
	}
	code, body, _ = u.post("/user/language", url.Values{"language": {"fr"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Unbekannte Sprache") {
		t.Errorf("bad language: %d %s", code, text(body))
	}
}

func TestAdminCreateResellerBadInput(t *testing.T) {
	f := newFixture(t)
	c := f.login("admin", "/admin/")
	c.get("/admin/resellers/new")
	before, _ := f.app.Store.Resellers(t.Context(), admin)
	cases := []struct {
		form  url.Values
		field string
		want  string
	}{
		{url.Values{"limit.storage": {"abc"}}, "limit.storage", "Enter a whole number."},
		{url.Values{"limit.storage": {"-2"}}, "limit.storage", "Enter a whole number."},
		{url.Values{"limit.storage": {"1.5"}}, "limit.storage", "Enter a whole number."},
		{url.Values{"limit.traffic": {"10"}, "mode.traffic": {"hard"}}, "limit.traffic", "Traffic can never be a hard limit"},
		{url.Values{"limit.storage": {"10"}, "mode.storage": {"hard"}, "unl.storage": {"1"}}, "limit.storage", "cannot be combined with a hard limit"},
		{url.Values{"login": {"Bad Login"}}, "login", "A login starts with a lower-case letter"},
		{url.Values{"login": {"admin"}}, "login", "The login admin is already in use."},
		{url.Values{"password": {"123"}}, "password", "at least 6 and at most 12"},
		{url.Values{"email": {"nope"}}, "email", "Enter a valid e-mail address"},
		{url.Values{"name": {"a\r\nb"}}, "name", "Control characters"},
		{url.Values{"name": {strings.Repeat("n", 201)}}, "name", "At most 200 characters"},
		{url.Values{"service.shell": {"3"}}, "service.shell", "not a valid setting"},
		{url.Values{"language": {"xx"}}, "language", "Unknown language."},
	}
	for _, cs := range cases {
		code, body, _ := c.post("/admin/resellers/new", cs.form)
		if code < 400 || code >= 500 || !strings.Contains(text(body), cs.want) {
			t.Errorf("%v: %d, want a 4xx with %q; got %s", cs.form, code, cs.want, text(body))
		}
	}
	after, _ := f.app.Store.Resellers(t.Context(), admin)
	if len(after) != len(before) {
		t.Fatalf("bad input stored resellers: %d → %d", len(before), len(after))
	}
	// A good one shows the login and generated password once.
	code, body, _ := c.post("/admin/resellers/new", url.Values{"name": {"Neu"}, "limit.users": {"5"}, "mode.users": {"hard"}, "service.php": {"1"}})
	if code != http.StatusCreated || !strings.Contains(text(body), "Reseller created") || !strings.Contains(text(body), "res3web0") {
		t.Fatalf("create: %d %s", code, text(body))
	}
}

func TestAdminResellerPage(t *testing.T) {
	f := newFixture(t)
	c := f.login("admin", "/admin/")
	id := f.res1.ID
	p := "/admin/resellers/" + itoa(id)
	_, body := c.get(p)
	if !strings.Contains(body, `name="limit.users" value="10"`) {
		t.Fatalf("limits not prefilled")
	}
	form := url.Values{"limit.users": {"3"}, "mode.users": {"hard"}, "limit.storage": {"5000"}, "limit.pop3": {"-1"}, "unl.pop3": {"1"}}
	if code, _, _ := c.post(p+"/limits", form); code != http.StatusSeeOther {
		t.Fatalf("limits: %d", code)
	}
	r, _ := f.app.Store.Reseller(t.Context(), admin, id)
	if r.Limits[panel.ResUsers] != (panel.ResellerLimit{Value: 3, Mode: panel.ModeHard}) || !r.Limits[panel.ResPOP3].AllowUnlimited {
		t.Fatalf("limits stored: %+v", r.Limits)
	}
	c.post(p+"/services", url.Values{"service.shell": {"1"}, "service.cgi": {"1"}})
	r, _ = f.app.Store.Reseller(t.Context(), admin, id)
	if r.Services[panel.SvcShell] != 1 || !r.Services.On(panel.SvcCGI) || r.Services.On(panel.SvcPHP) {
		t.Fatalf("services stored: %+v", r.Services)
	}
	// Lock: the reseller and its users cannot log in.
	c.post(p+"/status", url.Values{"status": {"locked"}})
	rc := f.client()
	rc.get("/login")
	if code, _, _ := rc.post("/login", url.Values{"login": {f.res1.Login}, "password": {f.pw[f.res1.Login]}}); code != http.StatusForbidden {
		t.Errorf("locked reseller login: %d", code)
	}
	if code, _, _ := rc.post("/login", url.Values{"login": {f.user1.Login}, "password": {f.pw[f.user1.Login]}}); code != http.StatusForbidden {
		t.Errorf("user of locked reseller login: %d", code)
	}
	// Delete needs the login typed.
	code, body, _ := c.post(p+"/delete", url.Values{"confirm": {"nope"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Type the login "+f.res1.Login) {
		t.Fatalf("delete without confirm: %d %s", code, text(body))
	}
	if code, _, _ := c.post(p+"/delete", url.Values{"confirm": {f.res1.Login}}); code != http.StatusSeeOther {
		t.Fatalf("delete: %d", code)
	}
	if _, err := f.app.Store.UserByLogin(t.Context(), admin, f.user1.Login); panel.ErrorKind(err) != panel.KindNotFound {
		t.Fatalf("user of deleted reseller remains: %v", err)
	}
}

func TestSecurityHeadersAndStatic(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	var pre *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == preCookie {
			pre = c
		}
	}
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteLaxMode {
		t.Errorf("login cookie flags: %+v", pre)
	}
	resp, err = http.Get(f.srv.URL + "/static/style.css")
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %v %v", resp, err)
	}
	resp.Body.Close()
	// An open redirect through ?next= is refused.
	c := f.client()
	c.get("/login")
	_, _, loc := c.post("/login", url.Values{"login": {"admin"}, "password": {"adminpw1"}, "next": {"//evil.example/"}})
	if loc != "/admin/" {
		t.Errorf("next=//evil.example led to %q", loc)
	}
}

// TestUserHomeShowsMarkedData: the user's start page shows exactly the
// personal data its reseller marked "show", with the reseller's labels.
func TestUserHomeShowsMarkedData(t *testing.T) {
	f := newFixture(t)
	r1 := panel.Actor{ID: f.res1.ID, Role: panel.RoleReseller, ResellerID: f.res1.ID}
	if err := f.app.Store.SetAccountSetting(t.Context(), r1, "custom1_label", "Kundennummer"); err != nil {
		t.Fatal(err)
	}
	cr, _, err := f.app.CreateUser(t.Context(), r1, app.UserInput{Password: "homepw1",
		Profile: panel.Profile{Name: "Hanna Home", Phone: "+49 30 1234", Email: "hanna@example.com",
			Custom: [3]string{"K-4711", "", ""}, Show: []string{"name", "custom1"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.pw[cr.User.Login] = "homepw1"
	c := f.login(cr.User.Login, "/user/")
	_, body := c.get("/user/")
	tx := text(body)
	if !strings.Contains(tx, "Your data Name Hanna Home Kundennummer K-4711") {
		t.Errorf("shown data: %s", tx)
	}
	if strings.Contains(tx, "+49 30 1234") {
		t.Errorf("unmarked phone shown: %s", tx)
	}
}
