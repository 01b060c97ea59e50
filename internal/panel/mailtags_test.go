package panel

import (
	"reflect"
	"strings"
	"testing"
)

func TestMailTagsCoverTheSpec(t *testing.T) {
	tags := MailTags()
	for _, want := range []string{"login", "password", "panel_url", "domains", "name", "company", "email",
		"ftp_host", "pop3_host", "smtp_host", "reseller_name", "reseller_company", "reseller_email", "reseller_phone"} {
		found := false
		for _, tg := range tags {
			found = found || tg == want
		}
		if !found {
			t.Errorf("tag %s missing from MailTags", want)
		}
	}
	seen := map[string]bool{}
	for _, tg := range tags {
		if seen[tg] {
			t.Errorf("tag %s listed twice", tg)
		}
		seen[tg] = true
	}
}

func TestRenderTags(t *testing.T) {
	vals := map[string]string{"login": "web7", "password": "##login##", "domains": "müller.de, b.example"}
	got := RenderTags("Hi ##login##, pw ##password##; ##domains## ##company## ##passwort## ##Login## ####", vals)
	// Known tags are replaced (a missing value is empty), a value that looks
	// like a tag is not expanded again, unknown and wrongly cased ones stay.
	want := "Hi web7, pw ##login##; müller.de, b.example  ##passwort## ##Login## ####"
	if got != want {
		t.Errorf("RenderTags = %q\nwant        %q", got, want)
	}
	if got := RenderTags("##login####login##", vals); got != "web7web7" {
		t.Errorf("adjacent tags: %q", got)
	}
}

func TestUnknownTags(t *testing.T) {
	got := UnknownTags("##login## ##passwort## ##Password## ##passwort## ## not a tag ## ##x.y##")
	if want := []string{"passwort", "Password", "x.y"}; !reflect.DeepEqual(got, want) {
		t.Errorf("UnknownTags = %v, want %v", got, want)
	}
	if got := UnknownTags("##login## and # single #"); got != nil {
		t.Errorf("only known tags: %v", got)
	}
}

func TestDefaultMailUsesKnownTags(t *testing.T) {
	for _, lang := range []string{"en", "de", "xx"} {
		m := DefaultMail(lang, 3)
		if m.TemplateID != 3 {
			t.Errorf("%s: template id %d", lang, m.TemplateID)
		}
		if _, err := m.Clean(); err != nil {
			t.Errorf("%s: the default mail does not pass its own rules: %v", lang, err)
		}
		for _, tg := range []string{"##login##", "##password##", "##panel_url##"} {
			if !strings.Contains(m.Body, tg) {
				t.Errorf("%s: default body lacks %s", lang, tg)
			}
		}
	}
	if de := DefaultMail("de", 0); !strings.Contains(de.Body, "Sehr geehrte") || !strings.Contains(de.Body, "Passwort") {
		t.Errorf("German default is not German: %s", de.Body)
	}
}

func wantInvalid(t *testing.T, err error, field, key string) {
	t.Helper()
	pe := AsError(err)
	if err == nil || pe.Kind != KindInvalid || pe.Field != field || pe.Key != key {
		t.Errorf("got %v, want invalid %s %s", err, field, key)
	}
}

func TestMailTemplateClean(t *testing.T) {
	ok := MailTemplate{FromName: " Petra Schneider ", From: "info@hoster.example", Subject: "Zugang ##login##",
		Body: "Hallo ##name##,\r\nIhr Passwort: ##password##\r\n\r\n"}
	m, err := ok.Clean()
	if err != nil {
		t.Fatal(err)
	}
	if m.FromName != "Petra Schneider" || m.Body != "Hallo ##name##,\nIhr Passwort: ##password##" {
		t.Errorf("cleaned: %+v", m)
	}
	// Empty sender: the reseller's own, filled in later.
	if _, err := (MailTemplate{Subject: "s", Body: "b"}).Clean(); err != nil {
		t.Errorf("empty sender refused: %v", err)
	}

	bad := []struct {
		name  string
		edit  func(*MailTemplate)
		field string
		key   string
	}{
		{"CRLF in subject", func(m *MailTemplate) { m.Subject = "Hi\r\nBcc: victim@example.com" }, "subject", "err.tplmail.header"},
		{"LF in subject", func(m *MailTemplate) { m.Subject = "Hi\nX: y" }, "subject", "err.tplmail.header"},
		{"NUL in subject", func(m *MailTemplate) { m.Subject = "Hi\x00" }, "subject", "err.tplmail.header"},
		{"CRLF in sender name", func(m *MailTemplate) { m.FromName = "Petra\r\nBcc: x@example.com" }, "from_name", "err.tplmail.header"},
		{"CRLF in sender address", func(m *MailTemplate) { m.From = "a@example.com\r\nBcc: x@example.com" }, "from", "err.tplmail.header"},
		{"quote in sender name", func(m *MailTemplate) { m.FromName = `Petra" <evil@example.com>` }, "from_name", "err.tplmail.from_name"},
		{"bad sender address", func(m *MailTemplate) { m.From = "not an address" }, "from", "err.email"},
		{"display name as address", func(m *MailTemplate) { m.From = "Petra <p@example.com>" }, "from", "err.email"},
		{"empty subject", func(m *MailTemplate) { m.Subject = "  " }, "subject", "err.required"},
		{"long subject", func(m *MailTemplate) { m.Subject = strings.Repeat("s", MaxMailSubjectLen+1) }, "subject", "err.text.long"},
		{"unknown tag in subject", func(m *MailTemplate) { m.Subject = "Ihr ##zugang##" }, "subject", "err.tplmail.unknown_tags"},
		{"empty body", func(m *MailTemplate) { m.Body = "\r\n \n" }, "body", "err.required"},
		{"unknown tag in body", func(m *MailTemplate) { m.Body = "Passwort: ##passwort##" }, "body", "err.tplmail.unknown_tags"},
		{"control char in body", func(m *MailTemplate) { m.Body = "a\x07b" }, "body", "err.tplmail.body_control"},
		{"long body", func(m *MailTemplate) { m.Body = strings.Repeat("b", MaxMailBodyLen+1) }, "body", "err.text.long"},
	}
	for _, c := range bad {
		m := ok
		c.edit(&m)
		_, err := m.Clean()
		wantInvalid(t, err, c.field, c.key)
	}
	// The message names every unknown tag, as typed.
	_, err = MailTemplate{Subject: "s", Body: "##passwort## ##login## ##Name## ##passwort##"}.Clean()
	if pe := AsError(err); len(pe.Args) != 1 || pe.Args[0] != "##passwort##, ##Name##" {
		t.Errorf("unknown tags args: %v", pe.Args)
	}
}

