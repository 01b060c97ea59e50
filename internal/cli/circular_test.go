package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kontor/internal/app"
	"kontor/internal/panel"
)

func TestCircularCommands(t *testing.T) {
	h, a, srv := mailHarness(t)
	ctx := context.Background()
	res, _, err := a.CreateReseller(ctx, admin, app.ResellerInput{Login: "res9", Name: "Petra", Email: "petra@res.example",
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}})
	if err != nil {
		t.Fatal(err)
	}
	ra := panel.Actor{ID: res.ID, Role: panel.RoleReseller, Login: res.Login, ResellerID: res.ID}
	var logins []string
	for _, e := range []string{"anna@kunde.example", "bernd@kunde.example", "carla@kunde.example"} {
		cr, _, err := a.CreateUser(ctx, ra, app.UserInput{Profile: panel.Profile{Name: strings.Split(e, "@")[0], Email: e}})
		if err != nil {
			t.Fatal(err)
		}
		logins = append(logins, cr.User.Login)
	}
	srv.Reject("carla@kunde.example", "mailbox full")
	body := filepath.Join(t.TempDir(), "body.txt")
	os.WriteFile(body, []byte("Hallo ##name##,\nwir warten den Server.\n"), 0o644)
	// Two chosen recipients, sent at once.
	r := h.must(h.dbRun("circular", "send", "--reseller", "res9", "--subject", "Wartung für ##login##", "--body-file", body,
		"--to", logins[0], "--to", logins[2], "--wait"))
	for _, want := range []string{"queued for 2 recipients", "sent 1, failed 1, left 0 of 2", logins[0] + "   anna@kunde.example", "mailbox full"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].To[0] != "anna@kunde.example" || got[0].Subject() != "Wartung für "+logins[0] || !strings.Contains(got[0].Body, "Hallo anna,") {
		t.Fatalf("received %+v", got)
	}
	// Without --wait it is only queued; status lists it.
	r = h.must(h.dbRun("circular", "send", "--reseller", "res9", "--subject", "Alle", "--body", "Text"))
	if !strings.Contains(r.out, "queued for 3 recipients") {
		t.Errorf("send to all: %s", r.out)
	}
	r = h.must(h.dbRun("circular", "status", "--reseller", "res9"))
	if !strings.Contains(r.out, "2 circulars") || !strings.Contains(r.out, "Alle") {
		t.Errorf("status: %s", r.out)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		substr string
	}{
		{[]string{"circular", "send", "--subject", "x", "--body", "y"}, 2, "--reseller is required"},
		{[]string{"circular", "send", "--reseller", "res9", "--subject", "x"}, 2, "give either --body or --body-file"},
		{[]string{"circular", "send", "--reseller", "res9", "--subject", "x\r\nBcc: v@example.com", "--body", "y"}, 1, "subject"},
		{[]string{"circular", "send", "--reseller", "res9", "--subject", "x", "--body", "##password##"}, 1, "##password##"},
		{[]string{"circular", "send", "--reseller", "nobody", "--subject", "x", "--body", "y"}, 1, "reseller nobody"},
		{[]string{"circular", "send", "--reseller", "res9", "--subject", "x", "--body", "y", "--to", "web999"}, 1, "web999"},
		{[]string{"circular", "status", "--reseller", "res9", "999"}, 1, "Not found"},
	} {
		r := h.dbRun(tc.args...)
		if r.code != tc.code || !strings.Contains(r.errOut, tc.substr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.errOut, tc.code, tc.substr)
		}
	}
}
