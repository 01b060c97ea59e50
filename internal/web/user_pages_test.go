package web

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"kontor/internal/app"
	"kontor/internal/mail"
	"kontor/internal/panel"
	"kontor/internal/store"
)

var (
	hiddenRe  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	checkedRe = regexp.MustCompile(`<input type="checkbox" name="([^"]+)" value="([^"]*)"[^>]*\schecked>`)
)

// hiddenOf returns the hidden fields of a page but the CSRF token, as the
// browser sends them back.
func hiddenOf(body string) url.Values {
	out := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		if m[1] != "csrf" {
			out.Add(m[1], html.UnescapeString(m[2]))
		}
	}
	return out
}

// checkedOf returns the ticked checkboxes named name, as a browser sends them.
func checkedOf(body, name string) []string {
	var out []string
	for _, m := range checkedRe.FindAllStringSubmatch(body, -1) {
		if m[1] == name {
			out = append(out, html.UnescapeString(m[2]))
		}
	}
	return out
}

// wizard drives the create-user wizard the way a browser does: it sends
// back the hidden fields of the last page with the fields of the step.
type wizard struct {
	t      *testing.T
	c      *client
	hidden url.Values
	last   url.Values // the last form sent
	code   int
	body   string
	loc    string
}

func startWizard(t *testing.T, c *client, query string) *wizard {
	t.Helper()
	code, body := c.get("/reseller/users/create" + query)
	if code != http.StatusOK {
		t.Fatalf("wizard start: %d %s", code, text(body))
	}
	return &wizard{t: t, c: c, hidden: hiddenOf(body), code: code, body: body}
}

func (w *wizard) send(step int, act string, visible url.Values) *wizard {
	w.t.Helper()
	form := url.Values{}
	for k, v := range w.hidden {
		form[k] = append([]string(nil), v...)
	}
	for k, v := range visible {
		form[k] = v
	}
	form.Set("step", strconv.Itoa(step))
	form.Set("go", act)
	w.last = form
	w.code, w.body, w.loc = w.c.post("/reseller/users/create", form)
	if w.code < 300 || w.code >= 400 {
		w.hidden = hiddenOf(w.body)
	}
	return w
}

// want fails unless the last answer had code and its visible text holds
// every string of want.
func (w *wizard) want(code int, want ...string) {
	w.t.Helper()
	if w.code != code {
		w.t.Fatalf("status %d, want %d: %s", w.code, code, text(w.body))
	}
	tx := text(w.body)
	for _, s := range want {
		if !strings.Contains(tx, s) {
			w.t.Fatalf("page lacks %q:\n%s", s, tx)
		}
	}
}

func resActor(r panel.Reseller) panel.Actor {
	return panel.Actor{ID: r.ID, Role: panel.RoleReseller, Login: r.Login, ResellerID: r.ID}
}

