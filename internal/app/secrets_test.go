package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// desiredUser returns a user's desired database hash and Webalizer lines by login.
func desiredUser(t *testing.T, st *store.Store, id int64) (string, map[string]string) {
	t.Helper()
	us, err := st.DesiredUsers(context.Background(), []int64{id}, store.DesiredOptions{UIDBase: 1, HomeBase: "/home"})
	if err != nil || len(us) != 1 {
		t.Fatalf("desired %d: %v %v", id, us, err)
	}
	lines := map[string]string{}
	for _, l := range us[0].WebAuth {
		login, hash, _ := strings.Cut(l, ":")
		lines[login] = hash
	}
	return us[0].DBHash, lines
}

func opens(t *testing.T, hash, pw string) bool {
	t.Helper()
	ok, err := auth.Verify(hash, pw)
	if err != nil {
		t.Fatalf("hash %q: %v", hash, err)
	}
	return ok
}

// TestPasswordSecrets: wherever a password is set, the database login's
// hash and the Webalizer lines follow it, and the old password opens
// nothing any more.
func TestPasswordSecrets(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "k.db"), nil)
	a := newApp(st)
	r, rpw, err := a.CreateReseller(ctx, admin, app.ResellerInput{
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: 5, Mode: panel.ModeHard}, panel.ResMySQL: {Value: 5, Mode: panel.ModeHard}}})
	if err != nil {
		t.Fatal(err)
	}
	ra := panel.Actor{ID: r.ID, Role: panel.RoleReseller, Login: r.Login, ResellerID: r.ID}
	res, pw, err := a.CreateUser(ctx, ra, app.UserInput{Password: "first-pw1", Limits: panel.Limits{panel.ResMySQL: 1}})
	if err != nil {
		t.Fatal(err)
	}
	u := res.User
	db, lines := desiredUser(t, st, u.ID)
	if db != auth.MySQLNativeHash(pw) || !opens(t, lines[u.Login], pw) || !opens(t, lines[r.Login], rpw) {
		t.Fatalf("after creation: db %q lines %v", db, lines)
	}
	// The reseller's default account has secrets of its own password.
	if db, lines := desiredUser(t, st, r.DefaultUserID); !strings.HasPrefix(db, "*") || lines[r.Login] == "" {
		t.Fatalf("default account: %q %v", db, lines)
	}

	// The reseller resets the user's password.
	pw2, err := a.ChangeUserPassword(ctx, ra, u.ID, "second-pw2", "second-pw2")
	if err != nil {
		t.Fatal(err)
	}
	db, lines = desiredUser(t, st, u.ID)
	if db != auth.MySQLNativeHash(pw2) || !opens(t, lines[u.Login], pw2) || opens(t, lines[u.Login], pw) {
		t.Fatalf("after reset: db %q lines %v", db, lines)
	}
	if _, err := a.SetUserPassword(ctx, admin, u.ID, "third-pw3"); err != nil {
		t.Fatal(err)
	}
	if db, _ = desiredUser(t, st, u.ID); db != auth.MySQLNativeHash("third-pw3") {
		t.Fatalf("after the admin's reset: %q", db)
	}

	// The user changes its own password.
	ua := panel.Actor{ID: u.ID, Role: panel.RoleUser, Login: u.Login, ResellerID: r.ID}
	if err := a.ChangePassword(ctx, ua, "tok", "third-pw3", "own-pw4", "own-pw4"); err != nil {
		t.Fatal(err)
	}
	db, lines = desiredUser(t, st, u.ID)
	if db != auth.MySQLNativeHash("own-pw4") || !opens(t, lines[u.Login], "own-pw4") {
		t.Fatalf("after own change: db %q lines %v", db, lines)
	}

	// The reseller changes its own: its line in the user's protection
	// follows, and the user is journalled for the agent.
	before, _ := st.LastChangeID(ctx)
	if err := a.ChangePassword(ctx, ra, "tok", rpw, "res-pw55", "res-pw55"); err != nil {
		t.Fatal(err)
	}
	if _, lines = desiredUser(t, st, u.ID); !opens(t, lines[r.Login], "res-pw55") || opens(t, lines[r.Login], rpw) {
		t.Fatalf("reseller line after its change: %v", lines)
	}
	cs, _ := st.Changes(ctx, before, 10)
	journalled := false
	for _, c := range cs {
		journalled = journalled || c.AccountID == u.ID && c.What == "webauth"
	}
	if !journalled {
		t.Fatalf("user not journalled: %+v", cs)
	}
}

func TestServerSettings(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "k.db"), nil)
	a := newApp(st)
	base := app.Settings{Password: panel.DefaultPasswordPolicy(), ServerName: "web01.hoster.example"}
	for _, c := range []struct {
		name  string
		edit  func(*app.Settings)
		field string
	}{
		{"name server with a space", func(s *app.Settings) { s.DNSNameServers = []string{"ns1.example", "ns 2.example"} }, "dns_nameservers"},
		{"name server with a newline", func(s *app.Settings) { s.DNSNameServers = []string{"ns1.example\nx"} }, "dns_nameservers"},
		{"single-label name server", func(s *app.Settings) { s.DNSNameServers = []string{"localhost"} }, "dns_nameservers"},
		{"mail host with a quote", func(s *app.Settings) { s.MailHost = `mx".example` }, "mail_host"},
		{"coldfusion without port", func(s *app.Settings) { s.ColdFusion = "cf.example" }, "coldfusion"},
		{"coldfusion port 0", func(s *app.Settings) { s.ColdFusion = "cf.example:0" }, "coldfusion"},
		{"coldfusion port text", func(s *app.Settings) { s.ColdFusion = "cf.example:http" }, "coldfusion"},
		{"coldfusion injection", func(s *app.Settings) { s.ColdFusion = "cf.example:8500\nProxyPass / http://evil/" }, "coldfusion"},
		{"coldfusion bad host", func(s *app.Settings) { s.ColdFusion = "cf..example:8500" }, "coldfusion"},
	} {
		t.Run(c.name, func(t *testing.T) {
			set := base
			c.edit(&set)
			err := a.SaveSettings(ctx, admin, set)
			var pe *panel.Error
			if err == nil || !errors.As(err, &pe) || pe.Field != c.field {
				t.Fatalf("got %v, want an error on %s", err, c.field)
			}
		})
	}
	set := base
	set.DNSNameServers = []string{"NS1.Hoster.Example.", "", "ns2.hoster.example"}
	set.MailHost = "MX.hoster.example"
	set.ColdFusion = "[::1]:8500"
	if err := a.SaveSettings(ctx, admin, set); err != nil {
		t.Fatal(err)
	}
	got, err := a.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.DNSNameServers, []string{"ns1.hoster.example", "ns2.hoster.example"}) ||
		got.MailHost != "mx.hoster.example" || got.ColdFusion != "[::1]:8500" {
		t.Fatalf("stored: %+v", got)
	}
	f, err := st.ServerFacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Hostname != "web01.hoster.example" || f.MailHost != "mx.hoster.example" || f.ColdFusion != "[::1]:8500" ||
		!reflect.DeepEqual(f.NameServers, got.DNSNameServers) {
		t.Fatalf("facts: %+v", f)
	}
	// Emptied: the defaults again.
	if err := a.SaveSettings(ctx, admin, base); err != nil {
		t.Fatal(err)
	}
	f, _ = st.ServerFacts(ctx)
	if f.MailHost != "web01.hoster.example" || f.ColdFusion != "" || f.NameServers[0] != "ns1.web01.hoster.example" {
		t.Fatalf("defaults: %+v", f)
	}
}
