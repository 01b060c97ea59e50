package cli

import (
	"context"
	"strings"
	"testing"

	"kontor/internal/panel"
	"kontor/internal/store"
)

func TestTemplateCommands(t *testing.T) {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	h.must(h.dbRun("reseller", "create", "--limit", "users=5:hard", "--limit", "storage=2000:max:unlimited",
		"--limit", "pop3=10:hard", "--service", "php=1", "--service", "ftp=1", "--service", "shell=sftp"))
	h.must(h.dbRun("reseller", "create", "--login", "acme", "--limit", "users=1:hard", "--limit", "storage=100"))

	r := h.must(h.dbRun("template", "create", "--reseller", "res1", "--name", "Web S",
		"--limit", "storage=500", "--limit", "pop3=5", "--service", "php=on", "--service", "shell=sftp"))
	if !strings.Contains(r.out, "template: Web S (id ") || !strings.Contains(r.out, "limits:   storage=500 pop3=5") ||
		!strings.Contains(r.out, "services: php shell=1") {
		t.Errorf("create output:\n%s", r.out)
	}
	h.must(h.dbRun("template", "create", "--reseller", "res1", "--name", "Big", "--limit", "storage=-1"))
	h.must(h.dbRun("template", "create", "--reseller", "acme", "--name", "Web S"))

	r = h.must(h.dbRun("template", "list", "--reseller", "res1"))
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "Big") || !strings.Contains(lines[1], "storage=unlimited") ||
		!strings.Contains(lines[2], "Web S") || lines[3] != "2 templates" {
		t.Errorf("list output:\n%s", r.out)
	}

	// What the store refuses: exit 1, the field named, nothing stored.
	for _, tc := range []struct {
		args   []string
		substr string
	}{
		{[]string{"--name", "web s"}, "kontor: name: You already have a template named web s."},
		{[]string{"--name", strings.Repeat("x", 65)}, "kontor: name: At most 64 characters are allowed."},
		{[]string{"--name", "a\nb"}, "kontor: name: Control characters"},
		{[]string{"--name", "n", "--limit", "pop3=-1"}, "kontor: limit.pop3: POP3 boxes: you are not authorised to grant unlimited (-1)."},
		{[]string{"--name", "n", "--limit", "mysql_dbs=1"}, "kontor: limit.mysql_dbs: MySQL databases is not available to you (limit 0)."},
		{[]string{"--name", "n", "--limit", "pop3=11"}, "kontor: limit.pop3: POP3 boxes: your hard limit is 10"},
		{[]string{"--name", "n", "--service", "ssl=1"}, "kontor: service.ssl: SSL is not available to you."},
		{[]string{"--name", "n", "--service", "shell=full"}, "kontor: service.shell: Shell access is not available to you."},
	} {
		r := h.dbRun(append([]string{"template", "create", "--reseller", "res1"}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.errOut, tc.substr) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", tc.args, r.code, r.errOut, tc.substr)
		}
	}
	// Mistakes on the command line: exit 2.
	for _, tc := range []struct {
		args   []string
		substr string
	}{
		{[]string{"template", "create", "--name", "n"}, "--reseller is required"},
		{[]string{"template", "create", "--reseller", "res1"}, "--name is required"},
		{[]string{"template", "create", "--reseller", "res1", "--name", "n", "--limit", "storage=lots"}, `"lots" is not a limit`},
		{[]string{"template", "create", "--reseller", "res1", "--name", "n", "--limit", "users=1"}, `unknown resource "users"`},
		{[]string{"template", "create", "--reseller", "res1", "--name", "n", "--limit", "storage=5:hard"}, "are for reseller limits"},
		{[]string{"template", "create", "--reseller", "res1", "--name", "n", "--service", "telnet=1"}, `unknown service "telnet"`},
		{[]string{"template", "list"}, "--reseller is required"},
		{[]string{"template", "delete", "--reseller", "res1"}, "name at least one template"},
		{[]string{"template", "frobnicate"}, `unknown command "template frobnicate"`},
	} {
		r := h.dbRun(tc.args...)
		if r.code != 2 || !strings.Contains(r.errOut, tc.substr) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.errOut, tc.substr)
		}
	}
	r = h.dbRun("template", "list", "--reseller", "nobody")
	if r.code != 1 || !strings.Contains(r.errOut, "kontor: --reseller: Not found: reseller nobody.") {
		t.Errorf("unknown reseller: %+v", r)
	}

	// Delete: all named or none; names are found case-insensitively and
	// only among the reseller's own templates.
	r = h.dbRun("template", "delete", "--reseller", "res1", "Big", "Nope")
	if r.code != 1 || !strings.Contains(r.errOut, `Not found: template "Nope" of res1.`) {
		t.Errorf("delete with an unknown name: %+v", r)
	}
	st := h.store()
	res1 := resellerByLogin(t, st, "res1")
	acme := resellerByLogin(t, st, "acme")
	count := func(id int64) int {
		ts, err := st.TemplatesOf(context.Background(), admin, id)
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	if count(res1.ID) != 2 {
		t.Errorf("a failed delete deleted something: %d left", count(res1.ID))
	}
	r = h.must(h.dbRun("template", "delete", "--reseller", "res1", "big", "Web S"))
	if r.out != "deleted: Big\ndeleted: Web S\n" {
		t.Errorf("delete output %q", r.out)
	}
	if count(res1.ID) != 0 || count(acme.ID) != 1 {
		t.Errorf("after delete: res1 %d, acme %d", count(res1.ID), count(acme.ID))
	}
	r = h.must(h.dbRun("template", "list", "--reseller", "res1"))
	if !strings.HasSuffix(r.out, "0 templates\n") {
		t.Errorf("empty list %q", r.out)
	}
}

// A user created with a template's limits keeps them when the template
// changes or goes (TPL-2), seen from the command line.
func TestTemplateDeleteKeepsUsers(t *testing.T) {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	h.must(h.dbRun("reseller", "create", "--limit", "users=5:hard", "--limit", "storage=2000", "--service", "php=1"))
	h.must(h.dbRun("template", "create", "--reseller", "res1", "--name", "Web S", "--limit", "storage=300", "--service", "php=1"))
	st := h.store()
	ctx := context.Background()
	res1 := resellerByLogin(t, st, "res1")
	ts, err := st.TemplatesOf(ctx, admin, res1.ID)
	if err != nil || len(ts) != 1 {
		t.Fatal(ts, err)
	}
	cr, err := st.CreateUser(ctx, admin, store.NewUser{ResellerID: res1.ID, PasswordHash: "h", Limits: ts[0].UserLimits(), Services: ts[0].UserServices()})
	if err != nil {
		t.Fatal(err)
	}
	h.must(h.dbRun("template", "delete", "--reseller", "res1", "Web S"))
	u, err := st.User(ctx, admin, cr.User.ID)
	if err != nil || u.Limits[panel.ResStorage] != 300 || !u.Services.On(panel.SvcPHP) {
		t.Errorf("user after the template went: %+v %v", u, err)
	}
}