func userCount(t *testing.T, f *fixture, r panel.Reseller) int {
	t.Helper()
	_, n, err := f.app.Store.Users(context.Background(), resActor(r), store.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// personal is a valid step 3.
func personal() url.Values {
	return url.Values{"name": {"Dora Delta"}, "company": {"Delta & Söhne"}, "email": {"dora@delta.example"},
		"city": {"Köln"}, "show": {"name", "city"}, "language": {"en"}, "design": {"default"},
		"password": {"dora1234"}, "password2": {"dora1234"}}
}

// recorder is a mail.Sender that keeps what it is given, or refuses it
// with fail the way a relay does.
type recorder struct {
	mu   sync.Mutex
	sent []mail.Message
	fail error
}

func (r *recorder) Send(_ context.Context, m mail.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.sent = append(r.sent, m)
	return nil
}

// TestCreateUserWizard walks the five steps forward and back: values
// survive, nothing exists before "Create", a second "Create" of the same
// form creates nothing, and step 5 shows the access data and the
// registration mail.
func TestCreateUserWizard(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := &recorder{}
	f.app.Mailer = rec
	if err := f.app.SaveMailTemplate(ctx, resActor(f.res1), 0, panel.MailTemplate{FromName: "Reseller One", From: "info@res1.example",
		Subject: "Welcome ##login##", Body: "Login: ##login##\nPassword: ##password##\nDomains: ##domains##"}); err != nil {
		t.Fatal(err)
	}
	c := f.login(f.res1.Login, "/reseller/")
	before := userCount(t, f, f.res1)

	w := startWizard(t, c, "")
	w.want(200, "Step 1 of 5: Template", "No template / individual setting", "Next")
	if w.hidden.Get("once") == "" || w.hidden.Get("language") != "en" || w.hidden.Get("design") != "default" {
		t.Fatalf("hidden fields of step 1: %v", w.hidden)
	}
	w.send(1, "next", url.Values{"template": {""}})
	w.want(200, "Step 2 of 5: Limits and services", "Storage space (MB)", "Back")
	if !strings.Contains(w.body, `id="limit.storage" name="limit.storage" value="0"`) {
		t.Fatalf("step 2 without template is not prefilled with 0")
	}

	// Step 2: checked against the reseller at once; past a maximum warns.
	plan := url.Values{"limit.storage": {"100"}, "limit.pop3": {"1"}, "service.php": {"1"}}
	w.send(2, "next", plan)
	w.want(200, "Step 3 of 5: Personal data", "Storage space (MB): this grant passes your maximum", "Name *", "E-mail *")

	// Back to step 2: the values are still there; forward again to step 3
	// with personal data typed, back, forward: still there.
	w.send(3, "back", personal())
	w.want(200, "Step 2 of 5")
	if !strings.Contains(w.body, `name="limit.storage" value="100"`) || !strings.Contains(w.body, `name="limit.pop3" value="1"`) {
		t.Fatalf("step 2 lost its values after Back")
	}
	if w.hidden.Get("name") != "Dora Delta" || w.hidden.Get("company") != "Delta & Söhne" || w.hidden.Get("password") != "dora1234" {
		t.Fatalf("step 3 values not carried: %v", w.hidden)
	}
	w.send(2, "next", plan)
	w.want(200, "Step 3 of 5")
	if !strings.Contains(w.body, `value="Dora Delta"`) || !strings.Contains(w.body, `value="Delta &amp; Söhne"`) {
		t.Fatalf("step 3 lost its values")
	}
	if got := checkedOf(w.body, "show"); strings.Join(got, ",") != "name,city" {
		t.Fatalf("show checkboxes %v", got)
	}

	// Required fields and passwords are checked at step 3.
	bad := personal()
	bad.Set("name", "")
	w.send(3, "next", bad)
	w.want(422, "Step 3 of 5", "This field is required.")
	bad = personal()
	bad.Set("password2", "other123")
	w.send(3, "next", bad)
	w.want(422, "The two new passwords differ.")
	bad = personal()
	bad.Set("email", "dora@delta\r\n.example")
	w.send(3, "next", bad)
	w.want(422, "Enter a valid e-mail address")
	bad = personal()
	bad.Set("name", "Dora\nDelta")
	w.send(3, "next", bad)
	w.want(422, "Control characters")

	// The definable fields get the reseller's labels.
	lab := personal()
	lab.Set("label1", "Customer no.")
	lab.Set("custom1", "K-4711")
	w.send(3, "labels", lab)
	w.want(200, "The labels have been saved.", "Customer no.")
	pers := personal()
	pers.Set("custom1", "K-4711")
	w.send(3, "next", pers)
	w.want(200, "Step 4 of 5: Domains and IP address", "No domains.")

	// Step 4: add, refuse bad and taken domains, change flags, delete.
	w.send(4, "add", url.Values{"newdomain": {"Delta.Example"}, "dnsnew": {"1"}})
	w.want(200, "delta.example")
	for _, tc := range []struct{ in, want string }{
		{"beta.example", "The domain beta.example is already in use on this server."},
		{"alpha.example", "already in use on this server"},
		{"delta.example", "delta.example is already in the list."},
		{"evil.example\r\nX-Header: 1", "no spaces or other characters"},
		{"a..b.example", "cannot contain empty parts"},
		{"my domain.example", "no spaces or other characters"},
		{strings.Repeat("a", 64) + ".example", "at most 63 characters"},
		{"localhost", "top-level domain"},
		{"", "This field is required."},
	} {
		w.send(4, "add", url.Values{"newdomain": {tc.in}, "dns": checkedOf(w.body, "dns")})
		if w.code < 400 || !strings.Contains(text(w.body), tc.want) {
			t.Errorf("add %q: %d, want %q in %s", tc.in, w.code, tc.want, text(w.body))
		}
	}
	w.send(4, "add", url.Values{"newdomain": {"müller-bäckerei.de"}, "dns": checkedOf(w.body, "dns")})
	w.want(200, "müller-bäckerei.de", "xn--mller-bckerei-")
	w.send(4, "add", url.Values{"newdomain": {"spare.example"}, "dns": checkedOf(w.body, "dns")})
	w.want(200, "spare.example")
	w.send(4, "delete", url.Values{"sel": {"spare.example"}, "dns": checkedOf(w.body, "dns")})
	w.want(200)
	if strings.Contains(text(w.body), "spare.example") {
		t.Fatal("deleted domain still listed")
	}
	// Flags: DNS off for the Unicode domain, DNR on for delta.example.
	w.send(4, "apply", url.Values{"dns": {"delta.example"}, "dnr": {"delta.example"}})
	w.want(200)
	if got := checkedOf(w.body, "dns"); strings.Join(got, ",") != "delta.example" {
		t.Fatalf("dns flags after apply: %v", got)
	}
	// Back to step 3 and forward again: the domains stay.
	w.send(4, "back", url.Values{"dns": {"delta.example"}, "dnr": {"delta.example"}})
	w.want(200, "Step 3 of 5")
	w.send(3, "next", pers)
	w.want(200, "Step 4 of 5", "delta.example", "müller-bäckerei.de")

	// Nothing exists before the final step.
	if n := userCount(t, f, f.res1); n != before {
		t.Fatalf("%d users before Create, want %d", n, before)
	}
	if taken, _ := f.app.Store.DomainTaken(ctx, "delta.example"); taken {
		t.Fatal("a domain was stored before Create")
	}

	// Create: step 5 shows login, password and the registration mail.
	final := url.Values{"dns": checkedOf(w.body, "dns"), "dnr": checkedOf(w.body, "dnr"), "ip": {"0"}}
	w.send(4, "create", final)
	w.want(http.StatusCreated, "The user has been created.", "Access data", "dora1234", "Registration e-mail", "Send")
	if n := userCount(t, f, f.res1); n != before+1 {
		t.Fatalf("%d users after Create, want %d", n, before+1)
	}
	rows, _, _ := f.app.Store.Users(ctx, resActor(f.res1), store.UserFilter{Search: "delta.example"})
	if len(rows) != 1 {
		t.Fatalf("new user not found by domain: %v", rows)
	}
	u, err := f.app.Store.User(ctx, resActor(f.res1), rows[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Profile.Name != "Dora Delta" || u.Profile.Custom[0] != "K-4711" || u.Limits[panel.ResStorage] != 100 ||
		u.Limits[panel.ResPOP3] != 1 || u.Services[panel.SvcPHP] != 1 || len(u.Domains) != 2 || u.Profile.ShowString() != "name,city" {
		t.Fatalf("created user %+v", u)
	}
	for _, d := range u.Domains {
		if d.Name == "delta.example" && !(d.DNS && d.DNR) || d.Name != "delta.example" && (d.DNS || d.DNR) {
			t.Errorf("domain flags %+v", d)
		}
	}
	if !strings.Contains(text(w.body), u.Login) {
		t.Fatalf("step 5 does not show the login %s", u.Login)
	}
	if _, err := f.app.Login(ctx, u.Login, "dora1234", "127.0.0.9"); err != nil {
		t.Fatalf("the new user cannot log in: %v", err)
	}
	// The mail is prepared from the e-mail setup with the tags filled.
	if !strings.Contains(w.body, `value="dora@delta.example"`) || !strings.Contains(w.body, `value="Welcome `+u.Login+`"`) ||
		!strings.Contains(w.body, "Password: dora1234") || !strings.Contains(w.body, "Domains: delta.example, müller-bäckerei.de") ||
		!strings.Contains(text(w.body), "Reseller One &lt;info@res1.example&gt;") || strings.Contains(w.body, "##") {
		t.Fatalf("registration mail not filled in:\n%s", text(w.body))
	}

	// The same final form again (reload, double click): no second user.
	code, body, loc := c.post("/reseller/users/create", w.last)
	if code != http.StatusSeeOther || loc != "/reseller/user/"+itoa(u.ID)+"?done=usr_exists" {
		t.Fatalf("second Create: %d %q %s", code, loc, text(body))
	}
	_, body = c.get(loc)
	if !strings.Contains(text(body), "nothing was created twice") {
		t.Errorf("the existing user's page does not say so: %s", text(body))
	}
	if n := userCount(t, f, f.res1); n != before+1 {
		t.Fatalf("%d users after the second Create, want %d", n, before+1)
	}
	// Two at once with a fresh form: one user.
	w2 := startWizard(t, c, "")
	form := w.last
	form.Set("once", w2.hidden.Get("once"))
	form.Del("domain")
	form.Del("dns")
	form.Del("dnr")
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.http.PostForm(f.srv.URL+"/reseller/users/create", form)
			if err == nil {
				resp.Body.Close()
				codes <- resp.StatusCode
			}
		}()
	}
	wg.Wait()
	close(codes)
	if n := userCount(t, f, f.res1); n != before+2 {
		t.Fatalf("%d users after a double submit, want %d", n, before+2)
	}

	// Header injection and a missing recipient are refused before sending.
	for _, tc := range []struct{ field, value, want string }{
		{"to", "", "This field is required."},
		{"to", "a@b.example\r\nBcc: x@evil.example", "Enter a valid e-mail address"},
		{"subject", "Hi\r\nBcc: x@evil.example", ""},
	} {
		form := url.Values{"template": {"0"}, "to": {"dora@delta.example"}, "subject": {"Welcome"}, "body": {"x"}}
		form.Set(tc.field, tc.value)
		code, body, _ := c.post("/reseller/user/"+itoa(u.ID)+"/mail", form)
		if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), tc.want) {
			t.Errorf("mail with %s=%q: %d %s", tc.field, tc.value, code, text(body))
		}
	}
	// Step 5: send the (edited) registration mail.
	code, body, _ = c.post("/reseller/user/"+itoa(u.ID)+"/mail", url.Values{"template": {"0"}, "password": {"dora1234"},
		"to": {"dora@delta.example"}, "subject": {"Welcome"}, "body": {"Login " + u.Login}})
	if code != http.StatusOK || !strings.Contains(text(body), "has been sent to dora@delta.example") {
		t.Fatalf("send: %d %s", code, text(body))
	}
	if len(rec.sent) != 1 || rec.sent[0].To != "dora@delta.example" || rec.sent[0].From != "info@res1.example" ||
		rec.sent[0].Subject != "Welcome" || rec.sent[0].Body != "Login "+u.Login {
		t.Fatalf("sent %+v", rec.sent)
	}
	// A relay that refuses: its reply is shown on step 5, the form keeps
	// the text for another try.
	rec.fail = errors.New("550 5.1.1 <nobody@delta.example>: no such user")
	code, body, _ = c.post("/reseller/user/"+itoa(u.ID)+"/mail", url.Values{"template": {"0"}, "password": {"dora1234"},
		"to": {"nobody@delta.example"}, "subject": {"Welcome"}, "body": {"Login " + u.Login}})
	if code < 400 || !strings.Contains(text(body), "550 5.1.1") || !strings.Contains(body, `value="nobody@delta.example"`) ||
		!strings.Contains(text(body), "Registration e-mail") {
		t.Fatalf("refused delivery: %d %s", code, text(body))
	}
	// Another reseller's user: not found.
	if code, _, _ := c.post("/reseller/user/"+itoa(f.user2.ID)+"/mail", url.Values{"to": {"a@b.example"}, "subject": {"x"}, "body": {"y"}}); code != 404 {
		t.Errorf("mail for a foreign user: %d", code)
	}
}

