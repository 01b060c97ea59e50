package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/mail"
	"kontor/internal/mail/mailtest"
	"kontor/internal/panel"
	"kontor/internal/store"
)

var admin = panel.Actor{Role: panel.RoleAdmin, Login: "test"}

type env struct {
	dsn   string
	st    *store.Store
	app   *app.App
	smtp  *mailtest.Server
	res   panel.Actor
	users []panel.User
}

func openStore(t *testing.T, dsn string, now func() time.Time) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func newApp(st *store.Store) *app.App {
	a := app.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.Hasher = auth.Params{Memory: 1024, Time: 1, Threads: 1}
	a.Mailer = a.SMTPMailer()
	return a
}

// newEnv is a store with a reseller and n users with an address, an app
// whose relay is a real SMTP server on loopback.
func newEnv(t *testing.T, n int) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{dsn: filepath.Join(t.TempDir(), "k.db")}
	e.st = openStore(t, e.dsn, nil)
	e.app = newApp(e.st)
	e.smtp = mailtest.Start(t, mailtest.Options{})
	if err := e.app.SaveSettings(ctx, admin, app.Settings{Password: panel.DefaultPasswordPolicy(), MailRelay: e.smtp.Addr}); err != nil {
		t.Fatal(err)
	}
	r, _, err := e.app.CreateReseller(ctx, admin, app.ResellerInput{Name: "Müller & Söhne", Email: "info@mueller.example",
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: 100, Mode: panel.ModeHard}}})
	if err != nil {
		t.Fatal(err)
	}
	e.res = panel.Actor{ID: r.ID, Role: panel.RoleReseller, Login: r.Login, ResellerID: r.ID}
	for i := 1; i <= n; i++ {
		res, _, err := e.app.CreateUser(ctx, e.res, app.UserInput{Profile: panel.Profile{Name: fmt.Sprintf("Kundin %d Ärger", i), Email: fmt.Sprintf("k%d@example.com", i)}})
		if err != nil {
			t.Fatal(err)
		}
		e.users = append(e.users, res.User)
	}
	return e
}

var fast = app.RunnerOptions{Interval: 10 * time.Millisecond}

func TestComposeRefusesBadInputAndStoresNothing(t *testing.T) {
	e := newEnv(t, 1)
	ctx := context.Background()
	ok := app.CircularInput{FromName: "Müller & Söhne", From: "info@mueller.example", Subject: "Hallo ##name##", Body: "Ihr Login: ##login##"}
	bad := []struct {
		name       string
		edit       func(in *app.CircularInput)
		field, key string
	}{
		{"subject CRLF Bcc", func(in *app.CircularInput) { in.Subject = "Hi\r\nBcc: victim@example.com" }, "subject", "err.mail.header"},
		{"subject LF", func(in *app.CircularInput) { in.Subject = "Hi\nBcc: victim@example.com" }, "subject", "err.mail.header"},
		{"subject NUL", func(in *app.CircularInput) { in.Subject = "Hi\x00" }, "subject", "err.mail.header"},
		{"from name LF", func(in *app.CircularInput) { in.FromName = "Shop\nBcc: victim@example.com" }, "from_name", "err.mail.header"},
		{"from CRLF", func(in *app.CircularInput) { in.From = "info@mueller.example\r\nBcc: victim@example.com" }, "from", "err.mail.header"},
		{"from list", func(in *app.CircularInput) { in.From = "a@example.com, b@example.com" }, "from", "err.email"},
		{"from missing", func(in *app.CircularInput) { in.From = "" }, "from", "err.required"},
		{"subject missing", func(in *app.CircularInput) { in.Subject = " " }, "subject", "err.required"},
		{"body missing", func(in *app.CircularInput) { in.Body = "\n" }, "body", "err.required"},
		{"body NUL", func(in *app.CircularInput) { in.Body = "a\x00b" }, "body", "err.mail.body_chars"},
		{"password tag", func(in *app.CircularInput) { in.Body = "Ihr Passwort: ##password##" }, "body", "err.circular.tag"},
		{"unknown tag", func(in *app.CircularInput) { in.Subject = "Hallo ##Name##" }, "subject", "err.circular.tag"},
	}
	for _, b := range bad {
		in := ok
		b.edit(&in)
		_, err := e.app.ComposeCircular(ctx, e.res, in)
		var pe *panel.Error
		if !errors.As(err, &pe) || pe.Kind != panel.KindInvalid || pe.Field != b.field || pe.Key != b.key {
			t.Errorf("%s: got %v, want %s %s", b.name, err, b.field, b.key)
		}
	}
	if _, total, _ := e.st.Circulars(ctx, e.res, 0, 10); total != 0 {
		t.Fatalf("refused input stored %d circulars", total)
	}
	// A user, or a reseller visiting a user's panel, sends no circular.
	u := panel.Actor{ID: e.users[0].ID, Role: panel.RoleUser, ResellerID: e.res.ID}
	if _, err := e.app.ComposeCircular(ctx, u, ok); panel.ErrorKind(err) != panel.KindForbidden {
		t.Fatalf("user composes: %v", err)
	}
	if e.smtp.Sessions() != 0 {
		t.Fatal("composing reached the mail server")
	}
}

