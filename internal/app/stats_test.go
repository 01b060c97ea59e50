package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kontor/internal/app"
	"kontor/internal/panel"
	"kontor/internal/store"
)

func adminMessages(t *testing.T, st *store.Store, id int64) []panel.Message {
	t.Helper()
	msgs, _, err := st.Messages(context.Background(), panel.Actor{ID: id, Role: panel.RoleAdmin}, store.MessageFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// The scheduler runs a job again and again, never two runs of it at once,
// even when a run takes longer than the interval, and stops with ctx.
func TestStatsSchedulerNeverOverlaps(t *testing.T) {
	a := newApp(openStore(t, filepath.Join(t.TempDir(), "k.db"), nil))
	var inFlight, maxInFlight, runs atomic.Int32
	job := app.StatsJob{Name: "traffic", Every: 2 * time.Millisecond, Run: func(ctx context.Context) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		runs.Add(1)
		time.Sleep(10 * time.Millisecond) // five intervals
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	wait := a.StartStats(ctx, []app.StatsJob{job, {Name: "off", Every: 0}})
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 4 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wait()
	if runs.Load() < 4 {
		t.Fatalf("only %d runs", runs.Load())
	}
	if maxInFlight.Load() != 1 {
		t.Fatalf("%d runs at once", maxInFlight.Load())
	}
	after := runs.Load()
	time.Sleep(20 * time.Millisecond)
	if runs.Load() != after {
		t.Fatal("the job ran after the context ended")
	}
}

// A failing job becomes one error message per admin; the same failure
// again is not repeated, a new one is; "no logs" is no failure.
func TestStatsSchedulerReportsFailures(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "k.db"), nil)
	a := newApp(st)
	a1, err := a.CreateAdmin(ctx, "admin", "adminpw1")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := a.CreateAdmin(ctx, "admin2", "adminpw2")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	errs := []error{errors.New("disk on fire"), errors.New("disk on fire"), errors.New("log\nunreadable"), nil}
	n := 0
	done := make(chan struct{})
	job := app.StatsJob{Name: "traffic", Every: time.Millisecond, Run: func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if n == len(errs) {
			close(done)
			<-ctx.Done()
			return nil
		}
		n++
		return errs[n-1]
	}}
	runCtx, cancel := context.WithCancel(ctx)
	wait := a.StartStats(runCtx, []app.StatsJob{job})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("job did not run four times")
	}
	cancel()
	wait()
	for _, id := range []int64{a1.ID, a2.ID} {
		msgs := adminMessages(t, st, id)
		if len(msgs) != 2 {
			t.Fatalf("admin %d has %d messages: %+v", id, len(msgs), msgs)
		}
		var texts []string
		for _, m := range msgs {
			if m.Kind != panel.MsgError || m.Subject != "traffic" || m.Key != "msg.stats.job_failed.traffic" {
				t.Fatalf("message %+v", m)
			}
			texts = append(texts, strings.Join(m.Args, " "))
		}
		got := strings.Join(texts, "|")
		if !strings.Contains(got, "disk on fire") || !strings.Contains(got, "log unreadable") {
			t.Fatalf("messages say %q", got)
		}
	}

	// Without any log there is nothing to read: no message.
	st2 := openStore(t, filepath.Join(t.TempDir(), "k2.db"), nil)
	b := newApp(st2)
	adm, err := b.CreateAdmin(ctx, "admin", "adminpw1")
	if err != nil {
		t.Fatal(err)
	}
	jobs := b.StatsJobs(t.TempDir())
	if err := jobs[0].Run(ctx); err == nil {
		t.Fatal("traffic job without logs succeeded")
	}
	runCtx, cancel = context.WithCancel(ctx)
	jobs[0].Every = time.Millisecond
	wait = b.StartStats(runCtx, jobs[:1])
	time.Sleep(20 * time.Millisecond)
	cancel()
	wait()
	if msgs := adminMessages(t, st2, adm.ID); len(msgs) != 0 {
		t.Fatalf("messages without logs: %+v", msgs)
	}
}

// The production jobs read ROOT/var/log/apache2 and measure ROOT/home.
func TestStatsJobsOnRealLogs(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "k.db"), nil)
	a := newApp(st)
	a.Now = func() time.Time { return time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC) }
	r, _, err := a.CreateReseller(ctx, admin, app.ResellerInput{Name: "R",
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard},
			panel.ResTraffic: {Value: 100, Mode: panel.ModeMaximum}, panel.ResStorage: {Value: 100, Mode: panel.ModeMaximum}}})
	if err != nil {
		t.Fatal(err)
	}
	ra := panel.Actor{ID: r.ID, Role: panel.RoleReseller, ResellerID: r.ID}
	cr, _, err := a.CreateUser(ctx, ra, app.UserInput{Password: "pw123456", Limits: panel.Limits{panel.ResTraffic: 10, panel.ResStorage: 10},
		Domains: []store.NewDomain{{Name: "shop.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	logDir := filepath.Join(root, "var/log/apache2")
	home := filepath.Join(root, "home", cr.User.Login)
	for _, d := range []string{logDir, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var log strings.Builder
	for i := 0; i < 3; i++ { // 3 × 1 MB + 1 byte
		fmt.Fprintf(&log, "shop.example:80 192.0.2.1 - - [0%d/Mar/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 %d \"-\" \"t\"\n", i+1, 1<<20+map[bool]int{true: 1}[i == 0])
	}
	if err := os.WriteFile(filepath.Join(logDir, "access.log"), []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "big"), make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, j := range a.StatsJobs(root) {
		if err := j.Run(ctx); err != nil {
			t.Fatalf("%s: %v", j.Name, err)
		}
	}
	u, err := st.StatsUserResources(ctx, ra, cr.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tr := u.Use(panel.ResTraffic); tr.Used != 4 {
		t.Fatalf("traffic %+v, want 4 MB", tr)
	}
	if sto := u.Use(panel.ResStorage); sto.Used < 3 || sto.Used > 4 {
		t.Fatalf("storage %+v, want 3 MB", sto)
	}
}
