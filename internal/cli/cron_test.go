package cli

import (
	"context"
	"strings"
	"testing"

	"kontor/internal/panel"
	"kontor/internal/store"
)

func TestCronCommands(t *testing.T) {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	st := h.store()
	ctx := context.Background()
	r, err := st.CreateReseller(ctx, admin, store.NewReseller{PasswordHash: "h", DefaultHash: "d", Name: "R",
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: 5, Mode: panel.ModeHard}, panel.ResCron: {Value: 5, Mode: panel.ModeHard}}})
	if err != nil {
		t.Fatal(err)
	}
	ra := panel.Actor{ID: r.ID, Role: panel.RoleReseller, Login: r.Login, ResellerID: r.ID}
	if _, err := st.CreateUser(ctx, ra, store.NewUser{ResellerID: r.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResCron: 2}}); err != nil {
		t.Fatal(err)
	}

	out := h.must(h.dbRun("cron", "add", "web1", " */5  * * * *", "date +%s >> log")).out
	if out != "web1: cron job 1: */5 * * * * date +%s >> log\n" {
		t.Errorf("add: %q", out)
	}
	h.must(h.dbRun("cron", "add", "web1", "@daily", "true"))
	out = h.must(h.dbRun("cron", "list", "web1")).out
	if !strings.Contains(out, "ID  ENABLED  SCHEDULE     COMMAND\n") || !strings.Contains(out, "1   yes      */5 * * * *  date +%s >> log\n") ||
		!strings.Contains(out, "2   yes      @daily       true\n") {
		t.Errorf("list:\n%s", out)
	}

	// Refusals say why, naming the field, in the person's words.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"cron", "add", "web1", "@hourly", "true"}, "kontor: cron: This user already has 2 cron jobs, the most its limit allows.\n"},
		{[]string{"cron", "add", "web1", "61 * * * *", "true"}, "kontor: schedule: Minute: 61 is not valid;"},
		{[]string{"cron", "add", "web1", "@every 1h", "true"}, "kontor: schedule: Unknown schedule; cron understands @reboot @hourly"},
		{[]string{"cron", "add", "web1", "@daily", "true\n* * * * * evil"}, "kontor: command: A command is one line"},
		{[]string{"cron", "delete", "web1", "99"}, "kontor: "},
		{[]string{"cron", "list", "web9"}, "kontor: login: "},
	} {
		r := h.dbRun(c.args...)
		if r.code != 1 || !strings.HasPrefix(r.errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 1, %q", c.args, r.code, r.errOut, c.want)
		}
	}
	// Bad usage exits 2.
	for _, args := range [][]string{{"cron", "add", "web1", "@daily"}, {"cron", "delete", "web1", "x"}, {"cron", "list"}, {"cron", "delete", "web1", "0"}} {
		if r := h.dbRun(args...); r.code != 2 {
			t.Errorf("%q: exit %d, stderr %q; want 2", args, r.code, r.errOut)
		}
	}

	h.must(h.dbRun("cron", "delete", "web1", "1"))
	out = h.must(h.dbRun("cron", "list", "web1")).out
	if strings.Contains(out, "date") || !strings.Contains(out, "@daily") {
		t.Errorf("after delete:\n%s", out)
	}
	h.must(h.dbRun("cron", "delete", "web1", "2"))
	if out := h.must(h.dbRun("cron", "list", "web1")).out; out != "web1 has no cron jobs\n" {
		t.Errorf("empty list %q", out)
	}
}