func TestRunnerSendsWithTagsAndRecordsRefusals(t *testing.T) {
	e := newEnv(t, 5)
	ctx := context.Background()
	e.smtp.Reject("k3@example.com", "<k3@example.com>: Recipient address rejected: User unknown in virtual mailbox table")
	id, err := e.app.ComposeCircular(ctx, e.res, app.CircularInput{FromName: "Müller & Söhne", From: "info@mueller.example",
		Subject: "Willkommen bei Müller & Söhne, ##name##", Body: "Guten Tag ##name##,\r\nIhr Login: ##login##\r\nAdresse: ##email##\r\n"})
	if err != nil {
		t.Fatal(err)
	}
	// Deselect the second user.
	if err := e.st.PickCircular(ctx, e.res, id, []int64{e.users[1].ID}, nil); err != nil {
		t.Fatal(err)
	}
	n, err := e.app.QueueCircular(ctx, e.res, id)
	if err != nil || n != 4 {
		t.Fatalf("queued %d %v", n, err)
	}
	handled, err := e.app.SendQueuedCirculars(ctx, fast)
	if err != nil || handled != 4 {
		t.Fatalf("runner handled %d: %v", handled, err)
	}
	got := e.smtp.Messages()
	if len(got) != 3 {
		t.Fatalf("server received %d messages, want 3", len(got))
	}
	var rcpts []string
	for _, m := range got {
		if len(m.To) != 1 {
			t.Fatalf("one mail per recipient, got envelope %v", m.To)
		}
		to := m.To[0]
		rcpts = append(rcpts, to)
		i := strings.TrimSuffix(strings.TrimPrefix(to, "k"), "@example.com")
		u := e.users[i[0]-'1']
		if want := "Willkommen bei Müller & Söhne, " + u.Profile.Name; m.Subject() != want {
			t.Errorf("%s: subject %q, want %q", to, m.Subject(), want)
		}
		if want := "Guten Tag " + u.Profile.Name + ",\nIhr Login: " + u.Login + "\nAdresse: " + to + "\n"; m.Body != want {
			t.Errorf("%s: body %q, want %q", to, m.Body, want)
		}
		if m.From != "info@mueller.example" {
			t.Errorf("envelope sender %q", m.From)
		}
	}
	sort.Strings(rcpts)
	if fmt.Sprint(rcpts) != "[k1@example.com k4@example.com k5@example.com]" {
		t.Fatalf("delivered to %v", rcpts)
	}
	// The deselected user was never even tried; the refused one was.
	for _, r := range e.smtp.Recipients() {
		if r == "k2@example.com" {
			t.Fatal("the deselected user reached the server")
		}
	}
	c, err := e.st.Circular(ctx, e.res, id)
	if err != nil || c.Status != store.CircularDone || c.Counts.Sent != 3 || c.Counts.Failed != 1 {
		t.Fatalf("circular %+v %v", c, err)
	}
	failed, _, err := e.st.CircularRecipients(ctx, e.res, id, store.RecipientFilter{Status: store.RecipientFailed})
	if err != nil || len(failed) != 1 || failed[0].Email != "k3@example.com" ||
		!strings.Contains(failed[0].Error, "550") || !strings.Contains(failed[0].Error, "User unknown in virtual mailbox table") {
		t.Fatalf("failed rows %+v %v", failed, err)
	}
}