func TestTemplateClean(t *testing.T) {
	limits := ResellerLimits{
		ResStorage: {Value: 1000, Mode: ModeMaximum, AllowUnlimited: true},
		ResPOP3:    {Value: 5, Mode: ModeHard},
		ResEmail:   {Value: -1, Mode: ModeMaximum},
		ResTraffic: {Value: 5000, Mode: ModeMaximum},
		// every other resource: 0, not available
	}
	offered := ServiceSet{SvcPHP: 1, SvcShell: 1}
	ok := Template{Name: "  Web S ", Limits: Limits{ResStorage: -1, ResPOP3: 5, ResEmail: 50, ResTraffic: 9000},
		Services: ServiceSet{SvcPHP: 1, SvcShell: 1, SvcFTP: 0}}
	got, err := ok.Clean(limits, offered)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Web S" || len(got.Limits) != len(Resources()) || got.Limits[ResMySQL] != 0 || got.Limits[ResTraffic] != 9000 {
		t.Errorf("cleaned: %+v", got)
	}
	if _, on := got.Services[SvcFTP]; on {
		t.Errorf("an off service is kept: %v", got.Services)
	}

	bad := []struct {
		name  string
		edit  func(*Template)
		field string
		key   string
	}{
		{"empty name", func(t *Template) { t.Name = "   " }, "name", "err.required"},
		{"long name", func(t *Template) { t.Name = strings.Repeat("ä", MaxTemplateNameLen+1) }, "name", "err.text.long"},
		{"CRLF in name", func(t *Template) { t.Name = "Web\r\nS" }, "name", "err.text.control"},
		{"tab in name", func(t *Template) { t.Name = "Web\tS" }, "name", "err.text.control"},
		{"unlimited not allowed", func(t *Template) { t.Limits = Limits{ResPOP3: -1} }, "limit.pop3", "err.limit.no_unlimited"},
		{"unlimited where reseller is unlimited but may not grant it", func(t *Template) { t.Limits = Limits{ResEmail: -1} }, "limit.email", "err.limit.no_unlimited"},
		{"reseller limit 0", func(t *Template) { t.Limits = Limits{ResMySQL: 1} }, "limit.mysql_dbs", "err.limit.not_available"},
		{"over a hard limit", func(t *Template) { t.Limits = Limits{ResPOP3: 6} }, "limit.pop3", "err.template.over_hard"},
		{"below -1", func(t *Template) { t.Limits = Limits{ResStorage: -2} }, "limit.storage", "err.limit.range"},
		{"the users resource", func(t *Template) { t.Limits = Limits{ResUsers: 1} }, "limit", "err.limit.unknown"},
		{"unknown resource", func(t *Template) { t.Limits = Limits{"beer": 1} }, "limit", "err.limit.unknown"},
		{"service not offered", func(t *Template) { t.Services = ServiceSet{SvcSSL: 1} }, "service.ssl", "err.service.not_offered"},
		{"level not offered", func(t *Template) { t.Services = ServiceSet{SvcShell: 2} }, "service.shell", "err.service.not_offered"},
		{"unknown service", func(t *Template) { t.Services = ServiceSet{"telnet": 1} }, "service", "err.service.unknown"},
	}
	for _, c := range bad {
		tp := ok
		c.edit(&tp)
		_, err := tp.Clean(limits, offered)
		if pe := AsError(err); err == nil || pe.Field != c.field || pe.Key != c.key {
			t.Errorf("%s: got %v, want %s %s", c.name, err, c.field, c.key)
		}
	}
}

func TestTemplateCopiesShareNothing(t *testing.T) {
	tp := Template{Limits: Limits{ResStorage: 10}, Services: ServiceSet{SvcPHP: 1}}
	l, s := tp.UserLimits(), tp.UserServices()
	tp.Limits[ResStorage] = 99
	tp.Services[SvcPHP] = 0
	if l[ResStorage] != 10 || s[SvcPHP] != 1 || len(l) != len(Resources()) {
		t.Errorf("copies follow the template: %v %v", l, s)
	}
}
