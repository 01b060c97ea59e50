package web

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kontor/internal/app"
	"kontor/internal/panel"
	"kontor/internal/store"
)

func resellerActor(r panel.Reseller) panel.Actor {
	return panel.Actor{ID: r.ID, Role: panel.RoleReseller, Login: r.Login, ResellerID: r.ID}
}

func (f *fixture) template(r panel.Reseller, name string, lim panel.Limits, svc panel.ServiceSet) panel.Template {
	f.t.Helper()
	t, err := f.app.Store.CreateTemplate(context.Background(), resellerActor(r), panel.Template{Name: name, Limits: lim, Services: svc})
	if err != nil {
		f.t.Fatal(err)
	}
	return t
}

func (f *fixture) templateNames(r panel.Reseller) []string {
	f.t.Helper()
	ts, err := f.app.Store.Templates(context.Background(), resellerActor(r))
	if err != nil {
		f.t.Fatal(err)
	}
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// tplFormValues is a valid create form for res1 of the fixture.
func tplFormValues(name string) url.Values {
	v := url.Values{"name": {name}}
	for _, r := range panel.Resources() {
		v.Set(r.Field(), "0")
	}
	v.Set("limit.storage", "500")
	v.Set("limit.pop3", "2")
	v.Set("service.php", "1")
	v.Set("service.shell", "2")
	return v
}

func TestTemplateCreateInBrowser(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")

	code, body := c.get("/reseller/templates/create")
	tx := text(body)
	if code != 200 {
		t.Fatalf("create form: %d", code)
	}
	// The shared limits-and-services form: twelve limits, every service,
	// the required fields marked, and what the reseller itself may grant.
	for _, want := range []string{`name="limit.storage"`, `name="limit.mailing_lists"`, `name="service.php"`, `name="service.backup"`, `name="name"`} {
		if !strings.Contains(body, want) {
			t.Errorf("create form lacks %s", want)
		}
	}
	if strings.Contains(body, `name="limit.users"`) {
		t.Error("the number of users is no user limit")
	}
	for _, want := range []string{"Fields marked * are required.", "Template name *", "Storage space (MB) maximum 1000",
		"POP3 boxes hard limit 5", "MySQL databases not available to you", "SSL (not offered to you)"} {
		if !strings.Contains(tx, want) {
			t.Errorf("create form does not read %q:\n%s", want, tx)
		}
	}

	code, _, loc := c.post("/reseller/templates/create", tplFormValues(" Web S "))
	if code != http.StatusSeeOther || loc != "/reseller/templates/edit?done=tpl_created" {
		t.Fatalf("create: %d %s", code, loc)
	}
	_, body = c.get(loc)
	tx = text(body)
	if !strings.Contains(tx, "Template created.") || !strings.Contains(tx, "Web S 500 0 2") {
		t.Errorf("list after create: %s", tx)
	}
	tp, _ := f.app.Store.Templates(t.Context(), resellerActor(f.res1))
	if len(tp) != 1 || tp[0].Limits[panel.ResStorage] != 500 || tp[0].Services[panel.SvcShell] != 2 {
		t.Fatalf("stored: %+v", tp)
	}

	bad := []struct {
		name   string
		edit   func(url.Values)
		code   int
		msg    string
		invRow string // the limits row marked invalid, if any
	}{
		{"empty name", func(v url.Values) { v.Set("name", " ") }, 422, "This field is required.", ""},
		{"long name", func(v url.Values) { v.Set("name", strings.Repeat("n", 65)) }, 422, "At most 64 characters are allowed.", ""},
		{"CRLF in name", func(v url.Values) { v.Set("name", "Web\r\nBcc") }, 422, "Control characters (such as line breaks) are not allowed here.", ""},
		{"duplicate name", func(v url.Values) { v.Set("name", "web s") }, 409, "You already have a template named web s.", ""},
		{"not a number", func(v url.Values) { v.Set("limit.storage", "abc") }, 422, "Enter a whole number.", "limit.storage"},
		{"fraction", func(v url.Values) { v.Set("limit.pop3", "1.5") }, 422, "Enter a whole number.", "limit.pop3"},
		{"unlimited not allowed", func(v url.Values) { v.Set("limit.storage", "-1") }, 422,
			"Storage space (MB): you are not authorised to grant unlimited (-1).", "limit.storage"},
		{"reseller has none", func(v url.Values) { v.Set("limit.mysql_dbs", "1") }, 422,
			"MySQL databases is not available to you (limit 0).", "limit.mysql_dbs"},
		{"over the hard limit", func(v url.Values) { v.Set("limit.pop3", "6") }, 422,
			"POP3 boxes: your hard limit is 5, so a template cannot give one user more.", "limit.pop3"},
		{"service not offered", func(v url.Values) { v.Set("service.ssl", "1") }, 422, "SSL is not available to you.", ""},
		{"bad level", func(v url.Values) { v.Set("service.php", "7") }, 422, "PHP: not a valid setting.", ""},
	}
	for _, b := range bad {
		v := tplFormValues("Web M")
		b.edit(v)
		code, body, _ := c.post("/reseller/templates/create", v)
		tx := text(body)
		if code != b.code || !strings.Contains(tx, b.msg) {
			t.Errorf("%s: %d, want %d with %q:\n%s", b.name, code, b.code, b.msg, tx)
			continue
		}
		if b.invRow != "" && !strings.Contains(body, `<tr class="invalid">
    <th scope="row"><label for="`+b.invRow+`">`) {
			t.Errorf("%s: row %s not marked invalid", b.name, b.invRow)
		}
		// What was typed is still there to correct.
		if !strings.Contains(body, `value="`+v.Get("limit.storage")+`"`) {
			t.Errorf("%s: the form lost the typed storage value", b.name)
		}
	}
	if got := f.templateNames(f.res1); len(got) != 1 || got[0] != "Web S" {
		t.Errorf("bad input stored something: %v", got)
	}
}

func TestTemplateManageChangeDelete(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	s1 := f.template(f.res1, "Web S", panel.Limits{panel.ResStorage: 100}, panel.ServiceSet{panel.SvcPHP: 1})
	m1 := f.template(f.res1, "Web M", panel.Limits{panel.ResStorage: 300}, nil)
	l1 := f.template(f.res1, "Web L", panel.Limits{panel.ResStorage: 900}, nil)
	foreign := f.template(f.res2, "Secret Two", panel.Limits{panel.ResStorage: 700}, nil)
	fid := itoa(foreign.ID)

	// The "Edit template" tile is the list: pick, change, create user, delete several.
	code, body := c.get("/reseller/templates/edit")
	tx := text(body)
	if code != 200 || !strings.Contains(tx, "Managing your templates") || !strings.Contains(tx, "Web L 900") || !strings.Contains(tx, "Web S 100") {
		t.Fatalf("manage page: %d %s", code, tx)
	}
	for _, want := range []string{`name="id" value="` + itoa(s1.ID) + `"`, `href="/reseller/templates/` + itoa(m1.ID) + `/edit"`,
		`href="/reseller/templates/create-user?template=` + itoa(l1.ID) + `"`, `href="/reseller/templates/email?template=` + itoa(s1.ID) + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("manage page lacks %s", want)
		}
	}
	if strings.Contains(body, "Secret Two") {
		t.Fatal("res1 sees res2's template")
	}
	// The drop-down's "Edit template" leads to the form.
	if code, _ := c.get("/reseller/templates/edit?id=" + itoa(m1.ID)); code != http.StatusSeeOther {
		t.Errorf("pick: %d", code)
	}
	for _, id := range []string{fid, "abc", "-1", "999999"} {
		if code, body := c.get("/reseller/templates/edit?id=" + id); code != 404 || strings.Contains(body, "Secret Two") {
			t.Errorf("pick %s: %d", id, code)
		}
	}

	// Change.
	_, body = c.get("/reseller/templates/" + itoa(s1.ID) + "/edit")
	if !strings.Contains(body, `value="Web S"`) || !strings.Contains(body, `name="limit.storage" value="100"`) ||
		!strings.Contains(text(body), "users already created from this template keep their settings") {
		t.Errorf("edit form:\n%s", text(body))
	}
	v := tplFormValues("Web XS")
	v.Set("limit.storage", "50")
	code, _, loc := c.post("/reseller/templates/"+itoa(s1.ID)+"/edit", v)
	if code != http.StatusSeeOther || loc != "/reseller/templates/edit?done=saved" {
		t.Fatalf("change: %d %s", code, loc)
	}
	got, _ := f.app.Store.Template(t.Context(), resellerActor(f.res1), s1.ID)
	if got.Name != "Web XS" || got.Limits[panel.ResStorage] != 50 || got.Services[panel.SvcShell] != 2 {
		t.Errorf("changed: %+v", got)
	}
	v.Set("limit.storage", "-1")
	code, body, _ = c.post("/reseller/templates/"+itoa(s1.ID)+"/edit", v)
	if code != 422 || !strings.Contains(text(body), "not authorised to grant unlimited") {
		t.Errorf("bad change: %d", code)
	}
	if got, _ := f.app.Store.Template(t.Context(), resellerActor(f.res1), s1.ID); got.Limits[panel.ResStorage] != 50 {
		t.Errorf("a refused change was stored: %+v", got)
	}

	// res2's template is not found anywhere, whatever is sent.
	if code, body := c.get("/reseller/templates/" + fid + "/edit"); code != 404 || strings.Contains(body, "Secret Two") {
		t.Errorf("foreign edit form: %d", code)
	}
	if code, _, _ := c.post("/reseller/templates/"+fid+"/edit", tplFormValues("Mine now")); code != 404 {
		t.Errorf("foreign change: %d", code)
	}
	if code, _, _ := c.post("/reseller/templates/"+fid+"/delete", nil); code != 404 {
		t.Errorf("foreign delete: %d", code)
	}
	// Several with one foreign among them: 404 and nothing deleted.
	code, body, _ = c.post("/reseller/templates/delete", url.Values{"id": {itoa(m1.ID), fid}})
	if code != 404 || strings.Contains(body, "Secret Two") {
		t.Errorf("mixed delete: %d", code)
	}
	if got := f.templateNames(f.res1); len(got) != 3 {
		t.Errorf("mixed delete deleted some of res1's: %v", got)
	}
	if got := f.templateNames(f.res2); len(got) != 1 || got[0] != "Secret Two" {
		t.Errorf("res2's template after the attempts: %v", got)
	}
	if got, _ := f.app.Store.Template(t.Context(), resellerActor(f.res2), foreign.ID); got.Limits[panel.ResStorage] != 700 {
		t.Errorf("res2's template changed: %+v", got)
	}
	// None selected.
	code, body, _ = c.post("/reseller/templates/delete", nil)
	if code != 422 || !strings.Contains(text(body), "Select at least one template.") {
		t.Errorf("delete none: %d %s", code, text(body))
	}
	// Several of its own.
	code, _, loc = c.post("/reseller/templates/delete", url.Values{"id": {itoa(m1.ID), itoa(l1.ID)}})
	if code != http.StatusSeeOther || loc != "/reseller/templates/edit?done=deleted" {
		t.Fatalf("delete several: %d %s", code, loc)
	}
	_, body = c.get(loc)
	if tx := text(body); !strings.Contains(tx, "Deleted.") || strings.Contains(tx, "Web M") || !strings.Contains(tx, "Web XS") {
		t.Errorf("after delete several: %s", tx)
	}
	// One from its form.
	code, _, _ = c.post("/reseller/templates/"+itoa(s1.ID)+"/delete", nil)
	if code != http.StatusSeeOther || len(f.templateNames(f.res1)) != 0 {
		t.Errorf("delete one: %d %v", code, f.templateNames(f.res1))
	}
	_, body = c.get("/reseller/templates/edit")
	if !strings.Contains(text(body), "You have no templates yet.") {
		t.Errorf("empty list: %s", text(body))
	}
}