// TestWizardTemplatePreselect: a template from the Templates menu is
// chosen at step 1 and fills step 2 once.
func TestWizardTemplatePreselect(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tpl, err := f.app.Store.CreateTemplate(ctx, resActor(f.res1), panel.Template{Name: "Basic",
		Limits: panel.Limits{panel.ResStorage: 50, panel.ResPOP3: 1}, Services: panel.ServiceSet{panel.SvcPHP: 1, panel.SvcShell: 1}})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := f.app.Store.CreateTemplate(ctx, resActor(f.res2), panel.Template{Name: "Secret plan"})
	if err != nil {
		t.Fatal(err)
	}
	c := f.login(f.res1.Login, "/reseller/")
	w := startWizard(t, c, "?template="+itoa(tpl.ID))
	if !strings.Contains(w.body, `<option value="`+itoa(tpl.ID)+`" selected>Basic</option>`) {
		t.Fatalf("template not preselected: %s", text(w.body))
	}
	w.send(1, "next", url.Values{"template": {itoa(tpl.ID)}})
	w.want(200, "Step 2 of 5")
	if !strings.Contains(w.body, `name="limit.storage" value="50"`) || !strings.Contains(w.body, `<option value="1" selected>SFTP/SCP only</option>`) {
		t.Fatalf("step 2 not prefilled from the template")
	}
	// Changed at step 2, back to step 1 and forward: the change stays.
	w.send(2, "back", url.Values{"limit.storage": {"70"}, "limit.pop3": {"1"}, "service.php": {"1"}})
	w.send(1, "next", url.Values{"template": {itoa(tpl.ID)}})
	if !strings.Contains(w.body, `name="limit.storage" value="70"`) {
		t.Fatalf("going back to step 1 reset the edited limits")
	}
	// Another reseller's template is no choice.
	code, body := c.get("/reseller/users/create?template=" + itoa(foreign.ID))
	if code != 422 || !strings.Contains(text(body), "Choose one of your templates.") || strings.Contains(body, "Secret plan") {
		t.Fatalf("foreign template preselected: %d %s", code, text(body))
	}
	sw := &wizard{t: t, c: c, hidden: hiddenOf(body)}
	sw.send(1, "next", url.Values{"template": {itoa(foreign.ID)}})
	sw.want(422, "Choose one of your templates.")
	if strings.Contains(sw.body, "Secret plan") {
		t.Fatal("foreign template leaked")
	}
}

