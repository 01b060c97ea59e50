package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/i18n"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// fixture is a running panel with an admin, two resellers and their users.
type fixture struct {
	t      testing.TB
	app    *app.App
	srv    *httptest.Server
	web    *Server
	res1   panel.Reseller
	res2   panel.Reseller
	user1  panel.User // of res1
	user2  panel.User // of res2
	pw     map[string]string
	domain int64 // a domain of user2 (foreign to res1)
}

var admin = panel.Actor{Role: panel.RoleAdmin, Login: "test"}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := app.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.Hasher = auth.Params{Memory: 1024, Time: 1, Threads: 1}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Options{App: a, Catalog: cat, Log: a.Log})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, app: a, web: w, pw: map[string]string{}}
	f.srv = httptest.NewServer(w.Handler())
	t.Cleanup(f.srv.Close)
	if _, err := a.CreateAdmin(ctx, "admin", "adminpw1"); err != nil {
		t.Fatal(err)
	}
	f.pw["admin"] = "adminpw1"
	all := panel.ServiceSet{panel.SvcPHP: 1, panel.SvcFTP: 1, panel.SvcShell: 2}
	lim := panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard},
		panel.ResStorage: {Value: 1000, Mode: panel.ModeMaximum}, panel.ResPOP3: {Value: 5, Mode: panel.ModeHard}}
	f.res1, _, err = a.CreateReseller(ctx, admin, app.ResellerInput{Password: "res1pass", Name: "Reseller One", Limits: lim, Services: all})
	if err != nil {
		t.Fatal(err)
	}
	f.pw[f.res1.Login] = "res1pass"
	f.res2, _, err = a.CreateReseller(ctx, admin, app.ResellerInput{Password: "res2pass", Name: "Reseller Two", Limits: lim, Services: all})
	if err != nil {
		t.Fatal(err)
	}
	f.pw[f.res2.Login] = "res2pass"
	r1 := panel.Actor{ID: f.res1.ID, Role: panel.RoleReseller, ResellerID: f.res1.ID}
	r2 := panel.Actor{ID: f.res2.ID, Role: panel.RoleReseller, ResellerID: f.res2.ID}
	cr, _, err := a.CreateUser(ctx, r1, app.UserInput{Password: "user1pw", Profile: panel.Profile{Name: "Anna Alpha"},
		Limits: panel.Limits{panel.ResStorage: 1200, panel.ResPOP3: 2}, Services: panel.ServiceSet{panel.SvcPHP: 1},
		Domains: []store.NewDomain{{Name: "alpha.example", DNS: true}}})
	if err != nil {
		t.Fatal(err)
	}
	f.user1 = cr.User
	f.pw[f.user1.Login] = "user1pw"
	cr, _, err = a.CreateUser(ctx, r2, app.UserInput{Password: "user2pw", Profile: panel.Profile{Name: "Bob Beta"},
		Domains: []store.NewDomain{{Name: "beta.example", DNS: true}}})
	if err != nil {
		t.Fatal(err)
	}
	f.user2 = cr.User
	f.pw[f.user2.Login] = "user2pw"
	f.domain = f.user2.Domains[0].ID
	return f
}

// client is a browser: a cookie jar that does not follow redirects.
type client struct {
	f    *fixture
	http *http.Client
	csrf string
}

func (f *fixture) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{f: f, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and remembers the CSRF token the page carries.
func (c *client) get(path string) (int, string) {
	c.f.t.Helper()
	resp, err := c.http.Get(c.f.srv.URL + path)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b)
}

// post submits a form with the remembered CSRF token.
func (c *client) post(path string, form url.Values) (int, string, string) {
	c.f.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.csrf)
	}
	resp, err := c.http.PostForm(c.f.srv.URL+path, form)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// login logs in as login and fails the test unless it lands at want.
func (f *fixture) login(login, want string) *client {
	f.t.Helper()
	c := f.client()
	c.get("/login")
	code, body, loc := c.post("/login", url.Values{"login": {login}, "password": {f.pw[login]}})
	if code != http.StatusSeeOther || loc != want {
		f.t.Fatalf("login %s: %d %q, want redirect to %s\n%s", login, code, loc, want, text(body))
	}
	c.get(want)
	return c
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

// text is the visible text of a page, whitespace folded, for assertions
// about what a person reads.
func text(html string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(tagRe.ReplaceAllString(html, " ")), " "), " )", ")")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
