package reconcile_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/agent/reconcile"
	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// recorder is a daemon that remembers every batch and fails the logins
// in fail with the given text.
type recorder struct {
	name    string
	mu      sync.Mutex
	batches []agent.Batch
	fail    map[string]string
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, b)
	var res agent.Result
	for _, u := range b.Users {
		if msg, ok := r.fail[u.Login]; ok {
			res.Fail(u.ID, errors.New(msg))
		}
	}
	return res
}

func (r *recorder) last() agent.Batch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.batches[len(r.batches)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

type world struct {
	st    *store.Store
	app   *app.App
	res   panel.Reseller
	resA  panel.Actor
	users []panel.User
	loop  *reconcile.Loop
	d     *recorder
}

func newWorld(t *testing.T, daemons ...agent.Daemon) *world {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := app.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.Hasher = auth.Params{Memory: 1024, Time: 1, Threads: 1, BcryptCost: 4}
	admin := panel.Actor{Role: panel.RoleAdmin}
	w := &world{st: st, app: a}
	lim := panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}, panel.ResStorage: {Value: 1000, Mode: panel.ModeMaximum},
		panel.ResCron: {Value: 10, Mode: panel.ModeHard}}
	w.res, _, err = a.CreateReseller(ctx, admin, app.ResellerInput{Password: "res1pass", Name: "R", Limits: lim,
		Services: panel.ServiceSet{panel.SvcPHP: 1}})
	if err != nil {
		t.Fatal(err)
	}
	w.resA = panel.Actor{ID: w.res.ID, Role: panel.RoleReseller, ResellerID: w.res.ID, Login: w.res.Login}
	for _, d := range []string{"one.example", "two.example"} {
		cr, _, err := a.CreateUser(ctx, w.resA, app.UserInput{Password: "userpw12", Services: panel.ServiceSet{panel.SvcPHP: 1},
			Limits:  panel.Limits{panel.ResCron: 2},
			Domains: []store.NewDomain{{Name: d, DNS: true}}})
		if err != nil {
			t.Fatal(err)
		}
		w.users = append(w.users, cr.User)
	}
	w.d = &recorder{name: "fake", fail: map[string]string{}}
	root, err := fsys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.loop = &reconcile.Loop{Store: st, Daemons: append([]agent.Daemon{w.d}, daemons...),
		Env:     agent.Env{FS: root, Run: &fsys.DryRun{}},
		Desired: store.DesiredOptions{UIDBase: 10000, HomeBase: "/home"}}
	return w
}

func logins(us []agent.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Login)
	}
	return out
}