// TestWizardHardLimit: a hard limit refuses at step 2, and again at the
// end when another request took the last slot meanwhile.
func TestWizardHardLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.login(f.res1.Login, "/reseller/")
	before := userCount(t, f, f.res1)
	w := startWizard(t, c, "")
	w.send(1, "next", url.Values{"template": {""}})
	// res1: POP3 hard limit 5, user1 has 2.
	w.send(2, "next", url.Values{"limit.pop3": {"4"}})
	w.want(http.StatusForbidden, "Step 2 of 5", "POP3 boxes: the hard limit is 5; 2 is already allocated, so 4 more cannot be granted.")
	w.send(2, "next", url.Values{"limit.pop3": {"3"}})
	w.want(200, "Step 3 of 5")
	w.send(3, "next", personal())
	w.want(200, "Step 4 of 5")
	// Meanwhile another request takes one more box.
	if _, _, err := f.app.CreateUser(ctx, resActor(f.res1), app.UserInput{Limits: panel.Limits{panel.ResPOP3: 1}}); err != nil {
		t.Fatal(err)
	}
	w.send(4, "create", url.Values{"ip": {"0"}})
	w.want(http.StatusForbidden, "Step 2 of 5", "POP3 boxes: the hard limit is 5; 3 is already allocated, so 3 more cannot be granted.")
	if n := userCount(t, f, f.res1); n != before+1 {
		t.Fatalf("%d users, want %d (only the other request's)", n, before+1)
	}
	// Corrected, the same form creates the user: the token was released.
	w.send(2, "next", url.Values{"limit.pop3": {"2"}})
	w.send(3, "next", personal())
	w.send(4, "create", url.Values{"ip": {"0"}})
	w.want(http.StatusCreated, "The user has been created.")
	// A services the reseller does not offer is refused at step 2.
	w2 := startWizard(t, c, "")
	w2.send(1, "next", nil)
	w2.send(2, "next", url.Values{"service.cgi": {"1"}})
	w2.want(http.StatusForbidden, "CGI/Perl is not available to you.")
	// Tampered hidden values are checked again at the end.
	w2.send(2, "next", nil)
	w2.send(3, "next", personal())
	w2.hidden.Set("limit.storage", "-5")
	w2.send(4, "create", url.Values{"ip": {"0"}})
	w2.want(http.StatusUnprocessableEntity, "Step 2 of 5", "Enter a whole number")
	w2.hidden.Set("limit.storage", "0")
	w2.hidden.Set("domain", "bad..example")
	w2.send(4, "create", url.Values{"ip": {"0"}})
	w2.want(http.StatusUnprocessableEntity, "cannot contain empty parts")
	w2.hidden.Del("domain")
	w2.hidden.Set("once", "0000000001.00000000000000000000000000000000")
	w2.send(4, "create", url.Values{"ip": {"0"}})
	w2.want(http.StatusConflict, "This form has expired")
}

