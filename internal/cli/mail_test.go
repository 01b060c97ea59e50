package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"kontor/internal/app"
	"kontor/internal/mail/mailtest"
	"kontor/internal/panel"
)

// mailHarness is a migrated store whose relay is a real SMTP server.
func mailHarness(t *testing.T) (*harness, *app.App, *mailtest.Server) {
	t.Helper()
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	srv := mailtest.Start(t, mailtest.Options{})
	a := app.New(h.store(), nil)
	a.Hasher = cheap
	if err := a.SaveSettings(context.Background(), admin, app.Settings{Password: panel.DefaultPasswordPolicy(), MailRelay: srv.Addr}); err != nil {
		t.Fatal(err)
	}
	return h, a, srv
}

func TestMailTestCommand(t *testing.T) {
	h, _, srv := mailHarness(t)
	r := h.must(h.dbRun("mail", "test", "--to", "admin@example.com"))
	if r.out != "sent to admin@example.com via "+srv.Addr+"\n" {
		t.Errorf("output %q", r.out)
	}
	got := srv.Wait(1, 5*time.Second)
	if len(got) != 1 || got[0].To[0] != "admin@example.com" || got[0].Subject() != "Kontor test mail" || !strings.Contains(got[0].Body, srv.Addr) {
		t.Fatalf("received %+v", got)
	}
	srv.Reject("nobody@example.com", "no such user")
	for _, tc := range []struct {
		args   []string
		code   int
		substr string
	}{
		{[]string{"mail", "test"}, 2, "--to is required"},
		{[]string{"mail", "test", "--to", "a@example.com\r\nBcc: victim@example.com", "--from", "ops@example.com"}, 1, "to: Line breaks and control characters are not allowed here"},
		{[]string{"mail", "test", "--to", "a@example.com", "--from", "not an address"}, 1, "from: Enter a valid e-mail address"},
		{[]string{"mail", "test", "--to", "nobody@example.com"}, 1, `550 "5.1.1 no such user"`},
	} {
		r := h.dbRun(tc.args...)
		if r.code != tc.code || !strings.Contains(r.errOut, tc.substr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.errOut, tc.code, tc.substr)
		}
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
	for _, rc := range srv.Recipients() {
		if strings.Contains(rc, "victim") {
			t.Fatal("the injected recipient reached the server")
		}
	}
}

// serve runs the circular runner: a circular queued before the start
// (or left over from the last run) goes out without anyone touching it.
func TestServeSendsQueuedCirculars(t *testing.T) {
	h, a, srv := mailHarness(t)
	ctx := context.Background()
	res, _, err := a.CreateReseller(ctx, admin, app.ResellerInput{Name: "R", Email: "r@res.example",
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}})
	if err != nil {
		t.Fatal(err)
	}
	ra := panel.Actor{ID: res.ID, Role: panel.RoleReseller, Login: res.Login, ResellerID: res.ID}
	for _, e := range []string{"a@kunde.example", "b@kunde.example"} {
		if _, _, err := a.CreateUser(ctx, ra, app.UserInput{Profile: panel.Profile{Name: "K", Email: e}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, n, err := a.SendCircular(ctx, ra, app.CircularInput{From: "r@res.example", Subject: "Hallo ##login##", Body: "Text"}, true, nil); err != nil || n != 2 {
		t.Fatal(n, err)
	}
	var out, errOut syncBuffer
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		done <- h.runner(&out, &errOut).run(sctx, []string{"serve", "--db", h.db, "--listen", "127.0.0.1:0"})
	}()
	got := srv.Wait(2, 20*time.Second)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if len(got) != 2 {
		t.Fatalf("serve sent %d mails, want 2\n%s", len(got), errOut.String())
	}
}
