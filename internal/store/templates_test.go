package store

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"kontor/internal/panel"
)

// tplReseller is a reseller with a few resources and services to grant.
func tplReseller(t *testing.T, s *Store) (panel.Reseller, panel.Actor) {
	t.Helper()
	return reseller(t, s, panel.ResellerLimits{
		panel.ResUsers:   {Value: 10, Mode: panel.ModeHard},
		panel.ResStorage: {Value: 5000, Mode: panel.ModeMaximum, AllowUnlimited: true},
		panel.ResPOP3:    {Value: 20, Mode: panel.ModeHard},
		panel.ResTraffic: {Value: 10000, Mode: panel.ModeMaximum},
	}, panel.ServiceSet{panel.SvcPHP: 1, panel.SvcFTP: 1, panel.SvcShell: 1})
}

func mustTemplate(t *testing.T, s *Store, a panel.Actor, tp panel.Template) panel.Template {
	t.Helper()
	out, err := s.CreateTemplate(context.Background(), a, tp)
	if err != nil {
		t.Fatalf("create template %q: %v", tp.Name, err)
	}
	return out
}

func templateNames(t *testing.T, s *Store, a panel.Actor) []string {
	t.Helper()
	ts, err := s.Templates(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, x := range ts {
		names = append(names, x.Name)
	}
	return names
}

func TestTemplatesCreateListChange(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := tplReseller(t, s)
		web := mustTemplate(t, s, a, panel.Template{Name: " Web M ", Limits: panel.Limits{panel.ResStorage: 2000, panel.ResPOP3: 10},
			Services: panel.ServiceSet{panel.SvcPHP: 1, panel.SvcShell: 1}})
		mustTemplate(t, s, a, panel.Template{Name: "Basic", Limits: panel.Limits{panel.ResStorage: -1}})
		mustTemplate(t, s, a, panel.Template{Name: "zero"})
		if web.Name != "Web M" || web.ResellerID != a.ID || web.Limits[panel.ResStorage] != 2000 || web.Services[panel.SvcShell] != 1 {
			t.Fatalf("created: %+v", web)
		}
		// Listed by name, case-insensitively, with all limits and services.
		if got := templateNames(t, s, a); !reflect.DeepEqual(got, []string{"Basic", "Web M", "zero"}) {
			t.Errorf("order: %v", got)
		}
		ts, _ := s.Templates(ctx, a)
		if ts[0].Limits[panel.ResStorage] != -1 || ts[1].Limits[panel.ResPOP3] != 10 || !ts[1].Services.On(panel.SvcPHP) || len(ts[2].Limits) != 12 {
			t.Errorf("list content: %+v", ts)
		}
		got, err := s.Template(ctx, a, web.ID)
		if err != nil || !reflect.DeepEqual(got, web) {
			t.Errorf("Template = %+v, %v; want %+v", got, err, web)
		}

		// Change: name, limits and services are replaced.
		web.Name, web.Limits, web.Services = "Web L", panel.Limits{panel.ResStorage: 4000}, panel.ServiceSet{panel.SvcFTP: 1}
		up, err := s.UpdateTemplate(ctx, a, web)
		if err != nil {
			t.Fatal(err)
		}
		if up.Name != "Web L" || up.Limits[panel.ResStorage] != 4000 || up.Limits[panel.ResPOP3] != 0 || up.Services.On(panel.SvcPHP) || !up.Services.On(panel.SvcFTP) {
			t.Errorf("updated: %+v", up)
		}
		// Renaming to its own name in another case is fine.
		up.Name = "WEB L"
		if _, err := s.UpdateTemplate(ctx, a, up); err != nil {
			t.Errorf("rename to own name: %v", err)
		}
	})
}