func TestTemplateCreateUserLink(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	own := f.template(f.res1, "Web S", nil, nil)
	foreign := f.template(f.res2, "Secret Two", nil, nil)
	resp, err := c.http.Get(f.srv.URL + "/reseller/templates/create-user?template=" + itoa(own.ID))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/reseller/users/create?template="+itoa(own.ID) {
		t.Errorf("create user from this: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, id := range []string{itoa(foreign.ID), "abc", "-5", "999999"} {
		if code, body := c.get("/reseller/templates/create-user?template=" + id); code != 404 || strings.Contains(body, "Secret Two") {
			t.Errorf("create user from %s: %d", id, code)
		}
	}
	// The tile: choose a template (or none), then on to the wizard.
	code, body := c.get("/reseller/templates/create-user")
	if code != 200 || !strings.Contains(body, `action="/reseller/users/create"`) || !strings.Contains(body, `<option value="`+itoa(own.ID)+`">Web S</option>`) ||
		!strings.Contains(text(body), "No template / individual setting") || strings.Contains(body, "Secret Two") {
		t.Errorf("create-user tile: %d %s", code, text(body))
	}
}

func TestTemplateEmailSetup(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	own := f.template(f.res1, "Web S", nil, nil)
	foreign := f.template(f.res2, "Secret Two", nil, nil)

	code, body := c.get("/reseller/templates/email")
	tx := html.UnescapeString(text(body))
	if code != 200 {
		t.Fatalf("email setup: %d", code)
	}
	// The built-in default, the note that nothing is stored, and every tag
	// with its meaning beside the form.
	for _, want := range []string{"Registration e-mail for users without a template", "Not set up yet", "No template / individual setting",
		"##password## The user's password", "##ftp_host## FTP server", "##reseller_phone## Your phone number", "Subject *", "Text *"} {
		if !strings.Contains(tx, want) {
			t.Errorf("email setup does not read %q", want)
		}
	}
	for _, tag := range panel.MailTags() {
		if !strings.Contains(tx, "##"+tag+"##") {
			t.Errorf("tag %s not listed", tag)
		}
	}
	if !strings.Contains(body, `value="Your web hosting access data (##login##)"`) || !strings.Contains(body, "Dear ##name##,") {
		t.Errorf("default text not in the form:\n%s", body)
	}

	mailForm := func(tpl, subject, body string) url.Values {
		return url.Values{"template": {tpl}, "from_name": {"Reseller One"}, "from": {"info@one.example"}, "subject": {subject}, "body": {body}}
	}
	bad := []struct {
		name string
		v    url.Values
		msg  string
	}{
		{"unknown tag", mailForm("0", "Hi", "Password: ##passwort##, ##login##"), "Unknown tag: ##passwort##."},
		{"unknown tag in subject", mailForm("0", "Hi ##Login##", "b"), "Unknown tag: ##Login##."},
		{"CRLF in subject", mailForm("0", "Hi\r\nBcc: victim@example.com", "b"), "Line breaks and control characters are not allowed here"},
		{"empty body", mailForm("0", "Hi", " \r\n "), "This field is required."},
	}
	for _, b := range bad {
		code, body, _ := c.post("/reseller/templates/email", b.v)
		if code != 422 || !strings.Contains(text(body), b.msg) {
			t.Errorf("%s: %d %s", b.name, code, text(body))
		}
	}
	v := mailForm("0", "Hi", "b")
	v.Set("from", "a@b.example\r\nBcc: victim@example.com")
	if code, body, _ := c.post("/reseller/templates/email", v); code != 422 || !strings.Contains(text(body), "not allowed here") {
		t.Errorf("CRLF in sender address: %d", code)
	}
	v = mailForm("0", "Hi", "b")
	v.Set("from_name", "One\nBcc: victim@example.com")
	if code, _, _ := c.post("/reseller/templates/email", v); code != 422 {
		t.Errorf("LF in sender name: %d", code)
	}
	v = mailForm("0", "Hi", "b")
	v.Set("from_name", `One" <evil@example.com>`)
	if code, body, _ := c.post("/reseller/templates/email", v); code != 422 || !strings.Contains(text(body), "The sender name cannot contain") {
		t.Errorf("quote in sender name: %d", code)
	}
	// A refused text stays in the form to be corrected.
	_, body, _ = c.post("/reseller/templates/email", mailForm("0", "Kept subject", "Kept ##passwort## body"))
	if !strings.Contains(body, `value="Kept subject"`) || !strings.Contains(body, "Kept ##passwort## body</textarea>") {
		t.Error("the refused text was not kept in the form")
	}
	if _, stored, _ := f.app.Store.MailTemplate(t.Context(), resellerActor(f.res1), 0, 0); stored {
		t.Fatal("a refused mail was stored")
	}

	// Save the default; the page shows it from now on.
	code, _, loc := c.post("/reseller/templates/email", mailForm("0", "Welcome ##name##", "Login: ##login##\r\nPassword: ##password##"))
	if code != http.StatusSeeOther || loc != "/reseller/templates/email?template=0&done=saved" {
		t.Fatalf("save default: %d %s", code, loc)
	}
	_, body = c.get(loc)
	if tx := text(body); !strings.Contains(tx, "Saved.") || strings.Contains(tx, "Not set up yet") || !strings.Contains(body, `value="Welcome ##name##"`) {
		t.Errorf("after saving: %s", tx)
	}
	// A template without its own mail starts from the stored default.
	_, body = c.get("/reseller/templates/email?template=" + itoa(own.ID))
	if tx := text(body); !strings.Contains(tx, "Registration e-mail for the template Web S") || !strings.Contains(tx, "Not set up yet") ||
		!strings.Contains(body, `value="Welcome ##name##"`) || !strings.Contains(body, `<option value="`+itoa(own.ID)+`" selected>`) {
		t.Errorf("per-template page: %s", tx)
	}
	code, _, _ = c.post("/reseller/templates/email", mailForm(itoa(own.ID), "Web S is ready", "##domains##"))
	if code != http.StatusSeeOther {
		t.Fatalf("save per template: %d", code)
	}
	m, stored, _ := f.app.Store.MailTemplate(t.Context(), resellerActor(f.res1), 0, own.ID)
	if !stored || m.Subject != "Web S is ready" || m.From != "info@one.example" {
		t.Errorf("per template stored: %+v %v", m, stored)
	}

	// res2's template: not found to look at or to write.
	for _, id := range []string{itoa(foreign.ID), "abc", "-1", "999999"} {
		if code, body := c.get("/reseller/templates/email?template=" + id); code != 404 || strings.Contains(body, "Secret Two") {
			t.Errorf("email setup for %s: %d", id, code)
		}
		if code, _, _ := c.post("/reseller/templates/email", mailForm(id, "Hijacked", "b")); code != 404 {
			t.Errorf("saving the mail of %s: %d", id, code)
		}
	}
	if _, stored, _ := f.app.Store.MailTemplate(t.Context(), resellerActor(f.res2), 0, foreign.ID); stored {
		t.Error("res1 stored a mail for res2's template")
	}
}