func TestJournalDrivesIncrementalBatches(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	rep, err := w.loop.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One chunk with every user (+ the reseller's default account), then
	// the sweep.
	b := w.d.last()
	if !b.SweepOnly || len(b.Users) != len(w.users)+1 {
		t.Fatalf("sweep batch: sweep=%v users=%v", b.SweepOnly, logins(b.Users))
	}
	b = w.d.batches[len(w.d.batches)-2]
	if b.Full || b.SweepOnly || len(b.Users) != len(w.users)+1 {
		t.Fatalf("chunk batch: full=%v sweep=%v users=%v", b.Full, b.SweepOnly, logins(b.Users))
	}
	if b.Server.Hostname == "" || len(b.Server.NameServers) == 0 {
		t.Errorf("server facts missing: %+v", b.Server)
	}
	// The full run covers the journal up to its start; the cursor moves
	// with the next step.
	if _, err := w.loop.Step(ctx); err != nil {
		t.Fatal(err)
	}
	n := w.d.count()
	if rep2, err := w.loop.Step(ctx); err != nil || w.d.count() != n {
		t.Fatalf("empty journal still applied: %v %+v", err, rep2)
	}
	_ = rep

	// Locking one user gives a batch with that user only.
	u := w.users[0]
	if err := w.app.SetUserStatus(ctx, w.resA, u.ID, panel.StatusLocked); err != nil {
		t.Fatal(err)
	}
	if _, err := w.loop.Step(ctx); err != nil {
		t.Fatal(err)
	}
	b = w.d.last()
	if b.Full || len(b.Users) != 1 || b.Users[0].Login != u.Login || !b.Users[0].Locked {
		t.Fatalf("lock batch: full=%v users=%v", b.Full, logins(b.Users))
	}
	if !slices.Contains(b.What[u.ID], "status") {
		t.Errorf("what = %v", b.What)
	}
	state, _, _, err := w.st.AgentStatus(ctx, w.resA, u.ID)
	if err != nil || state != store.AgentApplied {
		t.Errorf("status = %q, %v", state, err)
	}

	// Deleting the other user makes it Gone, with its login.
	gone := w.users[1]
	if err := w.app.DeleteUser(ctx, w.resA, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.loop.Step(ctx); err != nil {
		t.Fatal(err)
	}
	b = w.d.last()
	if len(b.Gone) != 1 || b.Gone[0].Login != gone.Login || len(b.Users) != 0 {
		t.Fatalf("delete batch: gone=%v users=%v", b.Gone, logins(b.Users))
	}
}

func TestFailureBecomesOneMessage(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	u := w.users[0]
	w.d.fail[u.Login] = "AH00526: Syntax error on line 7 of /etc/apache2/kontor/sites/" + u.Login + ".conf"
	for range 3 { // a failure that repeats unchanged is one message, not three
		if _, err := w.loop.Full(ctx); err != nil {
			t.Fatal(err)
		}
	}
	msgs, _, err := w.st.Messages(ctx, w.resA, store.MessageFilter{Kind: panel.MsgError})
	if err != nil {
		t.Fatal(err)
	}
	var mine []panel.Message
	for _, m := range msgs {
		if m.Subject == u.Login {
			mine = append(mine, m)
		}
	}
	if len(mine) != 1 || !strings.Contains(strings.Join(mine[0].Args, " "), "AH00526: Syntax error on line 7") ||
		!strings.Contains(strings.Join(mine[0].Args, " "), "fake: ") {
		t.Fatalf("messages about %s: %+v", u.Login, mine)
	}
	state, detail, _, _ := w.st.AgentStatus(ctx, w.resA, u.ID)
	if state != store.AgentFailed || !strings.Contains(detail, "AH00526") {
		t.Errorf("status %q %q", state, detail)
	}
	// The other user is applied; the fix is a notice.
	if st, _, _, _ := w.st.AgentStatus(ctx, w.resA, w.users[1].ID); st != store.AgentApplied {
		t.Errorf("other user: %q", st)
	}
	delete(w.d.fail, u.Login)
	if _, err := w.loop.Full(ctx); err != nil {
		t.Fatal(err)
	}
	notes, _, _ := w.st.Messages(ctx, w.resA, store.MessageFilter{Kind: panel.MsgNotice})
	found := false
	for _, m := range notes {
		found = found || (m.Subject == u.Login && m.Key == "msg.agent.recovered")
	}
	if !found {
		t.Errorf("no recovery notice: %+v", notes)
	}
}

// accountsFail is an accounts daemon that cannot create one login.
type accountsFail struct{ login string }

func (a accountsFail) Name() string { return "accounts" }
func (a accountsFail) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	var r agent.Result
	for _, u := range b.Users {
		if u.Login == a.login {
			r.Fail(u.ID, errors.New("useradd: UID 10001 is not unique"))
		}
	}
	return r
}

func TestNoAccountNoFiles(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	after := &recorder{name: "apache"}
	w.loop.Daemons = []agent.Daemon{accountsFail{login: w.users[0].Login}, after}
	rep, err := w.loop.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(logins(after.last().Users), w.users[0].Login) {
		t.Error("a user without an account reached the next daemon")
	}
	if !strings.Contains(rep.Failed[w.users[0].ID], "accounts: useradd: UID 10001 is not unique") {
		t.Errorf("failed = %v", rep.Failed)
	}
}

func TestRunWakesOnJournal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWorld(t)
	w.loop.Poll = 50 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- w.loop.Run(ctx) }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the first full run", func() bool { return w.d.count() > 0 })
	u := w.users[1]
	if err := w.app.SetUserStatus(ctx, w.resA, u.ID, panel.StatusLocked); err != nil {
		t.Fatal(err)
	}
	waitFor("the lock to be applied", func() bool {
		b := w.d.last()
		return !b.Full && len(b.Users) == 1 && b.Users[0].ID == u.ID && b.Users[0].Locked
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// changer is a daemon that, in its first batch, makes a change in the
// panel: as if a reseller clicked while a full reconcile is running.
type changer struct {
	once   bool
	change func()
}

func (c *changer) Name() string { return "changer" }
func (c *changer) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	if !c.once {
		c.once = true
		c.change()
	}
	return agent.Result{}
}

// TestFullFollowsJournalBetweenChunks: a change made during a full
// reconcile is applied before the full run ends, and the later chunk that
// holds the user applies the new state, never the one from before.
func TestFullFollowsJournalBetweenChunks(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	if _, err := w.loop.Full(ctx); err != nil { // bring the cursor up to date
		t.Fatal(err)
	}
	if _, err := w.loop.Step(ctx); err != nil {
		t.Fatal(err)
	}
	last := w.users[len(w.users)-1]
	ch := &changer{change: func() {
		if err := w.app.SetUserStatus(ctx, w.resA, last.ID, panel.StatusLocked); err != nil {
			t.Error(err)
		}
	}}
	w.loop.Daemons = []agent.Daemon{ch, w.d}
	w.loop.FullChunk = 1
	n := w.d.count()
	if _, err := w.loop.Full(ctx); err != nil {
		t.Fatal(err)
	}
	var sawStep bool
	for _, b := range w.d.batches[n:] {
		for _, u := range b.Users {
			if u.ID != last.ID || b.SweepOnly {
				continue
			}
			if !u.Locked {
				t.Errorf("a batch applied %s unlocked after the lock (what=%v)", u.Login, b.What)
			}
			sawStep = sawStep || len(b.What[u.ID]) > 0
		}
	}
	if !sawStep {
		t.Error("the lock was not applied between the chunks")
	}
	if cur, _ := w.st.AgentCursor(ctx); cur == 0 {
		t.Error("the cursor did not move during the full run")
	}
}

// broken is a daemon that fails as a whole (it cannot reload).
type broken struct{}

func (broken) Name() string { return "apache" }
func (broken) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	return agent.Result{Err: errors.New("apache reload: exit status 1: AH00016: Configuration Failed")}
}