// TestWizardExclusiveIP: an own exclusive address goes onto the new user's
// domains; another reseller's address is refused.
func TestWizardExclusiveIP(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	own, err := f.app.Store.AddIP(ctx, admin, "192.0.2.10", false, f.res1.ID)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := f.app.Store.AddIP(ctx, admin, "192.0.2.20", false, f.res2.ID)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := f.app.Store.AddIP(ctx, admin, "192.0.2.1", true, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := f.login(f.res1.Login, "/reseller/")
	w := startWizard(t, c, "")
	w.send(1, "next", nil).send(2, "next", nil).send(3, "next", personal())
	w.want(200, "Step 4 of 5", "192.0.2.10")
	if strings.Contains(w.body, "192.0.2.20") || strings.Contains(w.body, "192.0.2.1<") {
		t.Fatal("step 4 offers another reseller's or a shared address")
	}
	for _, id := range []int64{foreign.ID, shared.ID, 999} {
		w.send(4, "create", url.Values{"ip": {itoa(id)}})
		w.want(http.StatusUnprocessableEntity, "Choose one of your own exclusive IP addresses")
	}
	w.send(4, "create", url.Values{"ip": {itoa(own.ID)}})
	w.want(http.StatusUnprocessableEntity, "add a domain first")
	w.send(4, "add", url.Values{"newdomain": {"iphost.example"}, "dnsnew": {"1"}})
	w.send(4, "add", url.Values{"newdomain": {"iphost2.example"}, "dns": checkedOf(w.body, "dns")})
	w.send(4, "create", url.Values{"dns": checkedOf(w.body, "dns"), "ip": {itoa(own.ID)}})
	w.want(http.StatusCreated, "The user has been created.")
	rows, _, _ := f.app.Store.Users(ctx, resActor(f.res1), store.UserFilter{Search: "iphost.example"})
	u, _ := f.app.Store.User(ctx, resActor(f.res1), rows[0].ID)
	for _, d := range u.Domains {
		if d.IPID != own.ID {
			t.Errorf("domain %s on ip %d, want %d", d.Name, d.IPID, own.ID)
		}
	}
	// The address is now this user's: the next wizard does not offer it.
	w2 := startWizard(t, c, "")
	w2.send(1, "next", nil).send(2, "next", nil).send(3, "next", personal())
	if strings.Contains(w2.body, "192.0.2.10") {
		t.Fatal("an address in use is offered again")
	}
	// The change page of user1 cannot take it either, nor the foreign one.
	for _, id := range []int64{own.ID, foreign.ID} {
		code, body, _ := c.post("/reseller/user/"+itoa(f.user1.ID)+"/domains", url.Values{"go": {"apply"}, "ip": {itoa(id)}, "dns": {itoa(f.user1.Domains[0].ID)}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Choose one of your own exclusive IP addresses") {
			t.Errorf("user1 takes ip %d: %d %s", id, code, text(body))
		}
	}
	api := f.apiLogin(f.res1.Login)
	code, body := api.do("PUT", "/api/v1/domains/"+itoa(f.user1.Domains[0].ID), `{"ip":`+itoa(foreign.ID)+`}`)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "exclusive IP") {
		t.Errorf("API foreign ip: %d %s", code, body)
	}
	if d, _ := f.app.Store.Domain(ctx, admin, f.user1.Domains[0].ID); d.IPID != 0 {
		t.Fatalf("user1's domain moved to ip %d", d.IPID)
	}
}

// TestUsersOverview: tools, the edit box and the list.
func TestUsersOverview(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.app.Store.SetResellerLimits(ctx, admin, f.res1.ID, panel.ResellerLimits{panel.ResUsers: {Value: 100, Mode: panel.ModeHard}}); err != nil {
		t.Fatal(err)
	}
	batch := make([]store.NewUser, 30)
	for i := range batch {
		batch[i] = store.NewUser{ResellerID: f.res1.ID, PasswordHash: "x", Profile: panel.Profile{Name: "Bulk " + strconv.Itoa(i)}}
	}
	if _, err := f.app.Store.CreateUsers(ctx, admin, f.res1.ID, batch); err != nil {
		t.Fatal(err)
	}
	c := f.login(f.res1.Login, "/reseller/")
	code, body := c.get("/reseller/users/list")
	tx := text(body)
	if code != 200 || !strings.Contains(tx, "Edit user data") || !strings.Contains(tx, "32 users") || !strings.Contains(tx, "1 / 2") {
		t.Fatalf("overview: %d %s", code, tx)
	}
	for _, href := range []string{"/reseller/users/create", "/reseller/users/frontpage", "/reseller/users/ssl", "/reseller/users/mysql"} {
		if !strings.Contains(body, `href="`+href+`"`) {
			t.Errorf("tool %s missing", href)
		}
	}
	if !strings.Contains(tx, "Enabled") || !strings.Contains(tx, "alpha.example") {
		t.Errorf("list lacks status or domains: %s", tx)
	}
	_, body = c.get("/reseller/users/list?page=2&per=25")
	if !strings.Contains(text(body), "2 / 2") || !strings.Contains(text(body), "Bulk 29") {
		t.Errorf("page 2: %s", text(body))
	}
	// Edit box: own user → its change page; foreign or unknown → 404 here.
	code, _, _ = c.post("/logout", nil) // keep using the session below
	_ = code
	c = f.login(f.res1.Login, "/reseller/")
	resp, err := c.http.Get(f.srv.URL + "/reseller/users/edit?login=" + f.user1.Login)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/reseller/user/"+itoa(f.user1.ID) {
		t.Fatalf("edit %s: %d %s", f.user1.Login, resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, login := range []string{f.user2.Login, "web999", f.res2.Login + "web0", "Bad Login"} {
		code, body := c.get("/reseller/users/edit?login=" + url.QueryEscape(login))
		if login == "Bad Login" {
			if code != 422 {
				t.Errorf("edit %q: %d", login, code)
			}
			continue
		}
		if code != 404 || !strings.Contains(text(body), "You have no user "+login+".") || strings.Contains(body, "Bob Beta") {
			t.Errorf("edit %q: %d %s", login, code, text(body))
		}
	}
	resp, _ = c.http.Get(f.srv.URL + "/reseller/users/edit?login=")
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/reseller/users/list") {
		t.Errorf("empty edit box: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// messageTexts returns the reseller's newest n messages as they read.
func messageTexts(t *testing.T, f *fixture, r panel.Reseller, n int) []string {
	t.Helper()
	ms, _, err := f.app.Store.Messages(context.Background(), resActor(r), store.MessageFilter{Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	cat := f.web.cat
	var out []string
	for _, m := range ms {
		out = append(out, m.Subject+": "+cat.Message("en", m))
	}
	return out
}

// TestChangeUser covers the change page: personal data, limits and
// services, a template, domains, password, lock/unlock and delete, each
// with its notice, and the bad cases.
func TestChangeUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.login(f.res1.Login, "/reseller/")
	id := itoa(f.user1.ID)
	base := "/reseller/user/" + id
	code, body := c.get(base)
	tx := text(body)
	if code != 200 || !strings.Contains(tx, "Change user") || !strings.Contains(tx, "Personal data") || !strings.Contains(body, `value="Anna Alpha"`) {
		t.Fatalf("change page: %d %s", code, tx)
	}

	// Personal data.
	p := personal()
	p.Set("name", "Anna Adler")
	p.Set("email", "anna@alpha.example")
	code, _, loc := c.post(base+"/profile", p)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, base+"?done=saved") {
		t.Fatalf("profile: %d %s", code, loc)
	}
	if u, _ := f.app.Store.User(ctx, admin, f.user1.ID); u.Profile.Name != "Anna Adler" || u.Profile.City != "Köln" {
		t.Fatalf("profile not stored: %+v", u.Profile)
	}
	p.Set("email", "")
	p.Set("name", "Someone Else")
	code, body, _ = c.post(base+"/profile", p)
	if code != 422 || !strings.Contains(text(body), "This field is required.") || !strings.Contains(body, `value="Someone Else"`) {
		t.Fatalf("profile without e-mail: %d %s", code, text(body))
	}
	p = personal()
	p.Set("design", "classic") // classic skins are off on this server
	if code, _, _ := c.post(base+"/profile", p); code != 422 {
		t.Errorf("classic design accepted: %d", code)
	}

	// Limits and services: a hard limit refuses, the reseller's allocation
	// without user1's own 2 boxes counts (2 → 5 fits the limit of 5).
	plan := url.Values{"limit.storage": {"1300"}, "limit.pop3": {"6"}, "service.php": {"1"}}
	code, body, _ = c.post(base+"/plan", plan)
	if code != 403 || !strings.Contains(text(body), "POP3 boxes: the hard limit is 5; 0 is already allocated, so 6 more cannot be granted.") {
		t.Fatalf("plan over hard limit: %d %s", code, text(body))
	}
	if !strings.Contains(body, `name="limit.pop3" value="6"`) {
		t.Error("the refused values are not kept in the form")
	}
	plan.Set("limit.pop3", "5")
	code, _, loc = c.post(base+"/plan", plan)
	if code != http.StatusSeeOther || !strings.Contains(loc, "done=usr_over") {
		t.Fatalf("plan: %d %s", code, loc)
	}
	if u, _ := f.app.Store.User(ctx, admin, f.user1.ID); u.Limits[panel.ResPOP3] != 5 {
		t.Fatalf("pop3 = %d", u.Limits[panel.ResPOP3])
	}
	plan.Set("service.cgi", "1")
	if code, body, _ := c.post(base+"/plan", plan); code != 403 || !strings.Contains(text(body), "CGI/Perl is not available to you.") {
		t.Errorf("service not offered: %d %s", code, text(body))
	}

	// Services from a template.
	tpl, err := f.app.Store.CreateTemplate(ctx, resActor(f.res1), panel.Template{Name: "Small",
		Limits: panel.Limits{panel.ResStorage: 10, panel.ResPOP3: 1}, Services: panel.ServiceSet{panel.SvcFTP: 1}})
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := f.app.Store.CreateTemplate(ctx, resActor(f.res2), panel.Template{Name: "Theirs"})
	code, _, loc = c.post(base+"/template", url.Values{"template": {itoa(tpl.ID)}})
	if code != http.StatusSeeOther || !strings.Contains(loc, "done=usr_template") {
		t.Fatalf("template: %d %s", code, loc)
	}
	if u, _ := f.app.Store.User(ctx, admin, f.user1.ID); u.Limits[panel.ResStorage] != 10 || u.Limits[panel.ResPOP3] != 1 ||
		u.Services[panel.SvcFTP] != 1 || u.Services[panel.SvcPHP] != 0 {
		t.Fatalf("template not applied: %v %v", u.Limits, u.Services)
	}
	code, body, _ = c.post(base+"/template", url.Values{"template": {itoa(foreign.ID)}})
	if code != 422 || strings.Contains(body, "Theirs") {
		t.Errorf("foreign template: %d", code)
	}

	// Domains: add, refuse taken and bad, flags, delete several.
	code, _, _ = c.post(base+"/domains", url.Values{"go": {"add"}, "newdomain": {"second.example"}, "dnsnew": {"1"}})
	if code != http.StatusSeeOther {
		t.Fatalf("add domain: %d", code)
	}
	for in, want := range map[string]string{"beta.example": "already in use", "x\ny.example": "no spaces", "a..b.example": "empty parts"} {
		code, body, _ := c.post(base+"/domains", url.Values{"go": {"add"}, "newdomain": {in}})
		if code < 400 || !strings.Contains(text(body), want) {
			t.Errorf("add %q: %d %s", in, code, text(body))
		}
	}
	u, _ := f.app.Store.User(ctx, admin, f.user1.ID)
	if len(u.Domains) != 2 {
		t.Fatalf("domains %v", u.Domains)
	}
	var alpha, second panel.Domain
	for _, d := range u.Domains {
		if d.Name == "alpha.example" {
			alpha = d
		} else {
			second = d
		}
	}
	code, _, _ = c.post(base+"/domains", url.Values{"go": {"apply"}, "ip": {"0"}, "dns": {itoa(second.ID)}, "dnr": {itoa(alpha.ID)}})
	if code != http.StatusSeeOther {
		t.Fatalf("apply flags: %d", code)
	}
	if d, _ := f.app.Store.Domain(ctx, admin, alpha.ID); d.DNS || !d.DNR {
		t.Fatalf("alpha flags %+v", d)
	}
	// A foreign domain id among the selected: nothing is deleted.
	code, _, _ = c.post(base+"/domains", url.Values{"go": {"delete"}, "sel": {itoa(second.ID), itoa(f.domain)}})
	if code != 404 {
		t.Errorf("delete with a foreign id: %d", code)
	}
	if code, body, _ := c.post(base+"/domains", url.Values{"go": {"delete"}}); code != 422 || !strings.Contains(text(body), "Select at least one domain.") {
		t.Errorf("delete nothing: %d", code)
	}
	code, _, _ = c.post(base+"/domains", url.Values{"go": {"delete"}, "sel": {itoa(second.ID), itoa(alpha.ID)}})
	if code != http.StatusSeeOther {
		t.Fatalf("delete domains: %d", code)
	}
	if u, _ := f.app.Store.User(ctx, admin, f.user1.ID); len(u.Domains) != 0 {
		t.Fatalf("domains left: %v", u.Domains)
	}
	if d, err := f.app.Store.Domain(ctx, admin, f.domain); err != nil || d.Name != "beta.example" {
		t.Fatal("a foreign domain was touched")
	}

	// Password: given, shown once, works; generated when empty.
	code, body, _ = c.post(base+"/password", url.Values{"password": {"neues123"}, "password2": {"neues124"}})
	if code != 422 || !strings.Contains(text(body), "The two new passwords differ.") {
		t.Fatalf("password mismatch: %d", code)
	}
	code, body, _ = c.post(base+"/password", url.Values{"password": {"abc"}, "password2": {"abc"}})
	if code != 422 || !strings.Contains(text(body), "at least 6 and at most 12") {
		t.Fatalf("short password: %d", code)
	}
	code, body, _ = c.post(base+"/password", url.Values{"password": {"neues123"}, "password2": {"neues123"}})
	if code != 200 || !strings.Contains(text(body), "New password neues123") {
		t.Fatalf("password: %d %s", code, text(body))
	}
	if _, err := f.app.Login(ctx, f.user1.Login, "neues123", "127.0.0.2"); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	code, body, _ = c.post(base+"/password", url.Values{})
	m := regexp.MustCompile(`<code class="password">([A-Za-z0-9]+)</code>`).FindStringSubmatch(body)
	if code != 200 || m == nil || len(m[1]) < 6 {
		t.Fatalf("generated password: %d %s", code, text(body))
	}
	if _, err := f.app.Login(ctx, f.user1.Login, m[1], "127.0.0.2"); err != nil {
		t.Fatalf("login with the generated password: %v", err)
	}
	f.pw[f.user1.Login] = m[1]

	// Lock: the user cannot log in; unlock: it can again.
	uc := f.login(f.user1.Login, "/user/")
	code, _, loc = c.post(base+"/status", url.Values{"status": {"locked"}})
	if code != http.StatusSeeOther || !strings.Contains(loc, "done=usr_locked") {
		t.Fatalf("lock: %d %s", code, loc)
	}
	if code, _ := uc.get("/user/"); code != http.StatusSeeOther {
		t.Errorf("the locked user's session still works: %d", code)
	}
	lc := f.client()
	lc.get("/login")
	code, body, _ = lc.post("/login", url.Values{"login": {f.user1.Login}, "password": {m[1]}})
	if code == http.StatusSeeOther || !strings.Contains(text(body), "This account is locked.") {
		t.Fatalf("locked user logs in: %d %s", code, text(body))
	}
	_, body = c.get(base)
	if !strings.Contains(text(body), "Locked") || !strings.Contains(text(body), "Unlock") {
		t.Errorf("change page after lock: %s", text(body))
	}
	if code, _, _ := c.post(base+"/status", url.Values{"status": {"bogus"}}); code != 422 {
		t.Errorf("bogus status: %d", code)
	}
	c.post(base+"/status", url.Values{"status": {"enabled"}})
	f.login(f.user1.Login, "/user/")

	// Delete: only with the login typed; not the reseller's own account.
	code, body, _ = c.post(base+"/delete", url.Values{"confirm": {"web"}})
	if code != 422 || !strings.Contains(text(body), "Type the login "+f.user1.Login+" to confirm.") {
		t.Fatalf("delete without confirmation: %d", code)
	}
	code, body, _ = c.post("/reseller/user/"+itoa(f.res1.DefaultUserID)+"/delete", url.Values{"confirm": {f.res1.Login + "web0"}})
	if code != 403 || !strings.Contains(text(body), "deleted only with the reseller") {
		t.Fatalf("delete own account: %d %s", code, text(body))
	}
	_, body = c.get("/reseller/user/" + itoa(f.res1.DefaultUserID))
	if strings.Contains(body, `action="/reseller/user/`+itoa(f.res1.DefaultUserID)+`/delete"`) {
		t.Error("the own account offers a delete form")
	}
	code, _, loc = c.post(base+"/delete", url.Values{"confirm": {f.user1.Login}})
	if code != http.StatusSeeOther || loc != "/reseller/users/list?done=usr_deleted" {
		t.Fatalf("delete: %d %s", code, loc)
	}
	if code, _ := c.get(base); code != 404 {
		t.Errorf("deleted user's page: %d", code)
	}

	// Every change left a notice, newest first.
	got := messageTexts(t, f, f.res1, 40)
	l := f.user1.Login
	for _, want := range []string{l + ": User deleted.", l + ": Account unlocked.", l + ": Account locked.",
		l + ": Password changed by the reseller.", l + ": Domain alpha.example deleted.", l + ": Domain alpha.example: DNS/DNR changed.", l + ": Domain second.example added.", l + ": Limits and services taken from template Small.",
		l + ": Limits and services changed.", l + ": Personal data changed."} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("no notice %q among %q", want, got)
		}
	}
	// The reseller's own account can be changed.
	code, _, _ = c.post("/reseller/user/"+itoa(f.res1.DefaultUserID)+"/profile", personal())
	if code != http.StatusSeeOther {
		t.Errorf("change own account: %d", code)
	}
}

// TestChangeUserForeign: every change of another reseller's user is "not
// found" and changes nothing.
func TestChangeUserForeign(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	c.get("/reseller/users/list") // a page of the session, for its CSRF token
	base := "/reseller/user/" + itoa(f.user2.ID)
	for path, form := range map[string]url.Values{
		"/profile":  personal(),
		"/plan":     {"limit.pop3": {"1"}},
		"/template": {"template": {"1"}},
		"/domains":  {"go": {"delete"}, "sel": {itoa(f.domain)}},
		"/password": {"password": {"stolen12"}, "password2": {"stolen12"}},
		"/status":   {"status": {"locked"}},
		"/delete":   {"confirm": {f.user2.Login}},
	} {
		code, body, _ := c.post(base+path, form)
		if code != 404 || strings.Contains(body, "Bob Beta") {
			t.Errorf("%s: %d %s", path, code, text(body))
		}
	}
	u, err := f.app.Store.User(context.Background(), admin, f.user2.ID)
	if err != nil || u.Status != panel.StatusEnabled || len(u.Domains) != 1 || u.Profile.Name != "Bob Beta" {
		t.Fatalf("user2 changed: %+v %v", u, err)
	}
	if _, err := f.app.Login(context.Background(), f.user2.Login, "user2pw", "127.0.0.3"); err != nil {
		t.Fatalf("user2's password changed: %v", err)
	}
}

// TestUserAPIChanges drives the change-user API.
func TestUserAPIChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	api := f.apiLogin(f.res1.Login)
	id := itoa(f.user1.ID)
	decodeMap := func(body string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return m
	}

	code, body := api.do("PUT", "/api/v1/users/"+id+"/profile", `{"name":"Anna API","email":"anna@api.example","show":["name"],"language":"de"}`)
	if code != 200 || decodeMap(body)["language"] != "de" {
		t.Fatalf("profile: %d %s", code, body)
	}
	code, body = api.do("PUT", "/api/v1/users/"+id+"/profile", `{"name":"x\ny","email":"a@b.example"}`)
	if code != 422 || decodeErr(t, body).Error.Field != "name" {
		t.Errorf("profile with LF: %d %s", code, body)
	}
	code, body = api.do("PUT", "/api/v1/users/"+id+"/limits", `{"pop3":5,"storage":900}`)
	if code != 200 {
		t.Fatalf("limits: %d %s", code, body)
	}
	if m := decodeMap(body); m["limits"].(map[string]any)["pop3"].(float64) != 5 || len(m["over_maximum"].([]any)) != 0 {
		t.Errorf("limits answer %s", body)
	}
	code, body = api.do("PUT", "/api/v1/users/"+id+"/limits", `{"pop3":6}`)
	if e := decodeErr(t, body).Error; code != 403 || e.Field != "limit.pop3" || !strings.Contains(e.Message, "hard limit is 5") {
		t.Errorf("over hard limit: %d %s", code, body)
	}
	for _, bad := range []string{`{"users":1}`, `{"bogus":1}`, `{"pop3":-2}`, `{"pop3":"many"}`} {
		if code, body := api.do("PUT", "/api/v1/users/"+id+"/limits", bad); code != 422 {
			t.Errorf("limits %s: %d %s", bad, code, body)
		}
	}
	code, body = api.do("PUT", "/api/v1/users/"+id+"/services", `{"ftp":1,"shell":2}`)
	if code != 200 {
		t.Fatalf("services: %d %s", code, body)
	}
	if sv := decodeMap(body)["services"].(map[string]any); sv["php"].(float64) != 1 || sv["shell"].(float64) != 2 {
		t.Errorf("services answer %v", sv)
	}
	if code, _ := api.do("PUT", "/api/v1/users/"+id+"/services", `{"cgi":1}`); code != 403 {
		t.Errorf("service not offered: %d", code)
	}
	tpl, err := f.app.Store.CreateTemplate(ctx, resActor(f.res1), panel.Template{Name: "Mini", Limits: panel.Limits{panel.ResStorage: 5}})
	if err != nil {
		t.Fatal(err)
	}
	code, body = api.do("POST", "/api/v1/users/"+id+"/template", `{"template_id":`+itoa(tpl.ID)+`}`)
	if code != 200 || decodeMap(body)["limits"].(map[string]any)["storage"].(float64) != 5 {
		t.Errorf("template: %d %s", code, body)
	}
	code, body = api.do("PUT", "/api/v1/users/"+id+"/password", `{"password":""}`)
	pw, _ := decodeMap(body)["password"].(string)
	if code != 200 || len(pw) < 6 {
		t.Fatalf("password: %d %s", code, body)
	}
	if _, err := f.app.Login(ctx, f.user1.Login, pw, "127.0.0.4"); err != nil {
		t.Fatalf("login with API password: %v", err)
	}
	code, body = api.do("PUT", "/api/v1/domains/"+itoa(f.user1.Domains[0].ID), `{"dns":false,"dnr":true}`)
	if m := decodeMap(body); code != 200 || m["dns"] != false || m["dnr"] != true {
		t.Errorf("domain flags: %d %s", code, body)
	}
	code, body = api.do("PUT", "/api/v1/users/"+id+"/status", `{"status":"locked"}`)
	if code != 200 || decodeMap(body)["status"] != "locked" {
		t.Errorf("lock: %d %s", code, body)
	}
	if _, err := f.app.Login(ctx, f.user1.Login, pw, "127.0.0.4"); panel.ErrorKind(err) != panel.KindForbidden {
		t.Errorf("locked user logs in: %v", err)
	}
	if code, _ := api.do("PUT", "/api/v1/users/"+id+"/status", `{"status":"gone"}`); code != 422 {
		t.Errorf("bad status: %d", code)
	}
	// Foreign ids: not found, nothing changes.
	for _, rq := range [][3]string{
		{"PUT", "/api/v1/users/" + itoa(f.user2.ID) + "/limits", `{"pop3":1}`},
		{"PUT", "/api/v1/users/" + itoa(f.user2.ID) + "/status", `{"status":"locked"}`},
		{"DELETE", "/api/v1/users/" + itoa(f.user2.ID), ``},
		{"PUT", "/api/v1/domains/" + itoa(f.domain), `{"dns":false}`},
	} {
		if code, body := api.do(rq[0], rq[1], rq[2]); code != 404 {
			t.Errorf("%s %s: %d %s", rq[0], rq[1], code, body)
		}
	}
	if code, _ := api.do("DELETE", "/api/v1/users/"+itoa(f.res1.DefaultUserID), ``); code != 403 {
		t.Errorf("delete own account: %d", code)
	}
	if code, body := api.do("DELETE", "/api/v1/users/"+id, ``); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
	}
	if code, _ := api.do("GET", "/api/v1/users/"+id, ``); code != 404 {
		t.Errorf("deleted user: %d", code)
	}
	u2, _ := f.app.Store.User(ctx, admin, f.user2.ID)
	if u2.Status != panel.StatusEnabled || !u2.Domains[0].DNS {
		t.Fatalf("foreign user changed: %+v", u2)
	}
}

