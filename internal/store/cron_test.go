package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"kontor/internal/panel"
)

// cronUser creates a reseller and one of its users with the given cron_jobs
// limit.
func cronUser(t *testing.T, s *Store, limit int64) (panel.Actor, int64) {
	t.Helper()
	_, a := reseller(t, s, panel.ResellerLimits{
		panel.ResUsers: {Value: 10, Mode: panel.ModeHard},
		panel.ResCron:  {Value: 100, Mode: panel.ModeMaximum, AllowUnlimited: true},
	}, nil)
	res, err := s.CreateUser(context.Background(), a, NewUser{ResellerID: a.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResCron: limit}})
	if err != nil {
		t.Fatal(err)
	}
	return a, res.User.ID
}

func cronList(t *testing.T, s *Store, a panel.Actor, userID int64) string {
	t.Helper()
	jobs, err := s.ListCronJobs(context.Background(), a, userID)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, j := range jobs {
		out += fmt.Sprintf("[%s|%s|%v]", j.Schedule, j.Command, j.Enabled)
	}
	return out
}

func TestCronJobs(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, uid := cronUser(t, s, 2)

		j1, err := s.AddCronJob(ctx, a, uid, "  */5  * * * * ", "  date +%s >> $HOME/log  ")
		if err != nil {
			t.Fatal(err)
		}
		if j1.Schedule != "*/5 * * * *" || j1.Command != "date +%s >> $HOME/log" || !j1.Enabled || j1.UserID != uid {
			t.Fatalf("stored %+v", j1)
		}
		// The user itself may add its own jobs (the user panel will).
		self := panel.Actor{ID: uid, Role: panel.RoleUser, Login: "web1", ResellerID: a.ID}
		if _, err := s.AddCronJob(ctx, self, uid, "@daily", "true"); err != nil {
			t.Fatal(err)
		}
		if got := cronList(t, s, self, uid); got != "[*/5 * * * *|date +%s >> $HOME/log|true][@daily|true|true]" {
			t.Fatalf("list %s", got)
		}
		// The limit of 2 is reached; the refusal says how many there are.
		pe := wantKind(t, cronErr(s.AddCronJob(ctx, a, uid, "@hourly", "true")), panel.KindForbidden, "err.cron.limit")
		if pe.Field != "cron" || fmt.Sprint(pe.Args) != "[2]" {
			t.Fatalf("refusal %+v", pe)
		}
		// Used counts the jobs, for the user and the reseller's total.
		if u := usageOf(t, s, a, panel.ResCron); u.Used != 2 {
			t.Fatalf("reseller used %d, want 2", u.Used)
		}
		if n := journalCount(t, s, uid, "cron"); n != 2 {
			t.Fatalf("%d journal rows, want 2", n)
		}

		// Disabling keeps the job (and its count) and journals the user.
		if err := s.SetCronJobEnabled(ctx, a, uid, j1.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCronJobEnabled(ctx, a, uid, j1.ID, false); err != nil {
			t.Fatal(err)
		}
		if got := cronList(t, s, a, uid); got != "[*/5 * * * *|date +%s >> $HOME/log|false][@daily|true|true]" {
			t.Fatalf("after disable %s", got)
		}
		if n := journalCount(t, s, uid, "cron"); n != 3 {
			t.Fatalf("%d journal rows, want 3 (no row for a no-op)", n)
		}
		wantKind(t, cronErr(s.AddCronJob(ctx, a, uid, "@hourly", "true")), panel.KindForbidden, "err.cron.limit")

		// Deleting frees a slot and lowers the count.
		if err := s.DeleteCronJob(ctx, a, uid, j1.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.DeleteCronJob(ctx, a, uid, j1.ID), panel.KindNotFound, "err.notfound")
		if u := usageOf(t, s, a, panel.ResCron); u.Used != 1 {
			t.Fatalf("reseller used %d after delete, want 1", u.Used)
		}
		if _, err := s.AddCronJob(ctx, a, uid, "0 3 * * mon-fri", "true"); err != nil {
			t.Fatal(err)
		}

		// Bad input is refused before anything is stored, naming the field.
		for _, c := range []struct{ sched, cmd, field, key string }{
			{"@every 1h", "true", "schedule", "err.cron.descriptor"},
			{"61 * * * *", "true", "schedule", "err.cron.minute"},
			{"* * * * *", "true\n* * * * * evil", "command", "err.cron.command_control"},
			{"* * * * *", "", "command", "err.required"},
		} {
			pe := wantKind(t, cronErr(s.AddCronJob(ctx, a, uid, c.sched, c.cmd)), panel.KindInvalid, c.key)
			if pe.Field != c.field {
				t.Errorf("%q %q: field %s", c.sched, c.cmd, pe.Field)
			}
		}
		if n := journalCount(t, s, uid, "cron"); n != 5 {
			t.Fatalf("%d journal rows, want 5", n)
		}
	})
}