// TestDaemonWideFailureTellsTheAdminOnce: a daemon that fails as a whole
// marks every user of the batch failed, but the resellers get no message
// per user; the admins get one.
func TestDaemonWideFailureTellsTheAdminOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	adm, err := w.app.CreateAdmin(ctx, "admin", "adminpw12")
	if err != nil {
		t.Fatal(err)
	}
	w.loop.Daemons = []agent.Daemon{broken{}}
	for range 2 {
		if _, err := w.loop.Full(ctx); err != nil {
			t.Fatal(err)
		}
	}
	state, detail, _, _ := w.st.AgentStatus(ctx, w.resA, w.users[0].ID)
	if state != store.AgentFailed || !strings.Contains(detail, "AH00016") {
		t.Errorf("status %q %q", state, detail)
	}
	if msgs, _, _ := w.st.Messages(ctx, w.resA, store.MessageFilter{Kind: panel.MsgError}); len(msgs) != 0 {
		t.Errorf("the reseller got %d messages for the server's failure: %+v", len(msgs), msgs)
	}
	aa := panel.Actor{ID: adm.ID, Role: panel.RoleAdmin}
	var n int
	for _, kind := range []panel.MessageKind{panel.MsgError, panel.MsgNotice} {
		msgs, _, _ := w.st.Messages(ctx, aa, store.MessageFilter{Kind: kind})
		for _, m := range msgs {
			if m.Key == "msg.agent.daemon_failed" {
				n++
			}
		}
	}
	if n != 1 {
		t.Errorf("the admin got %d messages about the failing daemon, want 1", n)
	}
}