// blocking is a Sender that hangs until its context ends, like a relay
// that stops answering while the process is killed.
type blocking struct {
	once    sync.Once
	started chan struct{}
}

func (b *blocking) Send(ctx context.Context, _ mail.Message) error {
	b.once.Do(func() { close(b.started) })
	<-ctx.Done()
	return ctx.Err()
}

// A runner that dies while sending leaves the recipient in "sending"; the
// next process (after the lease) sends it once more, and the pending ones
// as well: nothing is lost, nothing is sent twice.
func TestRunnerRestartPicksUpWhereItStopped(t *testing.T) {
	e := newEnv(t, 3)
	ctx := context.Background()
	id, n, err := e.app.SendCircular(ctx, e.res, app.CircularInput{From: "info@mueller.example", Subject: "Wartung", Body: "Hallo ##login##"}, true, nil)
	if err != nil || n != 3 {
		t.Fatal(n, err)
	}
	// The first process: its relay hangs, then it is stopped.
	b := &blocking{started: make(chan struct{})}
	e.app.Mailer = b
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.app.RunCirculars(rctx, fast)
	}()
	select {
	case <-b.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the runner never tried to send")
	}
	stop()
	<-done
	c, _ := e.st.Circular(ctx, e.res, id)
	if c.Counts.Sending != 1 || c.Counts.Pending != 2 || c.Status != store.CircularSending {
		t.Fatalf("after the crash: %+v", c)
	}
	// A restart right away sends the pending ones but leaves the row the
	// dead process was sending alone until its lease is over.
	restarted := newApp(e.st)
	if n, err := restarted.SendQueuedCirculars(ctx, fast); err != nil || n != 2 {
		t.Fatalf("restart: handled %d, %v", n, err)
	}
	if len(e.smtp.Wait(2, 5*time.Second)) != 2 {
		t.Fatalf("after restart the server got %d", len(e.smtp.Messages()))
	}
	// Later (a clock past the lease): the interrupted one is sent once more.
	later := openStore(t, e.dsn, func() time.Time { return time.Now().Add(10 * time.Minute) })
	if n, err := newApp(later).SendQueuedCirculars(ctx, fast); err != nil || n != 1 {
		t.Fatalf("after the lease: handled %d, %v", n, err)
	}
	got := e.smtp.Wait(3, 5*time.Second)
	seen := map[string]int{}
	for _, m := range got {
		seen[m.To[0]]++
	}
	if len(got) != 3 || seen["k1@example.com"] != 1 || seen["k2@example.com"] != 1 || seen["k3@example.com"] != 1 {
		t.Fatalf("delivered %v", seen)
	}
	c, _ = e.st.Circular(ctx, e.res, id)
	if c.Status != store.CircularDone || c.Counts.Sent != 3 {
		t.Fatalf("finally %+v", c)
	}
	recs, _, _ := e.st.CircularRecipients(ctx, e.res, id, store.RecipientFilter{})
	if recs[0].Attempts != 2 || recs[1].Attempts != 1 {
		t.Fatalf("attempts %d %d, want 2 and 1", recs[0].Attempts, recs[1].Attempts)
	}
}

