package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kontor/internal/panel"
	"kontor/internal/store"
)

func (f *fixture) indexSetup(r panel.Reseller) store.IndexSetup {
	f.t.Helper()
	in, err := f.app.Store.GetIndexSetup(context.Background(), resellerActor(r), r.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return in
}

var srcdocRe = regexp.MustCompile(`<iframe class="idx-preview" sandbox="" srcdoc="([^"]*)"`)

// A page with a script and a tag is stored as written (line breaks as LF),
// and the panel shows it only escaped: in a sandboxed iframe's srcdoc and
// as source, with ##user## replaced for web1.
func TestIndexSetupSaveAndPreview(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")

	// The Settings overview offers the tool as ready, not "coming".
	_, body := c.get("/reseller/settings/")
	if !strings.Contains(body, `<a class="tile" href="/reseller/settings/index">`) {
		t.Errorf("the Index setup tile is not ready:\n%s", body)
	}
	code, body := c.get(indexSetupPath)
	if code != http.StatusOK {
		t.Fatalf("GET: %d", code)
	}
	if txt := text(body); !strings.Contains(txt, "Index setup") || !strings.Contains(txt, "every new user") ||
		!strings.Contains(txt, "never overwrites a file the user has uploaded") || !strings.Contains(txt, "No start page is set") {
		t.Errorf("fresh page: %s", txt)
	}
	if !strings.Contains(body, `name="name" value="index.html"`) {
		t.Error("the file name does not default to index.html")
	}

	page := "<html><head><script>alert('x')</script></head>\r\n<body><h1>Welcome, ##user##!</h1>\"</iframe><b>\r\n</body></html>"
	code, _, loc := c.post(indexSetupPath, url.Values{"name": {" start.html "}, "html": {page}})
	if code != http.StatusSeeOther || loc != indexSetupPath+"?done=index_saved" {
		t.Fatalf("save: %d %q", code, loc)
	}
	want := strings.ReplaceAll(page, "\r\n", "\n")
	if got := f.indexSetup(f.res1); got.Name != "start.html" || got.HTML != want {
		t.Fatalf("stored %+v", got)
	}
	_, body = c.get(loc)
	if !strings.Contains(text(body), "New users get it from now on") {
		t.Errorf("no success note: %s", text(body))
	}
	// Nothing of the page reaches the panel's own HTML unescaped.
	for _, raw := range []string{"<script>alert", "<h1>Welcome", "</iframe><b>"} {
		if strings.Contains(body, raw) {
			t.Errorf("the panel page contains %q unescaped", raw)
		}
	}
	m := srcdocRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no sandboxed preview iframe:\n%s", body)
	}
	if got := html.UnescapeString(m[1]); got != strings.ReplaceAll(want, "##user##", "web1") {
		t.Errorf("the preview's srcdoc is %q", got)
	}
	if txt := text(body); !strings.Contains(txt, "Preview for web1 start.html") || !strings.Contains(txt, "Welcome, web1!") {
		t.Errorf("preview and source: %s", txt)
	}
	// The textarea holds the page as stored, for the next edit.
	if !strings.Contains(body, html.EscapeString("<h1>Welcome, ##user##!</h1>")) {
		t.Error("the form does not show the stored page")
	}

	// The preview button shows the submitted page without saving it.
	code, body, _ = c.post(indexSetupPath, url.Values{"name": {"draft.html"}, "html": {"<p>Draft for ##login##</p>"}, "op": {"preview"}})
	if code != http.StatusOK || !strings.Contains(text(body), "not saved yet") || !strings.Contains(text(body), "Draft for web1") {
		t.Errorf("preview: %d %s", code, text(body))
	}
	if got := f.indexSetup(f.res1); got.Name != "start.html" {
		t.Errorf("the preview saved: %+v", got)
	}

	// An empty page means none; the name falls back to index.html.
	c.post(indexSetupPath, url.Values{"name": {""}, "html": {" \r\n "}})
	if got := f.indexSetup(f.res1); got != (store.IndexSetup{Name: "index.html"}) {
		t.Errorf("cleared: %+v", got)
	}

	// In German.
	_, body = c.get("/reseller/general/language")
	c.post("/reseller/general/language", url.Values{"language": {"de"}, "design": {"default"}})
	_, body = c.get(indexSetupPath)
	if !strings.Contains(text(body), "jedes neuen Benutzers") {
		t.Errorf("German page: %s", text(body))
	}
}

