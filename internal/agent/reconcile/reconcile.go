// Package reconcile is the agent's loop (SYS-2, SYS-3): it follows the
// change journal the panel writes, loads the desired state of the users
// named there, hands one batch to every daemon in turn, and records per
// user whether the change is applied or why it failed (GEN-4). A full
// reconcile at start and then periodically repairs drift, manual edits and
// anything a crash left half-done; since every daemon's Apply is
// idempotent, replaying a batch after a crash converges to the same files.
package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"kontor/internal/agent"
	"kontor/internal/store"
)

// Store is what the loop reads and writes; *store.Store implements it.
type Store interface {
	Changes(ctx context.Context, after int64, limit int) ([]store.Change, error)
	LastChangeID(ctx context.Context) (int64, error)
	PruneChanges(ctx context.Context, upTo int64, olderThan time.Time) error
	UserIDs(ctx context.Context) ([]int64, error)
	DesiredUsers(ctx context.Context, ids []int64, opt store.DesiredOptions) ([]agent.User, error)
	ServerFacts(ctx context.Context) (agent.Server, error)
	AgentCursor(ctx context.Context) (int64, error)
	SetAgentCursor(ctx context.Context, id int64) error
	RecordAgentResults(ctx context.Context, res []store.AgentResult) error
	NoticeOnce(ctx context.Context, key, msgKey string, args ...string) (bool, error)
}

// Loop runs the daemons against the store's desired state.
type Loop struct {
	Store   Store
	Daemons []agent.Daemon // in apply order: accounts first, removal last
	Env     agent.Env
	Desired store.DesiredOptions
	Log     *slog.Logger
	// Poll is how often the journal is checked (the wake-up; a change is
	// applied within about Poll plus the apply itself).
	Poll time.Duration // 100 ms
	// FullEvery is the period of the full reconcile.
	FullEvery time.Duration // 10 min
	// BatchLimit caps the journal rows taken at once.
	BatchLimit int // 1000
	// KeepJournal is how long applied journal rows are kept (for the
	// other servers' agents and for debugging).
	KeepJournal time.Duration // 24 h
	// Explain turns a daemon's error into the text the reseller reads in
	// Messages (a panel.Error's key into words); nil uses err.Error().
	Explain func(error) string
	// FullChunk is how many users a full reconcile applies at a time;
	// the journal is followed between chunks.
	FullChunk int // 500

	lastTick map[string]time.Time
	// inFull is set while Full runs: a server-wide change seen by a Step
	// in between asks for another full run instead of nesting one.
	inFull, fullAgain bool
}

func (l *Loop) defaults() {
	if l.Poll <= 0 {
		l.Poll = 100 * time.Millisecond
	}
	if l.FullEvery <= 0 {
		l.FullEvery = 10 * time.Minute
	}
	if l.BatchLimit <= 0 {
		l.BatchLimit = 1000
	}
	if l.FullChunk <= 0 {
		l.FullChunk = 500
	}
	if l.KeepJournal <= 0 {
		l.KeepJournal = 24 * time.Hour
	}
	if l.Log == nil {
		l.Log = slog.New(slog.DiscardHandler)
	}
	if l.Env.Now == nil {
		l.Env.Now = time.Now
	}
	if l.Env.Plan == nil {
		l.Env.Plan = func(string) {}
	}
	if l.lastTick == nil {
		l.lastTick = make(map[string]time.Time)
	}
	if l.Explain == nil {
		l.Explain = func(err error) string { return err.Error() }
	}
}

// Report is what one run did.
type Report struct {
	Users   int // users in the batch
	Gone    int
	Failed  map[int64]string
	Changed []string // daemons that changed something
	Cursor  int64
	// Took is how long each daemon's Apply ran.
	Took map[string]time.Duration
}