func TestSendMail(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	m := mail.Message{FromName: "Müller & Söhne", From: "info@mueller.example", To: "anna@example.com", Subject: "Willkommen", Body: "Hallo"}
	user := panel.Actor{ID: 99, Role: panel.RoleUser}
	if err := e.app.SendMail(ctx, user, m); panel.ErrorKind(err) != panel.KindForbidden {
		t.Fatalf("a user sends mail: %v", err)
	}
	if err := e.app.SendMail(ctx, e.res, m); err != nil {
		t.Fatal(err)
	}
	if got := e.smtp.Wait(1, 5*time.Second); len(got) != 1 || got[0].To[0] != "anna@example.com" {
		t.Fatalf("received %+v", got)
	}
	// Injection: refused naming the field, nothing more reaches the server.
	bad := m
	bad.Subject = "Hi\r\nBcc: victim@example.com"
	err := e.app.SendMail(ctx, e.res, bad)
	if pe := panel.AsError(err); pe.Kind != panel.KindInvalid || pe.Field != "subject" {
		t.Fatalf("injection: %v", err)
	}
	// A refusal comes back with the relay's reply for the person.
	e.smtp.Reject("ghost@example.com", "no such user here")
	bad = m
	bad.To = "ghost@example.com"
	err = e.app.SendMail(ctx, e.res, bad)
	if pe := panel.AsError(err); pe.Key != "err.mail.send" || len(pe.Args) != 1 || !strings.Contains(fmt.Sprint(pe.Args[0]), "550 5.1.1 no such user here") {
		t.Fatalf("refusal: %v", err)
	}
	if n := len(e.smtp.Messages()); n != 1 {
		t.Fatalf("server has %d messages, want 1", n)
	}
	for _, r := range e.smtp.Recipients() {
		if strings.Contains(r, "victim") {
			t.Fatal("the injected Bcc reached the server")
		}
	}
	// Without a sender nothing goes out, and the person is told.
	e.app.Mailer = nil
	if err := e.app.SendMail(ctx, e.res, m); panel.ErrorKind(err) != panel.KindInternal {
		t.Fatalf("no mailer: %v", err)
	}
}

func TestRelaySetting(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	set, err := e.app.Settings(ctx)
	if err != nil || set.MailRelay != e.smtp.Addr {
		t.Fatalf("relay %q %v", set.MailRelay, err)
	}
	for _, bad := range []string{"mail.example.com", "mail.example.com:25\r\nX: y", "mail.example.com:0", "a b:25", "[::1]:x"} {
		err := e.app.SaveSettings(ctx, admin, app.Settings{Password: panel.DefaultPasswordPolicy(), MailRelay: bad})
		if pe := panel.AsError(err); pe.Kind != panel.KindInvalid || pe.Field != "mail_relay" {
			t.Errorf("relay %q: %v", bad, err)
		}
	}
	if set, _ := e.app.Settings(ctx); set.MailRelay != e.smtp.Addr {
		t.Fatalf("a refused relay was stored: %q", set.MailRelay)
	}
	for in, want := range map[string]string{"": mail.DefaultRelay, " Mail.Example.COM:587 ": "mail.example.com:587", "[::1]:2525": "[::1]:2525"} {
		if err := e.app.SaveSettings(ctx, admin, app.Settings{Password: panel.DefaultPasswordPolicy(), MailRelay: in}); err != nil {
			t.Fatalf("relay %q: %v", in, err)
		}
		if set, _ := e.app.Settings(ctx); set.MailRelay != want {
			t.Errorf("relay %q stored as %q, want %q", in, set.MailRelay, want)
		}
	}
	if err := e.app.SaveSettings(ctx, panel.Actor{ID: e.res.ID, Role: panel.RoleReseller}, app.Settings{Password: panel.DefaultPasswordPolicy(), MailRelay: "evil.example:25"}); err == nil {
		t.Fatal("a reseller changed the relay")
	}
}