func TestTemplateBadInputStoresNothing(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := tplReseller(t, s)
		orig := mustTemplate(t, s, a, panel.Template{Name: "Web S", Limits: panel.Limits{panel.ResPOP3: 3}})
		other := mustTemplate(t, s, a, panel.Template{Name: "Other"})
		cases := []struct {
			tp    panel.Template
			kind  panel.Kind
			field string
			key   string
		}{
			{panel.Template{Name: ""}, panel.KindInvalid, "name", "err.required"},
			{panel.Template{Name: strings.Repeat("x", 65)}, panel.KindInvalid, "name", "err.text.long"},
			{panel.Template{Name: "a\r\nb"}, panel.KindInvalid, "name", "err.text.control"},
			{panel.Template{Name: "web s"}, panel.KindConflict, "name", "err.template.name_taken"},
			{panel.Template{Name: "n", Limits: panel.Limits{panel.ResPOP3: -1}}, panel.KindInvalid, "limit.pop3", "err.limit.no_unlimited"},
			{panel.Template{Name: "n", Limits: panel.Limits{panel.ResMySQL: 2}}, panel.KindInvalid, "limit.mysql_dbs", "err.limit.not_available"},
			{panel.Template{Name: "n", Limits: panel.Limits{panel.ResPOP3: 21}}, panel.KindInvalid, "limit.pop3", "err.template.over_hard"},
			{panel.Template{Name: "n", Services: panel.ServiceSet{panel.SvcSSL: 1}}, panel.KindInvalid, "service.ssl", "err.service.not_offered"},
			{panel.Template{Name: "n", Services: panel.ServiceSet{panel.SvcShell: 2}}, panel.KindInvalid, "service.shell", "err.service.not_offered"},
		}
		for _, c := range cases {
			_, err := s.CreateTemplate(ctx, a, c.tp)
			if pe := wantKind(t, err, c.kind, c.key); pe.Field != c.field {
				t.Errorf("create %+v: field %q, want %q", c.tp, pe.Field, c.field)
			}
			// The same input as a change of "Other" leaves it as it was.
			c.tp.ID = other.ID
			_, err = s.UpdateTemplate(ctx, a, c.tp)
			if pe := wantKind(t, err, c.kind, c.key); pe.Field != c.field {
				t.Errorf("update %+v: field %q", c.tp, pe.Field)
			}
		}
		if got := templateNames(t, s, a); !reflect.DeepEqual(got, []string{"Other", "Web S"}) {
			t.Errorf("after bad input: %v", got)
		}
		if got, _ := s.Template(ctx, a, orig.ID); !reflect.DeepEqual(got, orig) {
			t.Errorf("Web S changed: %+v", got)
		}
		if got, _ := s.Template(ctx, a, other.ID); !reflect.DeepEqual(got, other) {
			t.Errorf("Other changed: %+v", got)
		}
		// Deleting none is a mistake, not a success.
		wantKind(t, s.DeleteTemplates(ctx, a, nil), panel.KindInvalid, "err.template.none_selected")
	})
}

func TestTemplateOwnership(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r1, a1 := tplReseller(t, s)
		_, a2 := tplReseller(t, s)
		t1 := mustTemplate(t, s, a1, panel.Template{Name: "One", Limits: panel.Limits{panel.ResStorage: 100}})
		t1b := mustTemplate(t, s, a1, panel.Template{Name: "One B"})
		t2 := mustTemplate(t, s, a2, panel.Template{Name: "Two"})
		// The same name is fine for another reseller.
		mustTemplate(t, s, a2, panel.Template{Name: "One"})

		// res2 sees nothing of res1's: read, change, delete, mail.
		_, err := s.Template(ctx, a2, t1.ID)
		wantKind(t, err, panel.KindNotFound, "err.notfound")
		_, err = s.UpdateTemplate(ctx, a2, panel.Template{ID: t1.ID, Name: "stolen"})
		wantKind(t, err, panel.KindNotFound, "err.notfound")
		// Not found comes before any complaint about the input.
		_, err = s.UpdateTemplate(ctx, a2, panel.Template{ID: t1.ID})
		wantKind(t, err, panel.KindNotFound, "err.notfound")
		_, _, err = s.MailTemplate(ctx, a2, 0, t1.ID)
		wantKind(t, err, panel.KindNotFound, "err.notfound")
		wantKind(t, s.SetMailTemplate(ctx, a2, 0, panel.MailTemplate{TemplateID: t1.ID}), panel.KindNotFound, "err.notfound")
		_, err = s.TemplatesOf(ctx, a2, r1.ID)
		wantKind(t, err, panel.KindNotFound, "err.notfound")
		// Several at once with one foreign id among its own: nothing is deleted.
		wantKind(t, s.DeleteTemplates(ctx, a2, []int64{t2.ID, t1.ID}), panel.KindNotFound, "err.notfound")
		wantKind(t, s.DeleteTemplates(ctx, a1, []int64{t1.ID, t1b.ID, 999999}), panel.KindNotFound, "err.notfound")
		if got := templateNames(t, s, a1); !reflect.DeepEqual(got, []string{"One", "One B"}) {
			t.Errorf("res1 after foreign deletes: %v", got)
		}
		if got := templateNames(t, s, a2); !reflect.DeepEqual(got, []string{"One", "Two"}) {
			t.Errorf("res2 after foreign deletes: %v", got)
		}
		if got, _ := s.Template(ctx, a1, t1.ID); got.Name != "One" || got.Limits[panel.ResStorage] != 100 {
			t.Errorf("res1's template changed: %+v", got)
		}
		// Its own, several at once (a repeated id counts once).
		if err := s.DeleteTemplates(ctx, a1, []int64{t1.ID, t1b.ID, t1.ID}); err != nil {
			t.Fatal(err)
		}
		if got := templateNames(t, s, a1); len(got) != 0 {
			t.Errorf("res1 after delete: %v", got)
		}

		// Users have no templates; the admin owns none but reaches every reseller's.
		user := panel.Actor{ID: r1.DefaultUserID, Role: panel.RoleUser}
		_, err = s.Templates(ctx, user)
		wantKind(t, err, panel.KindForbidden, "err.forbidden")
		_, err = s.Template(ctx, user, t2.ID)
		wantKind(t, err, panel.KindNotFound, "err.notfound")
		if ts, err := s.Templates(ctx, admin); err != nil || len(ts) != 0 {
			t.Errorf("admin's own templates: %v %v", ts, err)
		}
		ts, err := s.TemplatesOf(ctx, admin, a2.ID)
		if err != nil || len(ts) != 2 {
			t.Errorf("admin lists res2's: %v %v", ts, err)
		}
		created := mustTemplate(t, s, admin, panel.Template{ResellerID: a2.ID, Name: "By admin"})
		if created.ResellerID != a2.ID {
			t.Errorf("admin created for %d", created.ResellerID)
		}
		_, err = s.CreateTemplate(ctx, admin, panel.Template{Name: "nobody's"})
		wantKind(t, err, panel.KindInvalid, "err.required")
		_, err = s.CreateTemplate(ctx, admin, panel.Template{ResellerID: r1.DefaultUserID, Name: "x"})
		wantKind(t, err, panel.KindNotFound, "err.notfound")
		// A reseller cannot create for another.
		_, err = s.CreateTemplate(ctx, a1, panel.Template{ResellerID: a2.ID, Name: "x"})
		wantKind(t, err, panel.KindNotFound, "err.notfound")

		// Deleting a reseller takes its templates and mails with it.
		if err := s.SetMailTemplate(ctx, a2, 0, panel.MailTemplate{TemplateID: t2.ID, Subject: "s", Body: "b"}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, admin, a2.ID); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"templates", "template_limits", "mail_templates"} {
			var n int
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s after deleting the reseller: %d rows, %v", table, n, err)
			}
		}
	})
}