func TestCronJobLimits(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, none := cronUser(t, s, 0)
		pe := wantKind(t, cronErr(s.AddCronJob(ctx, a, none, "@daily", "true")), panel.KindForbidden, "err.cron.not_available")
		if pe.Field != "cron" {
			t.Fatalf("field %s", pe.Field)
		}
		res, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResCron: panel.Unlimited}})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 12; i++ {
			if _, err := s.AddCronJob(ctx, a, res.User.ID, "@hourly", fmt.Sprintf("echo %d", i)); err != nil {
				t.Fatalf("unlimited, job %d: %v", i, err)
			}
		}
		if u := usageOf(t, s, a, panel.ResCron); u.Used != 12 {
			t.Fatalf("used %d, want 12", u.Used)
		}
		// Deleting the user takes its jobs and their count with it.
		if err := s.DeleteAccount(ctx, a, res.User.ID); err != nil {
			t.Fatal(err)
		}
		if u := usageOf(t, s, a, panel.ResCron); u.Used != 0 {
			t.Fatalf("used %d after deleting the user, want 0", u.Used)
		}
	})
}

// TestCronJobOwnership: another reseller's user and another user's job are
// "not found", whatever the ids.
func TestCronJobOwnership(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, uid := cronUser(t, s, 5)
		b, other := cronUser(t, s, 5)
		job, err := s.AddCronJob(ctx, b, other, "@daily", "true")
		if err != nil {
			t.Fatal(err)
		}
		wantKind(t, cronErr(s.AddCronJob(ctx, a, other, "@daily", "true")), panel.KindNotFound, "")
		wantKind(t, cronErr(s.ListCronJobs(ctx, a, other)), panel.KindNotFound, "")
		wantKind(t, s.DeleteCronJob(ctx, a, other, job.ID), panel.KindNotFound, "")
		wantKind(t, s.SetCronJobEnabled(ctx, a, other, job.ID, false), panel.KindNotFound, "")
		// Through the actor's own user, the foreign job id is not found either.
		wantKind(t, s.DeleteCronJob(ctx, a, uid, job.ID), panel.KindNotFound, "err.notfound")
		wantKind(t, s.SetCronJobEnabled(ctx, a, uid, job.ID, false), panel.KindNotFound, "err.notfound")
		// A user sees only itself.
		self := panel.Actor{ID: uid, Role: panel.RoleUser, Login: "web1", ResellerID: a.ID}
		wantKind(t, cronErr(s.ListCronJobs(ctx, self, other)), panel.KindNotFound, "")
		// A reseller id is not a user.
		wantKind(t, cronErr(s.AddCronJob(ctx, admin, a.ID, "@daily", "true")), panel.KindNotFound, "")
		if got := cronList(t, s, b, other); got != "[@daily|true|true]" {
			t.Fatalf("foreign job changed: %s", got)
		}
	})
}

// TestCronJobLimitUnderConcurrency: 20 parallel adds against a limit of 5
// create exactly 5 (LIM-3, LIM-4).
func TestCronJobLimitUnderConcurrency(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, uid := cronUser(t, s, 5)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := s.AddCronJob(ctx, a, uid, "* * * * *", fmt.Sprintf("echo %d", i))
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		ok, refused := 0, 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case panel.AsError(err).Key == "err.cron.limit":
				refused++
			default:
				t.Errorf("unexpected %v", err)
			}
		}
		jobs, err := s.ListCronJobs(ctx, a, uid)
		if err != nil {
			t.Fatal(err)
		}
		if ok != 5 || refused != 15 || len(jobs) != 5 {
			t.Fatalf("%d created, %d refused, %d stored; want 5, 15, 5", ok, refused, len(jobs))
		}
		if u := usageOf(t, s, a, panel.ResCron); u.Used != 5 {
			t.Fatalf("used %d, want 5", u.Used)
		}
	})
}

// cronErr drops the result of a store call, for wantKind.
func cronErr[T any](_ T, err error) error { return err }