func TestTemplatePagesInGerman(t *testing.T) {
	f := newFixture(t)
	if err := f.app.Store.SetLanguageDesign(t.Context(), resellerActor(f.res2), "de", ""); err != nil {
		t.Fatal(err)
	}
	c := f.login(f.res2.Login, "/reseller/")
	_, body := c.get("/reseller/templates/email")
	tx := text(body)
	for _, want := range []string{"Platzhalter", "Keine Vorlage / individuelle Einstellung", "##password## Passwort des Benutzers", "Betreff *", "Übernehmen"} {
		if !strings.Contains(tx, want) {
			t.Errorf("German e-mail setup lacks %q", want)
		}
	}
	if !strings.Contains(body, "Sehr geehrte(r) ##name##,") || !strings.Contains(body, `value="Ihre Zugangsdaten (##login##)"`) {
		t.Errorf("the default mail is not German:\n%s", body)
	}
	_, body = c.get("/reseller/templates/create")
	if tx := text(body); !strings.Contains(tx, "Name der Vorlage *") || !strings.Contains(tx, "Mit * gekennzeichnete Felder sind Pflichtfelder.") {
		t.Errorf("German template form: %s", tx)
	}
	code, body, _ := c.post("/reseller/templates/email", url.Values{"template": {"0"}, "subject": {"Hallo"}, "body": {"##passwort##"}})
	if code != 422 || !strings.Contains(text(body), "Unbekannter Platzhalter: ##passwort##.") {
		t.Errorf("German unknown tag: %d %s", code, text(body))
	}
}

