package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"kontor/internal/app"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// TestUserChangeCommands drives user show, set-limit, lock, unlock, passwd
// and delete against a real store, with the reseller's limits applying.
func TestUserChangeCommands(t *testing.T) {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	h.must(h.dbRun("reseller", "create", "--name", "Petra", "--limit", "users=5:hard", "--limit", "pop3=10:hard",
		"--limit", "storage=100:max", "--service", "php=1"))
	h.must(h.dbRun("user", "create", "--reseller", "res1", "--name", "Hans Müller", "--email", "hans@example.com",
		"--domain", "müller-bäckerei.de", "--limit", "pop3=4", "--limit", "storage=10", "--password", "hans1234"))
	h.must(h.dbRun("user", "create", "--reseller", "res1", "--name", "Jane", "--limit", "pop3=5"))
	st := h.store()
	a := app.New(st, nil)
	a.Hasher = cheap
	ctx := context.Background()

	// show
	r := h.must(h.dbRun("user", "show", "web1"))
	for _, want := range []string{"login:", "web1", "reseller:", "res1", "status:", "enabled", "Hans Müller", "hans@example.com",
		"müller-bäckerei.de (xn--mller-bckerei-", "services: -"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("show lacks %q:\n%s", want, r.out)
		}
	}
	if !regexp.MustCompile(`(?m)^pop3\s+4$`).MatchString(r.out) || !regexp.MustCompile(`(?m)^storage\s+10$`).MatchString(r.out) {
		t.Errorf("show limits:\n%s", r.out)
	}

	// set-limit: the user's own 4 boxes are given back first (4 → 5 with
	// 5 elsewhere makes 10 of 10); one more is refused, naming the limit.
	r = h.must(h.dbRun("user", "set-limit", "web1", "pop3=5", "storage=150"))
	if !strings.Contains(r.out, "web1 pop3: 5") || !strings.Contains(r.out, "web1 storage: 150") ||
		!strings.Contains(r.errOut, "Storage space (MB): this grant passes res1's maximum") {
		t.Errorf("set-limit: %q %q", r.out, r.errOut)
	}
	r = h.dbRun("user", "set-limit", "web1", "pop3=6")
	if r.code != 1 || !strings.Contains(r.errOut, "limit.pop3: POP3 boxes: the hard limit is 10; 5 is already allocated, so 6 more cannot be granted.") {
		t.Errorf("set-limit over hard: %d %q", r.code, r.errOut)
	}
	u, _ := userByLogin(ctx, a, "web1")
	if u.Limits[panel.ResPOP3] != 5 || u.Limits[panel.ResStorage] != 150 {
		t.Fatalf("limits %v", u.Limits)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"user", "set-limit", "web1"}, 2, "need a user login and at least one RES=VALUE"},
		{[]string{"user", "set-limit", "web1", "users=3"}, 2, "unknown resource"},
		{[]string{"user", "set-limit", "web1", "pop3=lots"}, 2, "is not a limit"},
		{[]string{"user", "set-limit", "web1", "pop3=-1"}, 1, "not authorised to grant unlimited"},
		{[]string{"user", "set-limit", "web1", "mysql_dbs=1"}, 1, "MySQL databases is not available"},
		{[]string{"user", "set-limit", "web99", "pop3=1"}, 1, "login: Not found: user web99."},
		{[]string{"user", "set-limit", "res1", "pop3=1"}, 1, "Not found: user res1."},
		{[]string{"user", "lock"}, 2, "need the user's login"},
		{[]string{"user", "lock", "web1", "web2"}, 2, `unexpected argument "web2"`},
		{[]string{"user", "unlock", "Web 1"}, 1, "Not found: user web 1."},
		{[]string{"user", "delete", "res1web0"}, 1, "A reseller's own account is deleted only with the reseller."},
		{[]string{"user", "passwd", "web1", "--password", "abc"}, 1, "password: The password must have at least 6 and at most 12 characters."},
		{[]string{"user", "passwd", "web1", "--password", "a\tbcdefgh"}, 1, "Control characters are not allowed in a password."},
	} {
		r := h.dbRun(tc.args...)
		if r.code != tc.code || !strings.Contains(r.errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.errOut, tc.code, tc.msg)
		}
	}

	// lock: the user cannot log in; unlock: it can again.
	r = h.must(h.dbRun("user", "lock", "web1"))
	if strings.TrimSpace(r.out) != "web1: locked" {
		t.Errorf("lock output %q", r.out)
	}
	if _, err := a.Login(ctx, "web1", "hans1234", "127.0.0.1"); panel.AsError(err).Key != "err.login.locked" {
		t.Errorf("locked user logs in: %v", err)
	}
	if r := h.must(h.dbRun("user", "show", "web1")); !regexp.MustCompile(`(?m)^status:\s+locked$`).MatchString(r.out) {
		t.Errorf("show after lock:\n%s", r.out)
	}
	h.must(h.dbRun("user", "unlock", "web1"))
	if _, err := a.Login(ctx, "web1", "hans1234", "127.0.0.1"); err != nil {
		t.Errorf("unlocked user cannot log in: %v", err)
	}

	// passwd: given (not echoed) and generated (printed).
	r = h.must(h.dbRun("user", "passwd", "web1", "--password", "neu12345"))
	if strings.Contains(r.out, "neu12345") || field(r.out, "login") != "web1" {
		t.Errorf("passwd output %q", r.out)
	}
	if _, err := a.Login(ctx, "web1", "neu12345", "127.0.0.1"); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	h.stdin = "vonstdin9\n"
	h.must(h.dbRun("user", "passwd", "web1", "--password-stdin"))
	if _, err := a.Login(ctx, "web1", "vonstdin9", "127.0.0.1"); err != nil {
		t.Errorf("login with the password from stdin: %v", err)
	}
	r = h.must(h.dbRun("user", "passwd", "web2"))
	pw := field(r.out, "password")
	if panel.DefaultPasswordPolicy().Check("password", pw) != nil {
		t.Fatalf("generated password %q", pw)
	}
	if _, err := a.Login(ctx, "web2", pw, "127.0.0.1"); err != nil {
		t.Errorf("login with the generated password: %v", err)
	}

	// delete: gone with its domain; the reseller got the notices.
	r = h.must(h.dbRun("user", "delete", "web1"))
	if strings.TrimSpace(r.out) != "web1: deleted" {
		t.Errorf("delete output %q", r.out)
	}
	if r := h.dbRun("user", "show", "web1"); r.code != 1 || !strings.Contains(r.errOut, "Not found: user web1.") {
		t.Errorf("show deleted: %d %q", r.code, r.errOut)
	}
	if taken, _ := st.DomainTaken(ctx, "xn--mller-bckerei-hfb.de"); taken {
		t.Error("the deleted user's domain is still there")
	}
	cred, _ := st.CredentialsByLogin(ctx, "res1")
	ms, _, _ := st.Messages(ctx, panel.Actor{ID: cred.Account.ID, Role: panel.RoleReseller}, store.MessageFilter{Limit: 50})
	var keys []string
	for _, m := range ms {
		keys = append(keys, m.Key)
	}
	for _, want := range []string{"msg.user.deleted", "msg.user.password", "msg.account.unlocked", "msg.account.locked", "msg.user.services"} {
		if !strings.Contains(strings.Join(keys, " "), want) {
			t.Errorf("no notice %s among %v", want, keys)
		}
	}
}
