package agent

import (
	"context"
	"io/fs"
	"time"
)

// FS is how a daemon touches files: every path is absolute on the target
// system and is mapped under the agent's root (fsys.Root: "/" in
// production, a sandbox in the demo and in tests). No method follows a
// symbolic link anywhere in the path, so a link a user planted in a home
// never makes the agent write outside it. In a dry run the writes are
// recorded as diffs instead (fsys.Recorder) and reads see them.
type FS interface {
	// WriteFile writes atomically (temp + fsync + rename) and reports
	// whether the content, mode or owner changed.
	WriteFile(p string, data []byte, mode fs.FileMode, uid, gid int) (changed bool, err error)
	// WriteIfMissing writes only when nothing exists at p (SET-2: a user's
	// own file is never overwritten).
	WriteIfMissing(p string, data []byte, mode fs.FileMode, uid, gid int) (written bool, err error)
	MkdirAll(p string, mode fs.FileMode, uid, gid int) error
	// ReadFile returns fs.ErrNotExist (wrapped) when p does not exist.
	ReadFile(p string) ([]byte, error)
	// ReadDir returns the names in directory p, sorted; none when p does
	// not exist.
	ReadDir(p string) ([]string, error)
	Remove(p string) error
	RemoveAll(p string) error
}

// A BatchFS gives a view of itself for one batch of the loop, which it may
// keep state in (fsys.Root keeps the directories only root can replace
// open, see fsys.Root.Cached), and frees it with done after the batch.
type BatchFS interface {
	ForBatch() (fs FS, done func() error)
}

// Runner runs a program with an argument list, never a shell string
// (DESIGN rule 1). fsys.ExecRunner runs it; fsys.DryRun records it.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// Env is what every daemon of one reconcile run acts through.
type Env struct {
	FS  FS
	Run Runner
	// DryRun is set by `kontor apply --dry-run`: FS and Run only record.
	// A daemon that talks to its server over a connection (MariaDB) must
	// record what it would do through Run's log instead of doing it; see
	// Plan.
	DryRun bool
	// Plan records a step that is neither a file nor a command (an SQL
	// statement) so that a dry run can print it. Never nil.
	Plan func(step string)
	Now  func() time.Time
}

// Gone is a user deleted in the panel whose traces the agent removes.
type Gone struct {
	ID    int64
	Login string
}

// Batch is one reconcile step handed to every daemon in turn.
type Batch struct {
	Server Server
	// Users is the desired state of the users of this batch (every user
	// of the server when Full is set).
	Users []User
	// Gone are users to remove from the system.
	Gone []Gone
	// Full means Users is everything: whatever the daemon owns (its own
	// directories, its name space of accounts and databases) that belongs
	// to none of them is removed too. A full run repairs drift and
	// anything a crash left half-done.
	Full bool
	// SweepOnly is a Full batch whose users are already applied: only
	// what belongs to none of them is removed, nothing is rendered. The
	// loop's full reconcile applies the users in chunks, so that changes
	// from the panel are not held up behind ten thousand users, and ends
	// with one sweep.
	SweepOnly bool
	// Created holds the ids of users whose account and home the agent
	// created in this batch (set by the accounts daemon, read by the
	// ones after it: SET-2's index page goes into a new home only).
	Created map[int64]bool
	// What holds, per user of a journal-driven batch, what changed
	// ("create", "services", "password", …); empty on a full run.
	What map[int64][]string
}

// Notice is a server-wide remark for the admin's Messages, recorded once
// per Key (e.g. "quota.unsupported").
type Notice struct {
	Key  string
	Args []any
}

// Result is what one daemon did with a batch.
type Result struct {
	// Failed maps a user id to the reason, in the daemon's own words. The
	// user's files of this daemon stay as they were (the last good ones).
	Failed map[int64]error
	// Err is set when the daemon failed as a whole (it could not validate
	// or reload): every user of the batch counts as failed with it.
	Err     error
	Notices []Notice
	// Changed reports that the daemon changed something on the system.
	Changed bool
}

// Daemon is one system service the agent manages: Apache, BIND, MariaDB,
// cron, … (mail and FTP plug in the same way). Apply brings the system in
// line with the batch: it renders, validates with the daemon's own
// checker, swaps in atomically and reloads at most once.
type Daemon interface {
	Name() string
	Apply(ctx context.Context, env Env, b Batch) Result
}

// Fail records a per-user failure, creating the map on first use.
func (r *Result) Fail(id int64, err error) {
	if r.Failed == nil {
		r.Failed = make(map[int64]error)
	}
	r.Failed[id] = err
}

// Ticker is a daemon with periodic work besides reconciling (Webalizer's
// daily run). The loop calls Tick with a full batch every Every().
type Ticker interface {
	Every() time.Duration
	Tick(ctx context.Context, env Env, b Batch) Result
}

// Sync makes the writes of fs durable when it defers them (fsys.Root's
// Deferred mode); daemons call it before they make a server read the
// files (a reload), and the loop after every daemon.
func Sync(fs FS) error {
	if s, ok := fs.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}