func TestTemplatesAPI(t *testing.T) {
	f := newFixture(t)
	api := f.apiLogin(f.res1.Login)
	foreign := f.template(f.res2, "Secret Two", panel.Limits{panel.ResStorage: 700}, nil)
	fid := itoa(foreign.ID)

	code, body := api.do("POST", "/api/v1/templates", `{"name":"API S","limits":{"storage":100,"pop3":2},"services":{"php":1,"shell":2}}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	var tp struct {
		ID       int64            `json:"id"`
		Name     string           `json:"name"`
		Limits   map[string]int64 `json:"limits"`
		Services map[string]int   `json:"services"`
	}
	if err := json.Unmarshal([]byte(body), &tp); err != nil || tp.Name != "API S" || len(tp.Limits) != 12 || tp.Limits["storage"] != 100 || tp.Services["shell"] != 2 {
		t.Fatalf("created: %s", body)
	}
	id := itoa(tp.ID)
	if code, body := api.do("GET", "/api/v1/templates", ""); code != 200 || !strings.Contains(body, `"API S"`) || strings.Contains(body, "Secret Two") {
		t.Errorf("list: %d %s", code, body)
	}
	if code, body := api.do("GET", "/api/v1/templates/"+id, ""); code != 200 || !strings.Contains(body, `"storage": 100`) {
		t.Errorf("get: %d %s", code, body)
	}
	if code, body := api.do("PUT", "/api/v1/templates/"+id, `{"name":"API M","limits":{"storage":200}}`); code != 200 ||
		!strings.Contains(body, `"API M"`) || !strings.Contains(body, `"storage": 200`) || strings.Contains(body, `"php"`) {
		t.Errorf("put: %d %s", code, body)
	}

	bad := []struct {
		method, path, body string
		code               int
		field, msg         string
	}{
		{"POST", "/api/v1/templates", `{"name":"api m"}`, 409, "name", "You already have a template named api m."},
		{"POST", "/api/v1/templates", `{"name":""}`, 422, "name", "This field is required."},
		{"POST", "/api/v1/templates", `{"name":"a\r\nb"}`, 422, "name", "Control characters"},
		{"POST", "/api/v1/templates", `{"name":"x","limits":{"storage":-1}}`, 422, "limit.storage", "not authorised to grant unlimited"},
		{"POST", "/api/v1/templates", `{"name":"x","limits":{"storage":"lots"}}`, 422, "limits", "has the wrong type"},
		{"POST", "/api/v1/templates", `{"name":"x","limits":{"beer":1}}`, 422, "limits.beer", "Unknown resource beer."},
		{"POST", "/api/v1/templates", `{"name":"x","limits":{"users":1}}`, 422, "limits.users", "Unknown resource users."},
		{"POST", "/api/v1/templates", `{"name":"x","services":{"ssl":1}}`, 422, "service.ssl", "SSL is not available to you."},
		{"POST", "/api/v1/templates", `{"name":"x","colour":"red"}`, 422, "colour", "Unknown field colour."},
		{"PUT", "/api/v1/templates/0/mail", `{"subject":"s","body":"##passwort##"}`, 422, "body", "Unknown tag: ##passwort##."},
		{"PUT", "/api/v1/templates/0/mail", `{"subject":"s\r\nBcc: x@example.com","body":"b"}`, 422, "subject", "not allowed here"},
		{"PUT", "/api/v1/templates/0/mail", `{"from":"a@b.example\nBcc: x@example.com","subject":"s","body":"b"}`, 422, "from", "not allowed here"},
		{"PUT", "/api/v1/templates/" + id + "/mail", `{"from_name":"a\rb","subject":"s","body":"b"}`, 422, "from_name", "not allowed here"},
	}
	for _, b := range bad {
		code, body := api.do(b.method, b.path, b.body)
		var e struct{ Error apiErr }
		_ = json.Unmarshal([]byte(body), &e)
		if code != b.code || e.Error.Field != b.field || !strings.Contains(e.Error.Message, b.msg) {
			t.Errorf("%s %s %s: %d %s", b.method, b.path, b.body, code, body)
		}
	}
	if got := f.templateNames(f.res1); len(got) != 1 {
		t.Errorf("bad input stored templates: %v", got)
	}

	// Registration mails: 0 is the default.
	code, body = api.do("GET", "/api/v1/templates/0/mail", "")
	if code != 200 || !strings.Contains(body, `"stored": false`) || !strings.Contains(body, "##password##") {
		t.Errorf("default mail: %d %s", code, body)
	}
	code, body = api.do("PUT", "/api/v1/templates/"+id+"/mail", `{"from":"info@one.example","subject":"Welcome ##name##","body":"Login ##login##"}`)
	if code != 200 || !strings.Contains(body, `"stored": true`) || !strings.Contains(body, `"Welcome ##name##"`) {
		t.Errorf("put mail: %d %s", code, body)
	}

	// res2's template: 404 on every endpoint, whatever the body.
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/templates/" + fid, ""},
		{"PUT", "/api/v1/templates/" + fid, `{}`},
		{"PUT", "/api/v1/templates/" + fid, `{"name":"Mine","limits":{"beer":1}}`},
		{"DELETE", "/api/v1/templates/" + fid, ""},
		{"GET", "/api/v1/templates/" + fid + "/mail", ""},
		{"PUT", "/api/v1/templates/" + fid + "/mail", `{}`},
		{"PUT", "/api/v1/templates/" + fid + "/mail", `{"subject":"s","body":"b"}`},
		{"GET", "/api/v1/templates/-1/mail", ""},
		{"POST", "/api/v1/templates/delete", `{"ids":[` + id + `,` + fid + `]}`},
	} {
		if code, body := api.do(r.method, r.path, r.body); code != 404 || strings.Contains(body, "Secret Two") {
			t.Errorf("%s %s: %d %s", r.method, r.path, code, body)
		}
	}
	if got := f.templateNames(f.res1); len(got) != 1 {
		t.Errorf("the mixed delete deleted res1's template: %v", got)
	}
	if got, _ := f.app.Store.Template(t.Context(), resellerActor(f.res2), foreign.ID); got.Name != "Secret Two" || got.Limits[panel.ResStorage] != 700 {
		t.Errorf("res2's template changed: %+v", got)
	}
	// Users and the admin have no templates API.
	if code, _ := f.apiLogin(f.user1.Login).do("GET", "/api/v1/templates", ""); code != 403 {
		t.Errorf("user: %d", code)
	}
	if code, _ := f.apiLogin("admin").do("GET", "/api/v1/templates", ""); code != 403 {
		t.Errorf("admin: %d", code)
	}
	// Delete: several (all or none), and one.
	two := f.template(f.res1, "Two", nil, nil)
	if code, body := api.do("POST", "/api/v1/templates/delete", `{"ids":[]}`); code != 422 || !strings.Contains(body, "Select at least one template.") {
		t.Errorf("delete none: %d %s", code, body)
	}
	if code, _ := api.do("POST", "/api/v1/templates/delete", `{"ids":[`+id+`]}`); code != 204 {
		t.Errorf("delete several: %d", code)
	}
	if code, _ := api.do("DELETE", "/api/v1/templates/"+itoa(two.ID), ""); code != 204 {
		t.Errorf("delete one: %d", code)
	}
	if code, _ := api.do("GET", "/api/v1/templates/"+id+"/mail", ""); code != 404 {
		t.Errorf("mail of a deleted template: %d", code)
	}
	if got := f.templateNames(f.res1); len(got) != 0 {
		t.Errorf("after deletes: %v", got)
	}
}

func TestRegistrationMail(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a1, a2 := resellerActor(f.res1), resellerActor(f.res2)
	cr, _, err := f.app.CreateUser(ctx, a1, app.UserInput{Password: "geheim12",
		Profile: panel.Profile{Name: "Clara Gamma", Company: "Gamma GmbH", Email: "clara@gamma.example"},
		Domains: []store.NewDomain{{Name: "müller-bäckerei.de", DNS: true}, {Name: "gamma.example", DNS: true}}})
	if err != nil {
		t.Fatal(err)
	}
	u := cr.User

	// Nothing stored, no settings: the built-in English default, the
	// reseller as sender, hosts fall back to localhost.
	m, err := f.app.RegistrationMail(ctx, a1, 0, u, "geheim12")
	if err != nil {
		t.Fatal(err)
	}
	if m.To != "clara@gamma.example" || m.ToName != "Clara Gamma" || m.FromName != "Reseller One" ||
		m.Subject != "Your web hosting access data ("+u.Login+")" {
		t.Errorf("default mail headers: %+v", m)
	}
	for _, want := range []string{"Dear Clara Gamma,", "Login:    " + u.Login, "Password: geheim12",
		"Your domains: gamma.example, müller-bäckerei.de", "FTP server:  localhost", "Reseller One"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("default body lacks %q:\n%s", want, m.Body)
		}
	}
	if strings.Contains(m.Body, "##") {
		t.Errorf("a tag was left in:\n%s", m.Body)
	}

	// Server settings: the panel URL's host when there is no server name,
	// then the server name.
	set, _ := f.app.Settings(ctx)
	set.PanelURL = "https://panel.hoster.example:8443/"
	if err := f.app.SaveSettings(ctx, admin, set); err != nil {
		t.Fatal(err)
	}
	tp := f.template(f.res1, "Web S", nil, nil)
	every := ""
	for _, tag := range panel.MailTags() {
		every += tag + "=##" + tag + "##\n"
	}
	if err := f.app.SaveMailTemplate(ctx, a1, 0, panel.MailTemplate{TemplateID: tp.ID, FromName: "Hosting One",
		From: "info@one.example", Subject: "Welcome ##name## (##domain##)", Body: every}); err != nil {
		t.Fatal(err)
	}
	m, err = f.app.RegistrationMail(ctx, a1, tp.ID, u, "geheim12")
	if err != nil {
		t.Fatal(err)
	}
	if m.FromName != "Hosting One" || m.From != "info@one.example" || m.Subject != "Welcome Clara Gamma (gamma.example)" {
		t.Errorf("template mail headers: %+v", m)
	}
	want := map[string]string{"login": u.Login, "user": u.Login, "password": "geheim12", "panel_url": "https://panel.hoster.example:8443/",
		"domains": "gamma.example, müller-bäckerei.de", "domain": "gamma.example", "name": "Clara Gamma", "company": "Gamma GmbH",
		"email": "clara@gamma.example", "ftp_host": "panel.hoster.example", "pop3_host": "panel.hoster.example",
		"smtp_host": "panel.hoster.example", "reseller_name": "Reseller One", "reseller_company": "", "reseller_email": "", "reseller_phone": ""}
	for tag, v := range want {
		if !strings.Contains(m.Body+"\n", tag+"="+v+"\n") {
			t.Errorf("##%s## should read %q:\n%s", tag, v, m.Body)
		}
	}
	set.ServerName = "web01.hoster.example"
	if err := f.app.SaveSettings(ctx, admin, set); err != nil {
		t.Fatal(err)
	}
	m, _ = f.app.RegistrationMail(ctx, a1, tp.ID, u, "x")
	if !strings.Contains(m.Body, "smtp_host=web01.hoster.example\n") {
		t.Errorf("server name not used:\n%s", m.Body)
	}

	// A template without its own mail uses the stored default.
	other := f.template(f.res1, "Other", nil, nil)
	if err := f.app.SaveMailTemplate(ctx, a1, 0, panel.MailTemplate{Subject: "Default for ##login##", Body: "d"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.app.RegistrationMail(ctx, a1, other.ID, u, "x"); m.Subject != "Default for "+u.Login {
		t.Errorf("fallback to the default: %+v", m)
	}

	// Only for the reseller's own users and templates.
	_, err = f.app.RegistrationMail(ctx, a2, 0, u, "x")
	if panel.ErrorKind(err) != panel.KindNotFound {
		t.Errorf("res2 for res1's user: %v", err)
	}
	foreign := f.template(f.res2, "Two", nil, nil)
	_, err = f.app.RegistrationMail(ctx, a1, foreign.ID, u, "x")
	if panel.ErrorKind(err) != panel.KindNotFound {
		t.Errorf("res1 with res2's template: %v", err)
	}
	_, err = f.app.RegistrationMail(ctx, panel.Actor{ID: f.user1.ID, Role: panel.RoleUser}, 0, f.user1, "x")
	if err == nil {
		t.Error("a user generated a registration mail")
	}

	// A German reseller gets the German default.
	if err := f.app.Store.SetLanguageDesign(ctx, a2, "de", ""); err != nil {
		t.Fatal(err)
	}
	m, err = f.app.RegistrationMail(ctx, a2, 0, f.user2, "pw")
	if err != nil || !strings.Contains(m.Body, "Sehr geehrte(r) Bob Beta,") || !strings.Contains(m.Body, "Passwort:     pw") || m.To != "" {
		t.Errorf("German default: %v\n%+v", err, m)
	}
}
