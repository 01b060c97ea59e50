package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kontor/internal/app"
	"kontor/internal/i18n"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// TestApplyDryRunAndOnce: `kontor apply --dry-run` prints the diff of the
// files the agent would write and changes nothing; `kontor agent --once`
// in sandbox mode then writes exactly those files; a second dry run has
// nothing to change.
func TestApplyDryRunAndOnce(t *testing.T) {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	ctx := context.Background()
	a := app.New(h.store(), nil)
	a.Hasher = cheap
	res, _, err := a.CreateReseller(ctx, admin, app.ResellerInput{Password: "respass1",
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: 5, Mode: panel.ModeHard}}, Services: panel.ServiceSet{panel.SvcPHP: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ra := panel.Actor{ID: res.ID, Role: panel.RoleReseller, ResellerID: res.ID}
	cu, _, err := a.CreateUser(ctx, ra, app.UserInput{Password: "userpass1", Services: panel.ServiceSet{panel.SvcPHP: 1},
		Domains: []store.NewDomain{{Name: "alpha.example", DNS: true}}})
	if err != nil {
		t.Fatal(err)
	}
	login := cu.User.Login
	root := t.TempDir()

	r := h.must(h.dbRun("apply", "--dry-run", "--mode", "sandbox", "--root", root))
	for _, want := range []string{
		"+++ b/etc/apache2/kontor/sites/" + login + ".conf", "+\tServerName alpha.example",
		"+++ b/var/lib/bind/kontor/alpha.example.zone", "+++ b/etc/php/kontor/fpm/" + login + ".conf",
		`"useradd" "-u" "10001"`,
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, r.out)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("the dry run wrote into the root: %v", entries)
	}

	r = h.must(h.dbRun("agent", "--once", "--mode", "sandbox", "--root", root))
	if !strings.Contains(r.out, "failed: 0") {
		t.Errorf("agent --once: %s", r.out)
	}
	vhost, err := os.ReadFile(filepath.Join(root, "etc/apache2/kontor/sites", login+".conf"))
	if err != nil || !strings.Contains(string(vhost), "ServerName alpha.example") {
		t.Errorf("vhost: %v %s", err, vhost)
	}
	if _, err := os.Stat(filepath.Join(root, "home", login, "html")); err != nil {
		t.Errorf("home: %v", err)
	}
	r = h.must(h.dbRun("apply", "--dry-run", "--mode", "sandbox", "--root", root))
	if strings.Contains(r.out, "+++ ") {
		t.Errorf("nothing changed, yet the dry run shows a diff:\n%s", r.out)
	}

	// System mode needs root; a bad mode is named.
	r = h.dbRun("agent", "--mode", "cloud", "--root", root)
	if r.code == 0 || !strings.Contains(r.errOut, "agent_mode") {
		t.Errorf("bad mode: %d %s", r.code, r.errOut)
	}
}

func TestExplainAgentError(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	got := explainAgentError(cat, panel.Invalid("login", "err.login.chars"))
	if strings.Contains(got, "err.login") || !strings.HasPrefix(got, "login: ") {
		t.Errorf("panel error: %q", got)
	}
	plain := errors.New("AH00526: Syntax error on line 7")
	if got := explainAgentError(cat, plain); got != plain.Error() {
		t.Errorf("checker output changed: %q", got)
	}
}