// TPL-2: changing or deleting a template never changes users created from it.
func TestTemplateChangesNoUser(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := tplReseller(t, s)
		tp := mustTemplate(t, s, a, panel.Template{Name: "Web M",
			Limits:   panel.Limits{panel.ResStorage: 2000, panel.ResPOP3: 10},
			Services: panel.ServiceSet{panel.SvcPHP: 1, panel.SvcShell: 1}})
		res, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h",
			Limits: tp.UserLimits(), Services: tp.UserServices()})
		if err != nil {
			t.Fatal(err)
		}
		before := res.User
		if before.Limits[panel.ResStorage] != 2000 || !before.Services.On(panel.SvcShell) {
			t.Fatalf("user not created from the template: %+v", before)
		}
		usage := func() []panel.UsageRow {
			u, err := s.Usage(ctx, a, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		usageBefore := usage()

		tp.Limits = panel.Limits{panel.ResStorage: 10, panel.ResPOP3: 1}
		tp.Services = panel.ServiceSet{panel.SvcFTP: 1}
		if _, err := s.UpdateTemplate(ctx, a, tp); err != nil {
			t.Fatal(err)
		}
		after, err := s.User(ctx, a, before.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(after.Limits, before.Limits) || !reflect.DeepEqual(after.Services, before.Services) {
			t.Errorf("changing the template changed the user:\nbefore %v %v\nafter  %v %v", before.Limits, before.Services, after.Limits, after.Services)
		}
		if err := s.DeleteTemplates(ctx, a, []int64{tp.ID}); err != nil {
			t.Fatal(err)
		}
		after, err = s.User(ctx, a, before.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(after.Limits, before.Limits) || !reflect.DeepEqual(after.Services, before.Services) {
			t.Errorf("deleting the template changed the user: %v %v", after.Limits, after.Services)
		}
		if !reflect.DeepEqual(usage(), usageBefore) {
			t.Errorf("the reseller's allocation moved with the template")
		}
	})
}

func TestMailTemplates(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r1, a := tplReseller(t, s)
		tp := mustTemplate(t, s, a, panel.Template{Name: "Web S"})
		keep := mustTemplate(t, s, a, panel.Template{Name: "Keep"})

		// Nothing stored yet.
		m, found, err := s.MailTemplate(ctx, a, 0, 0)
		if err != nil || found || m.TemplateID != 0 {
			t.Fatalf("empty store: %+v %v %v", m, found, err)
		}
		def := panel.MailTemplate{TemplateID: 0, FromName: "R One", From: "r1@hoster.example", Subject: "Access ##login##", Body: "Hi ##name##\r\npw ##password##"}
		if err := s.SetMailTemplate(ctx, a, 0, def); err != nil {
			t.Fatal(err)
		}
		per := panel.MailTemplate{TemplateID: tp.ID, Subject: "Web S ready", Body: "##domains##"}
		if err := s.SetMailTemplate(ctx, a, 0, per); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMailTemplate(ctx, a, 0, panel.MailTemplate{TemplateID: keep.ID, Subject: "Keep", Body: "keep"}); err != nil {
			t.Fatal(err)
		}
		m, found, err = s.MailTemplate(ctx, a, 0, 0)
		if err != nil || !found || m.Subject != "Access ##login##" || m.Body != "Hi ##name##\npw ##password##" || m.From != "r1@hoster.example" {
			t.Errorf("default: %+v %v %v", m, found, err)
		}
		// Storing again replaces.
		per.Subject = "Web S is ready"
		if err := s.SetMailTemplate(ctx, a, r1.ID, per); err != nil {
			t.Fatal(err)
		}
		m, found, _ = s.MailTemplate(ctx, a, 0, tp.ID)
		if !found || m.Subject != "Web S is ready" || m.TemplateID != tp.ID {
			t.Errorf("per template: %+v", m)
		}

		// Bad input is refused and the stored mail stays.
		for _, bad := range []panel.MailTemplate{
			{TemplateID: tp.ID, Subject: "x\r\nBcc: a@b.example", Body: "b"},
			{TemplateID: tp.ID, FromName: "x\nBcc: a@b.example", Subject: "s", Body: "b"},
			{TemplateID: tp.ID, From: "a@b.example\r\nBcc: c@d.example", Subject: "s", Body: "b"},
			{TemplateID: tp.ID, Subject: "s", Body: "##passwort##"},
			{TemplateID: tp.ID, Subject: "", Body: "b"},
		} {
			err := s.SetMailTemplate(ctx, a, 0, bad)
			wantKind(t, err, panel.KindInvalid, "")
		}
		wantKind(t, s.SetMailTemplate(ctx, a, 0, panel.MailTemplate{TemplateID: 999999, Subject: "s", Body: "b"}), panel.KindNotFound, "err.notfound")
		wantKind(t, s.SetMailTemplate(ctx, a, 0, panel.MailTemplate{TemplateID: -1, Subject: "s", Body: "b"}), panel.KindNotFound, "err.notfound")
		if m, _, _ := s.MailTemplate(ctx, a, 0, tp.ID); m.Subject != "Web S is ready" {
			t.Errorf("bad input changed the mail: %+v", m)
		}

		// Deleting a template deletes its mail, not the default nor others'.
		if err := s.DeleteTemplates(ctx, a, []int64{tp.ID}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM mail_templates WHERE template_id = ?`), tp.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("mail of the deleted template: %d rows, %v", n, err)
		}
		if _, found, _ := s.MailTemplate(ctx, a, 0, 0); !found {
			t.Error("the default mail went with the template")
		}
		if m, found, _ := s.MailTemplate(ctx, a, 0, keep.ID); !found || m.Subject != "Keep" {
			t.Error("another template's mail went too")
		}
		_, _, err = s.MailTemplate(ctx, a, 0, tp.ID)
		wantKind(t, err, panel.KindNotFound, "err.notfound")
	})
}

func TestResellerPhone(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r1, a1 := tplReseller(t, s)
		_, a2 := tplReseller(t, s)
		if p, err := s.ResellerPhone(ctx, a1, r1.ID); err != nil || p != "" {
			t.Errorf("no phone: %q %v", p, err)
		}
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE accounts SET phone = ? WHERE id = ?`), "+49 30 1234", r1.ID); err != nil {
			t.Fatal(err)
		}
		if p, err := s.ResellerPhone(ctx, a1, r1.ID); err != nil || p != "+49 30 1234" {
			t.Errorf("phone: %q %v", p, err)
		}
		if p, err := s.ResellerPhone(ctx, admin, r1.ID); err != nil || p != "+49 30 1234" {
			t.Errorf("admin: %q %v", p, err)
		}
		_, err := s.ResellerPhone(ctx, a2, r1.ID)
		wantKind(t, err, panel.KindNotFound, "err.notfound")
	})
}