// TestUserPagesInGerman: the wizard and the change page speak German.
func TestUserPagesInGerman(t *testing.T) {
	f := newFixture(t)
	if err := f.app.Store.SetLanguageDesign(context.Background(), resActor(f.res1), "de", "default"); err != nil {
		t.Fatal(err)
	}
	c := f.login(f.res1.Login, "/reseller/")
	w := startWizard(t, c, "")
	w.want(200, "Benutzer anlegen", "Schritt 1 von 5: Vorlage", "Keine Vorlage / individuelle Einstellung", "Weiter")
	w.send(1, "next", nil)
	w.want(200, "Schritt 2 von 5: Limits und Dienste", "Zurück")
	w.send(2, "next", url.Values{"limit.pop3": {"9"}})
	w.want(403, "hart")
	w.send(2, "next", nil)
	w.want(200, "Persönliche Daten", "Straße", "auf der Startseite des Benutzers anzeigen", "Passwort wiederholen", "Bezeichnungen der freien Felder")
	w.send(3, "next", personal())
	w.want(200, "Domains und IP-Adresse", "Domain hinzufügen", "Eigene IP-Adresse (nur für diesen Benutzer)")
	_, body := c.get("/reseller/user/" + itoa(f.user1.ID))
	for _, s := range []string{"Benutzer ändern", "Persönliche Daten", "Dienste aus einer Vorlage", "Sperren", "Benutzer löschen"} {
		if !strings.Contains(text(body), s) {
			t.Errorf("change page lacks %q", s)
		}
	}
	code, body := c.get("/reseller/users/edit?login=web77")
	if code != 404 || !strings.Contains(text(body), "Sie haben keinen Benutzer web77.") || !strings.Contains(text(body), "Benutzerdaten bearbeiten") {
		t.Errorf("German edit box: %d %s", code, text(body))
	}
}