func TestIndexSetupBadInput(t *testing.T) {
	f := newFixture(t)
	c := f.login(f.res1.Login, "/reseller/")
	good := store.IndexSetup{Name: "index.html", HTML: "<p>##user##</p>"}
	c.get(indexSetupPath)
	if code, _, _ := c.post(indexSetupPath, url.Values{"name": {good.Name}, "html": {good.HTML}}); code != http.StatusSeeOther {
		t.Fatalf("good save: %d", code)
	}
	c.get(indexSetupPath)
	cases := []struct {
		name, html, field, msg string
	}{
		{"../index.html", "x", "name", "not starting with a dot"},
		{".htaccess", "x", "name", "not starting with a dot"},
		{"html/index.html", "x", "name", "letters, digits"},
		{"index.html\r\nX: y", "x", "name", "letters, digits"},
		{"in dex.html", "x", "name", "letters, digits"},
		{"index.html;rm -rf", "x", "name", "letters, digits"},
		{strings.Repeat("a", 65), "x", "name", "at most 64 characters"},
		{"index.html", strings.Repeat("a", 64<<10+1), "html", "larger than 64 KiB"},
		{"index.html", "a\x00b", "html", "control characters"},
		{"index.html", "Hello ##User##", "html", "Unknown tag: ##User##"},
	}
	for _, tc := range cases {
		for _, op := range []string{"", "preview"} {
			code, body, _ := c.post(indexSetupPath, url.Values{"name": {tc.name}, "html": {tc.html}, "op": {op}})
			if code != http.StatusUnprocessableEntity {
				t.Errorf("%q/%q op=%q: %d, want 422", tc.name, tc.html[:min(len(tc.html), 20)], op, code)
				continue
			}
			// The message sits at the field it is about.
			fieldErr := regexp.MustCompile(`(?s)id="` + tc.field + `"[^>]*>[^<]*(?:</textarea>)?<span class="ferr" role="alert">([^<]*)</span>`)
			m := fieldErr.FindStringSubmatch(body)
			if m == nil || !strings.Contains(html.UnescapeString(m[1]), tc.msg) {
				t.Errorf("%q op=%q: no message %q at field %s:\n%s", tc.name, op, tc.msg, tc.field, text(body))
			}
			// The submitted name comes back for correction, escaped.
			if tc.field == "name" && !strings.Contains(body, `value="`+html.EscapeString(tc.name)) && !strings.Contains(tc.name, "\r") {
				t.Errorf("%q: the form does not keep the submitted name", tc.name)
			}
		}
	}
	if got := f.indexSetup(f.res1); got != good {
		t.Fatalf("bad input changed the setup: %+v", got)
	}

	// Without the CSRF token, or with another session's, nothing is saved.
	other := f.login(f.res2.Login, "/reseller/")
	other.get(indexSetupPath)
	for _, tok := range []string{"", "x", other.csrf} {
		v := url.Values{"name": {"evil.html"}, "html": {"pwned"}}
		var code int
		if tok == "" {
			resp, err := c.http.PostForm(f.srv.URL+indexSetupPath, v)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			code = resp.StatusCode
		} else {
			v.Set("csrf", tok)
			code, _, _ = c.post(indexSetupPath, v)
		}
		if code != http.StatusForbidden {
			t.Errorf("csrf %q: %d, want 403", tok, code)
		}
	}
	if got := f.indexSetup(f.res1); got != good {
		t.Fatalf("a forged request changed the setup: %+v", got)
	}
}

// A reseller only ever reads and writes its own setup: ids slipped into
// the form or the URL change nothing of another reseller's, and other
// roles are refused.
func TestIndexSetupStaysWithItsReseller(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	theirs := store.IndexSetup{Name: "two.html", HTML: "<p>Reseller Two secret page</p>"}
	if err := f.app.Store.SetIndexSetup(ctx, resellerActor(f.res2), f.res2.ID, theirs); err != nil {
		t.Fatal(err)
	}
	c := f.login(f.res1.Login, "/reseller/")
	_, body := c.get(indexSetupPath)
	if strings.Contains(body, "secret page") || strings.Contains(body, "two.html") {
		t.Fatal("res1 sees res2's page")
	}
	id := itoa(f.res2.ID)
	code, _, _ := c.post(indexSetupPath+"?id="+id+"&reseller="+id, url.Values{"name": {"mine.html"}, "html": {"mine"},
		"id": {id}, "reseller": {id}, "reseller_id": {id}})
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d", code)
	}
	if got := f.indexSetup(f.res2); got != theirs {
		t.Fatalf("res2's setup changed: %+v", got)
	}
	if got := f.indexSetup(f.res1); got.Name != "mine.html" {
		t.Fatalf("res1's setup: %+v", got)
	}
	// No other role reaches the page, and no route takes a reseller id.
	for _, login := range []string{"admin", f.user1.Login} {
		want := "/admin/"
		if login != "admin" {
			want = "/user/"
		}
		b := f.login(login, want)
		if code, _ := b.get(indexSetupPath); code != http.StatusForbidden {
			t.Errorf("GET as %s: %d", login, code)
		}
		if code, _, _ := b.post(indexSetupPath, url.Values{"name": {"x.html"}, "html": {"x"}}); code != http.StatusForbidden {
			t.Errorf("POST as %s: %d", login, code)
		}
	}
	for _, p := range []string{"/reseller/settings/index/" + id, "/reseller/settings/index?reseller=" + id} {
		_, body := c.get(p)
		if strings.Contains(body, "secret page") {
			t.Errorf("%s shows res2's page", p)
		}
	}
}