// Run reconciles everything once, then follows the journal until ctx
// ends, with a full reconcile every FullEvery.
func (l *Loop) Run(ctx context.Context) error {
	l.defaults()
	lastFull := time.Time{}
	tick := time.NewTicker(l.Poll)
	defer tick.Stop()
	var seen int64 = -1
	for {
		now := l.Env.Now()
		if now.Sub(lastFull) >= l.FullEvery || l.fullAgain {
			t0 := time.Now()
			if rep, err := l.Full(ctx); err != nil {
				l.Log.Error("full reconcile", "err", err)
				// Try again in a minute, not at every poll.
				lastFull = now.Add(min(time.Minute, l.FullEvery) - l.FullEvery)
			} else {
				lastFull = now
				l.Log.Info("full reconcile", "users", rep.Users, "failed", len(rep.Failed),
					"changed", strings.Join(rep.Changed, ","), "took", time.Since(t0).Round(time.Millisecond))
			}
			l.ticks(ctx)
		}
		last, err := l.Store.LastChangeID(ctx)
		if err != nil {
			l.Log.Error("journal", "err", err)
		} else if last != seen {
			rep, err := l.Step(ctx)
			if err != nil {
				l.Log.Error("apply", "err", err)
			} else {
				seen = rep.Cursor
				if rep.Users+rep.Gone > 0 {
					l.Log.Info("applied", "users", rep.Users, "gone", rep.Gone, "failed", len(rep.Failed), "daemons", strings.Join(rep.Changed, ","))
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Step applies the journal rows after the cursor (up to BatchLimit) as
// one batch and advances the cursor. It returns a zero report when there
// is nothing to do.
func (l *Loop) Step(ctx context.Context) (Report, error) {
	l.defaults()
	cur, err := l.Store.AgentCursor(ctx)
	if err != nil {
		return Report{}, err
	}
	rows, err := l.Store.Changes(ctx, cur, l.BatchLimit)
	if err != nil {
		return Report{}, err
	}
	if len(rows) == 0 {
		return Report{Cursor: cur}, nil
	}
	last := rows[len(rows)-1].ID
	ids := make([]int64, 0, len(rows))
	what := make(map[int64][]string)
	logins := make(map[int64]string)
	deleted := make(map[int64]bool)
	changeID := make(map[int64]int64)
	server := false
	for _, c := range rows {
		if c.AccountID == 0 {
			server = true // server-wide facts changed: everything re-renders
			continue
		}
		if _, ok := what[c.AccountID]; !ok {
			ids = append(ids, c.AccountID)
		}
		what[c.AccountID] = append(what[c.AccountID], c.What)
		if c.Login != "" {
			logins[c.AccountID] = c.Login
		}
		deleted[c.AccountID] = c.What == "delete"
		changeID[c.AccountID] = c.ID
	}
	var rep Report
	switch {
	case server && l.inFull:
		// A Step between the chunks of a full run: the users of this
		// batch are applied, and another full run follows.
		l.fullAgain = true
		fallthrough
	case !server:
		var users []agent.User
		users, err = l.Store.DesiredUsers(ctx, ids, l.Desired)
		if err == nil {
			present := make(map[int64]bool, len(users))
			for _, u := range users {
				present[u.ID] = true
			}
			var gone []agent.Gone
			for _, id := range ids {
				if !present[id] && deleted[id] && logins[id] != "" {
					gone = append(gone, agent.Gone{ID: id, Login: logins[id]})
				}
			}
			rep, err = l.apply(ctx, agent.Batch{Users: users, Gone: gone, What: what}, changeID, 0)
		}
	default:
		rep, err = l.Full(ctx)
	}
	if err != nil {
		return rep, err
	}
	if err := l.Store.SetAgentCursor(ctx, last); err != nil {
		return rep, err
	}
	rep.Cursor = last
	_ = l.Store.PruneChanges(ctx, last, l.Env.Now().Add(-l.KeepJournal))
	return rep, nil
}

// Full applies every user of the server and removes whatever the daemons
// own that belongs to nobody. The users are applied in chunks of
// FullChunk, each loaded fresh from the store, and the journal is followed
// between chunks: a change made in the panel meanwhile waits for one chunk,
// not for ten thousand users, and a later chunk never re-applies a state
// older than the change. One sweep at the end removes the strays.
func (l *Loop) Full(ctx context.Context) (Report, error) {
	l.defaults()
	// The cursor is read first: changes made while the full run loads are
	// replayed by the next Step, never skipped.
	last, err := l.Store.LastChangeID(ctx)
	if err != nil {
		return Report{}, err
	}
	ids, err := l.Store.UserIDs(ctx)
	if err != nil {
		return Report{}, err
	}
	l.inFull, l.fullAgain = true, false
	defer func() { l.inFull = false }()
	total := Report{Failed: map[int64]string{}, Took: map[string]time.Duration{}, Cursor: last}
	for start := 0; start < len(ids); start += l.FullChunk {
		chunk := ids[start:min(start+l.FullChunk, len(ids))]
		users, err := l.Store.DesiredUsers(ctx, chunk, l.Desired)
		if err != nil {
			return total, err
		}
		rep, err := l.apply(ctx, agent.Batch{Users: users}, nil, last)
		total.add(rep)
		if err != nil {
			return total, err
		}
		if !l.Env.DryRun && start+l.FullChunk < len(ids) {
			if _, err := l.Step(ctx); err != nil {
				return total, err
			}
		}
	}
	users, err := l.Store.DesiredUsers(ctx, nil, l.Desired)
	if err != nil {
		return total, err
	}
	rep, err := l.apply(ctx, agent.Batch{Users: users, SweepOnly: true}, nil, last)
	total.Failed = mergeFailed(total.Failed, rep.Failed)
	for _, d := range rep.Changed {
		total.addChanged(d)
	}
	for d, t := range rep.Took {
		total.Took[d] += t
	}
	return total, err
}

// add folds the report of one chunk into r.
func (r *Report) add(o Report) {
	r.Users += o.Users
	r.Gone += o.Gone
	r.Failed = mergeFailed(r.Failed, o.Failed)
	for _, d := range o.Changed {
		r.addChanged(d)
	}
	for d, t := range o.Took {
		r.Took[d] += t
	}
}

func (r *Report) addChanged(d string) {
	for _, c := range r.Changed {
		if c == d {
			return
		}
	}
	r.Changed = append(r.Changed, d)
}

func mergeFailed(a, b map[int64]string) map[int64]string {
	for id, f := range b {
		a[id] = f
	}
	return a
}

// ticks runs the periodic work of daemons that have some (Webalizer).
func (l *Loop) ticks(ctx context.Context) {
	for _, d := range l.Daemons {
		t, ok := d.(agent.Ticker)
		if !ok || l.Env.Now().Sub(l.lastTick[d.Name()]) < t.Every() {
			continue
		}
		users, err := l.Store.DesiredUsers(ctx, nil, l.Desired)
		if err != nil {
			l.Log.Error("tick", "daemon", d.Name(), "err", err)
			return
		}
		srv, err := l.Store.ServerFacts(ctx)
		if err != nil {
			l.Log.Error("tick", "daemon", d.Name(), "err", err)
			return
		}
		r := t.Tick(ctx, l.Env, agent.Batch{Server: srv, Users: users, Full: true})
		l.lastTick[d.Name()] = l.Env.Now()
		if r.Err != nil {
			l.Log.Error("tick", "daemon", d.Name(), "err", r.Err)
		}
		for id, e := range r.Failed {
			l.Log.Warn("tick", "daemon", d.Name(), "user", id, "err", e)
		}
	}
}

// apply hands the batch to every daemon and records the results. Each
// user's result names the journal row it covers: changeID[user], or
// upTo for every user of a full run (it saw every change up to there).
func (l *Loop) apply(ctx context.Context, b agent.Batch, changeID map[int64]int64, upTo int64) (Report, error) {
	srv, err := l.Store.ServerFacts(ctx)
	if err != nil {
		return Report{}, err
	}
	b.Server = srv
	b.Created = make(map[int64]bool)
	rep := Report{Users: len(b.Users), Gone: len(b.Gone), Failed: make(map[int64]string), Took: make(map[string]time.Duration)}
	if b.SweepOnly {
		rep.Users = 0 // applied by the chunks before; the sweep is no result of theirs
	}
	env := l.Env
	if bf, ok := env.FS.(agent.BatchFS); ok {
		fs, done := bf.ForBatch()
		defer done()
		env.FS = fs
	}
	failed := make(map[int64][]string)
	ownFail := make(map[int64]bool) // failed by a daemon for a reason of its own
	noAccount := make(map[int64][]string)
	all := b.Users
	for _, d := range l.Daemons {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		// A user whose account could not be made is left out of the
		// daemons after it: their files would belong to nobody.
		batch := b
		batch.Users = withoutFailed(all, noAccount)
		t0 := time.Now()
		r := d.Apply(ctx, env, batch)
		if r.Changed && r.Err == nil {
			// Daemons that sync before their reload found little to do;
			// the others (accounts, cron) are made durable here.
			if err := agent.Sync(env.FS); err != nil {
				r.Err = err
			}
		}
		rep.Took[d.Name()] = time.Since(t0)
		if r.Changed {
			rep.Changed = append(rep.Changed, d.Name())
		}
		for id, e := range r.Failed {
			failed[id] = append(failed[id], d.Name()+": "+l.Explain(e))
			ownFail[id] = true
			if d.Name() == "accounts" {
				noAccount[id] = failed[id]
			}
		}
		if r.Err != nil {
			text := d.Name() + ": " + l.Explain(r.Err)
			for _, u := range batch.Users {
				failed[u.ID] = append(failed[u.ID], text)
			}
			l.Log.Error("daemon failed", "daemon", d.Name(), "err", r.Err)
			// One message to the admins, not one per user to every
			// reseller: a daemon that cannot validate or reload is the
			// server's problem (once per daemon and text).
			if !l.Env.DryRun {
				if _, err := l.Store.NoticeOnce(ctx, "daemon:"+text, "msg.agent.daemon_failed", d.Name(), l.Explain(r.Err)); err != nil {
					l.Log.Error("notice", "err", err)
				}
			}
		}
		for _, n := range r.Notices {
			args := make([]string, len(n.Args))
			for i, a := range n.Args {
				args[i] = fmt.Sprint(a)
			}
			// Once per key and first argument: "quota unsupported on /"
			// once, but every login whose removal failed.
			key := n.Key
			if len(args) > 0 {
				key += ":" + args[0]
			}
			if _, err := l.Store.NoticeOnce(ctx, key, "msg.agent."+n.Key, args...); err != nil {
				l.Log.Error("notice", "key", n.Key, "err", err)
			}
		}
	}
	if l.Env.DryRun {
		for id, f := range failed {
			rep.Failed[id] = strings.Join(f, "\n")
		}
		return rep, nil
	}
	results := make([]store.AgentResult, 0, len(all)+len(b.Gone))
	if b.SweepOnly {
		// The users' results came from the chunks; a failure of the
		// sweep itself is the daemon's (logged) and the admin's notice.
		all = nil
	}
	for _, u := range all {
		r := store.AgentResult{AccountID: u.ID, Login: u.Login, ResellerID: u.ResellerID, ChangeID: max(changeID[u.ID], upTo)}
		if f := failed[u.ID]; len(f) > 0 {
			r.Failed = true
			r.Detail = strings.Join(f, "\n")
			r.ServerWide = !ownFail[u.ID]
			rep.Failed[u.ID] = r.Detail
		}
		results = append(results, r)
	}
	for _, g := range b.Gone {
		r := store.AgentResult{AccountID: g.ID, Login: g.Login, Removed: true, ChangeID: changeID[g.ID]}
		if f := failed[g.ID]; len(f) > 0 {
			r.Removed, r.Failed, r.Detail = false, true, strings.Join(f, "\n")
			rep.Failed[g.ID] = r.Detail
		}
		results = append(results, r)
	}
	sort.Slice(results, func(i, j int) bool { return results[i].AccountID < results[j].AccountID })
	if err := l.Store.RecordAgentResults(ctx, results); err != nil {
		return rep, fmt.Errorf("record results: %w", err)
	}
	return rep, nil
}

func withoutFailed(users []agent.User, failed map[int64][]string) []agent.User {
	if len(failed) == 0 {
		return users
	}
	out := make([]agent.User, 0, len(users))
	for _, u := range users {
		if len(failed[u.ID]) == 0 {
			out = append(out, u)
		}
	}
	return out
}
