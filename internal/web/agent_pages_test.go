package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"kontor/internal/store"
)

// settingsForm is a valid admin settings form with the agent's facts.
func settingsForm(ns, mailHost, cf string) url.Values {
	return url.Values{"password_min": {"6"}, "password_max": {"40"}, "panel_url": {"https://panel.example.net"},
		"server_name": {"host.example.net"}, "mail_relay": {"localhost:25"},
		"dns_nameservers": {ns}, "mail_host": {mailHost}, "coldfusion": {cf}}
}

func TestAdminSettingsServerFacts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.login("admin", "/admin/")
	_, body := c.get("/admin/settings")
	for _, want := range []string{"Name servers", "Mail host", "ColdFusion engine", "ns1 and ns2 of the server host name"} {
		if !strings.Contains(text(body), want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	code, _, loc := c.post("/admin/settings", settingsForm("ns1.example.net\r\nns2.example.net  NS3.Example.NET\n", " MX.example.net ", "cf.example.net:8500"))
	if code != http.StatusSeeOther || loc != "/admin/settings?done=saved" {
		t.Fatalf("save: %d %q", code, loc)
	}
	set, err := f.app.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ns1.example.net", "ns2.example.net", "ns3.example.net"}; !reflect.DeepEqual(set.DNSNameServers, want) ||
		set.MailHost != "mx.example.net" || set.ColdFusion != "cf.example.net:8500" {
		t.Fatalf("stored %q %q %q", set.DNSNameServers, set.MailHost, set.ColdFusion)
	}
	// The form shows them again, the name servers one a line.
	_, body = c.get(loc)
	if !strings.Contains(body, ">ns1.example.net\nns2.example.net\nns3.example.net</textarea>") ||
		!strings.Contains(body, `name="mail_host" value="mx.example.net"`) || !strings.Contains(body, `name="coldfusion" value="cf.example.net:8500"`) {
		t.Errorf("the form does not show the stored facts:\n%s", body)
	}

	// Bad values: the message sits at the field, and nothing is stored.
	cases := []struct{ ns, mx, cf, field string }{
		{"ns1.example.net bad_name.example", "", "", "dns_nameservers"},
		{"ns1..example.net", "", "", "dns_nameservers"},
		{"ns1.example.net;rm", "", "", "dns_nameservers"},
		{"", "mail host.example", "", "mail_host"},
		{"", "mx.example.net\r\nBcc: x", "", "mail_host"},
		{"", "", "cf.example.net", "coldfusion"},
		{"", "", "cf.example.net:99999", "coldfusion"},
		{"", "", "cf.example.net:80 x", "coldfusion"},
		{"", "", "`id`:80", "coldfusion"},
	}
	for _, tc := range cases {
		code, body, _ := c.post("/admin/settings", settingsForm(tc.ns, tc.mx, tc.cf))
		if code != http.StatusUnprocessableEntity {
			t.Errorf("%+v: %d, want 422", tc, code)
			continue
		}
		re := regexp.MustCompile(`(?s)id="` + tc.field + `"[^>]*>(?:[^<]*</textarea>)?<span class="ferr" role="alert">[^<]+</span>`)
		if !re.MatchString(body) {
			t.Errorf("%+v: no message at %s:\n%s", tc, tc.field, text(body))
		}
	}
	if after, _ := f.app.Settings(ctx); !reflect.DeepEqual(after, set) {
		t.Fatalf("bad input changed the settings: %+v", after)
	}
	// Empty fields mean the defaults.
	if code, _, _ := c.post("/admin/settings", settingsForm("", "", "")); code != http.StatusSeeOther {
		t.Fatalf("clear: %d", code)
	}
	if after, _ := f.app.Settings(ctx); len(after.DNSNameServers) != 0 || after.MailHost != "" || after.ColdFusion != "" {
		t.Fatalf("cleared: %+v", after)
	}
	// Without a CSRF token nothing is saved; a reseller may not at all.
	v := settingsForm("ns9.example.net", "", "")
	v.Set("csrf", "forged")
	if code, _, _ := c.post("/admin/settings", v); code != http.StatusForbidden {
		t.Errorf("forged csrf: %d", code)
	}
	r := f.login(f.res1.Login, "/reseller/")
	r.get("/reseller/general/password")
	if code, _, _ := r.post("/admin/settings", settingsForm("ns9.example.net", "", "")); code != http.StatusForbidden {
		t.Errorf("reseller: %d", code)
	}
	if after, _ := f.app.Settings(ctx); len(after.DNSNameServers) != 0 {
		t.Fatalf("a refused request changed the settings: %+v", after)
	}
}

// syncRe finds the visible agent status on a user's page, with its style.
var syncRe = regexp.MustCompile(`(?s)<(?:p|div) class="note (\w+) sync" id="sync"[^>]*>(.*?)</(?:p|div)>\s*\n`)

func (f *fixture) syncOn(c *client, id int64) (style, txt string) {
	f.t.Helper()
	code, body := c.get("/reseller/user/" + itoa(id))
	if code != http.StatusOK {
		f.t.Fatalf("user page: %d", code)
	}
	m := syncRe.FindStringSubmatch(body)
	if m == nil {
		f.t.Fatalf("no agent status on the user page:\n%s", body)
	}
	return m[1], html.UnescapeString(text(m[2]))
}

// nextSecond waits until the clock is in a later whole second than t: the
// journal and the agent's status keep whole seconds.
func nextSecond(t time.Time) {
	time.Sleep(time.Until(t.Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
}

func TestUserPageShowsAgentStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.login(f.res1.Login, "/reseller/")
	u := f.user1
	record := func(r store.AgentResult) {
		t.Helper()
		r.AccountID, r.Login, r.ResellerID = u.ID, u.Login, f.res1.ID
		if err := f.app.Store.RecordAgentResults(ctx, []store.AgentResult{r}); err != nil {
			t.Fatal(err)
		}
	}

	// Created, never applied.
	if style, txt := f.syncOn(c, u.ID); style != "warn" || !strings.HasPrefix(txt, "Waiting for the server.") {
		t.Errorf("new user: %s %q", style, txt)
	}
	nextSecond(time.Now())
	record(store.AgentResult{})
	applied := time.Now()
	if style, txt := f.syncOn(c, u.ID); style != "ok" || !strings.HasPrefix(txt, "Applied on the server at "+applied.Format("2006-01-02")) {
		t.Errorf("applied: %s %q", style, txt)
	}
	// A change after the apply waits for the server again.
	nextSecond(applied)
	c.post("/reseller/user/"+itoa(u.ID)+"/status", url.Values{"status": {"locked"}})
	if style, txt := f.syncOn(c, u.ID); style != "warn" || !strings.Contains(txt, "Waiting for the server") {
		t.Errorf("changed after the apply: %s %q", style, txt)
	}
	// A failure shows the daemon's text, escaped, in the error style.
	record(store.AgentResult{Failed: true, Detail: "apache2: Syntax error on line 3 of <script>alert(1)</script>"})
	_, body := c.get("/reseller/user/" + itoa(u.ID))
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("the failure detail reaches the page unescaped")
	}
	if style, txt := f.syncOn(c, u.ID); style != "error" || !strings.HasPrefix(txt, "Failed:") ||
		!strings.Contains(txt, "apache2: Syntax error on line 3 of <script>alert(1)</script>") {
		t.Errorf("failed: %s %q", style, txt)
	}
	// Recovered.
	nextSecond(time.Now())
	record(store.AgentResult{})
	if style, _ := f.syncOn(c, u.ID); style != "ok" {
		t.Errorf("recovered: %s", style)
	}

	// Another reseller's user: neither its page nor its status.
	if code, body := c.get("/reseller/user/" + itoa(f.user2.ID)); code != http.StatusNotFound || strings.Contains(body, `id="sync"`) {
		t.Errorf("foreign user: %d", code)
	}
	if _, err := f.app.UserSync(ctx, resellerActor(f.res1), f.user2.ID); err == nil {
		t.Error("UserSync answers for another reseller's user")
	}

	// In German.
	c.post("/reseller/general/language", url.Values{"language": {"de"}, "design": {"default"}})
	if _, txt := f.syncOn(c, u.ID); !strings.HasPrefix(txt, "Auf dem Server übernommen am") {
		t.Errorf("German: %q", txt)
	}
}
