// Package cron writes the users' crontabs for Debian's cron (SYS-1): one
// file per user with enabled cron jobs, /var/spool/cron/crontabs/<login>,
// in the user crontab format (no user field), owned by the user, group
// crontab, mode 0600 — what crontab(1) itself writes, and what cron
// checks before it runs a line as the user ("WRONG FILE OWNER", "INSECURE
// MODE").
//
// Cron needs no reload. Debian's cron re-reads the spool when the spool
// directory's mtime differs from the one it saw at its last look (once a
// minute), then every crontab whose own mtime differs from the one it
// loaded. It compares whole seconds: a crontab replaced in the same second
// as cron's look (crontab(1) has that race) would wait for the next
// change. So after a batch that wrote or removed crontabs the daemon sets
// the mtime of those crontabs and of the directory to one second after
// the later of now and the directory's mtime before the batch: never a
// time cron can have seen (poke). The integration test checks with a
// running cron that a second crontab is picked up.
//
// Every value is checked again here (the store already did): one line
// cron refuses makes it ignore the user's whole crontab, and a line break
// in a command would add a job of the attacker's choosing.
package cron

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// Options say where the crontabs go. The zero value of a field means its
// default (DefaultOptions).
type Options struct {
	// SpoolDir holds one crontab per user, named by the login; cron's own
	// path, compiled in.
	SpoolDir string // "/var/spool/cron/crontabs"
	// Group owns the crontabs, as crontab(1) makes them; its gid comes
	// from /etc/group (0 when the group is not there).
	Group string // "crontab"
}

// DefaultOptions returns Debian's paths.
func DefaultOptions() Options {
	return Options{SpoolDir: "/var/spool/cron/crontabs", Group: "crontab"}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.SpoolDir == "" {
		o.SpoolDir = d.SpoolDir
	}
	if o.Group == "" {
		o.Group = d.Group
	}
	return o
}

func (o Options) check() error {
	p := o.SpoolDir
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" || strings.ContainsAny(p, "\x00\r\n") {
		return fmt.Errorf("cron: spool directory %q must be an absolute, clean path", p)
	}
	if err := panel.ValidateLogin("group", o.Group); err != nil {
		return fmt.Errorf("cron: group %q is not a valid group name", o.Group)
	}
	return nil
}

// agentLogin is the shape of the logins the agent makes: webN and a
// reseller's own account <reseller login>web0. A full run removes only
// crontabs of such names, never root's or an admin's.
var agentLogin = regexp.MustCompile(`^(web[0-9]+|[a-z][a-z0-9_-]*web0)$`)

// Render returns the crontab of u, or nil when u has no job to run (none,
// or u is locked: a locked user's jobs do not run, and they come back on
// unlocking because the store keeps them). Any bad value fails the whole
// user: a half-written crontab would silently drop jobs.
func Render(u agent.User) ([]byte, error) {
	if err := panel.ValidateLogin("login", u.Login); err != nil {
		return nil, fmt.Errorf("cron: user id %d: login %q is not a valid login", u.ID, u.Login)
	}
	if u.Locked || len(u.Cron) == 0 {
		return nil, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Cron jobs of %s, written by the Kontor agent; changes here are overwritten.\n", u.Login)
	b.WriteString("# Every % in a command is written as \\% so that cron passes it on.\n")
	b.WriteString("SHELL=/bin/sh\n")
	// No mail: the jobs' output would go to a local mailbox nobody reads,
	// and the server need not run a mail transport for it.
	b.WriteString("MAILTO=\"\"\n")
	for _, j := range u.Cron {
		if err := panel.ValidateCronSchedule("schedule", j.Schedule); err != nil {
			return nil, fmt.Errorf("cron: %s: job %d has an invalid schedule %q (%v); the old crontab stays", u.Login, j.ID, j.Schedule, err)
		}
		if err := panel.ValidateCronCommand("command", j.Command); err != nil {
			return nil, fmt.Errorf("cron: %s: job %d has an invalid command %q (%v); the old crontab stays", u.Login, j.ID, j.Command, err)
		}
		fmt.Fprintf(&b, "# job %d\n%s %s\n", j.ID, j.Schedule, panel.CrontabCommand(j.Command))
	}
	return []byte(b.String()), nil
}

// Daemon keeps the spool directory in line with the users' jobs.
type Daemon struct{ Opt Options }

// Name names the daemon in logs and messages.
func (Daemon) Name() string { return "cron" }

// Apply writes or removes the crontab of every user of the batch, removes
// those of gone users and, on a full run, every crontab of an agent login
// that belongs to none of the batch's users. A user whose jobs fail to
// render keeps its old crontab and is reported in Result.Failed.
func (d Daemon) Apply(ctx context.Context, env agent.Env, b agent.Batch) (res agent.Result) {
	o := d.Opt.withDefaults()
	if err := o.check(); err != nil {
		res.Err = err
		return res
	}
	gid, err := groupID(env.FS, o.Group)
	if err != nil {
		res.Err = err
		return res
	}
	// Debian's own mode: root and group crontab may enter, sticky.
	if err := env.FS.MkdirAll(o.SpoolDir, 0o730|fs.ModeSticky, 0, gid); err != nil {
		res.Err = fmt.Errorf("cron: %w", err)
		return res
	}
	p := newPoke(env, o.SpoolDir)
	defer func() {
		if err := p.done(); err != nil && res.Err == nil {
			res.Err = err
		}
	}()
	keep := make(map[string]bool, len(b.Users))
	for _, u := range b.Users {
		if ctx.Err() != nil {
			res.Err = ctx.Err()
			return res
		}
		keep[u.Login] = true
		if b.SweepOnly {
			continue
		}
		data, err := Render(u)
		if err != nil {
			res.Fail(u.ID, err)
			continue
		}
		path := o.SpoolDir + "/" + u.Login
		if data == nil {
			changed, err := remove(env.FS, path)
			if err != nil {
				res.Fail(u.ID, err)
			}
			p.removed(changed)
			res.Changed = res.Changed || changed
			continue
		}
		// Never a crontab owned by root under a user's name: cron would
		// accept it (root may own any crontab) and run it as that user,
		// but a uid 0 in the state is a bug, not a user.
		if u.UID <= 0 {
			res.Fail(u.ID, fmt.Errorf("cron: %s: uid %d is not a user's uid; the old crontab stays", u.Login, u.UID))
			continue
		}
		changed, err := env.FS.WriteFile(path, data, 0o600, u.UID, gid)
		if err != nil {
			res.Fail(u.ID, fmt.Errorf("cron: %s: %w", u.Login, err))
			continue
		}
		p.wrote(path, changed)
		res.Changed = res.Changed || changed
	}
	for _, g := range b.Gone {
		if panel.ValidateLogin("login", g.Login) != nil {
			res.Fail(g.ID, fmt.Errorf("cron: user id %d: login %q is not a valid login", g.ID, g.Login))
			continue
		}
		changed, err := remove(env.FS, o.SpoolDir+"/"+g.Login)
		if err != nil {
			res.Fail(g.ID, err)
		}
		p.removed(changed)
		res.Changed = res.Changed || changed
	}
	if b.Full || b.SweepOnly {
		names, err := env.FS.ReadDir(o.SpoolDir)
		if err != nil {
			res.Err = fmt.Errorf("cron: %w", err)
			return res
		}
		for _, n := range names {
			if keep[n] || !agentLogin.MatchString(n) {
				continue
			}
			changed, err := remove(env.FS, o.SpoolDir+"/"+n)
			if err != nil {
				res.Notices = append(res.Notices, agent.Notice{Key: "cron.remove_failed", Args: []any{n, err.Error()}})
			}
			p.removed(changed)
			res.Changed = res.Changed || changed
		}
	}
	return res
}

// mtimes is what poke needs of the FS beyond agent.FS; fsys.Root has it.
// A dry run's recorder has not: it writes nothing cron could miss.
type mtimes interface {
	ModTime(p string) (time.Time, error)
	SetModTime(p string, t time.Time) error
}

// poke gives the crontabs a batch wrote, and the spool directory, an mtime
// cron cannot have seen (see the package comment).
type poke struct {
	fs      mtimes // nil: nothing to do
	now     func() time.Time
	dir     string
	before  time.Time // the directory's mtime before the batch
	written []string
	changed bool
	err     error
}

func newPoke(env agent.Env, dir string) *poke {
	p := &poke{dir: dir, now: env.Now}
	if p.now == nil {
		p.now = time.Now
	}
	if m, ok := env.FS.(mtimes); ok && !env.DryRun {
		p.fs = m
		p.before, p.err = m.ModTime(dir)
	}
	return p
}

func (p *poke) wrote(path string, changed bool) {
	if changed {
		p.written = append(p.written, path)
		p.changed = true
	}
}

func (p *poke) removed(changed bool) { p.changed = p.changed || changed }

// done sets the times, when the batch changed the spool.
func (p *poke) done() error {
	if p.fs == nil || !p.changed {
		return nil
	}
	if p.err != nil {
		return fmt.Errorf("cron: the spool's time before the changes: %w", p.err)
	}
	t := p.now().Truncate(time.Second)
	if b := p.before.Truncate(time.Second); b.After(t) {
		t = b // set by the batch before, within this second
	}
	t = t.Add(time.Second)
	var errs []error
	for _, f := range append(p.written, p.dir) {
		if err := p.fs.SetModTime(f, t); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cron: setting the times cron reloads by (it may miss the change until the next one): %w", err)
	}
	return nil
}

// remove deletes the crontab at p and reports whether there was one.
func remove(fsys agent.FS, p string) (bool, error) {
	_, err := fsys.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	// Anything else there (a symlink, a directory) goes too, as a name:
	// Remove never follows a link.
	if err := fsys.Remove(p); err != nil {
		return false, fmt.Errorf("cron: %w", err)
	}
	return true, nil
}

// groupID returns the gid of group from /etc/group, 0 when the file or
// the group is missing (cron only insists on mode 0600 and the owner).
func groupID(fsys agent.FS, group string) (int, error) {
	data, err := fsys.ReadFile("/etc/group")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cron: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == group {
			if gid, err := strconv.Atoi(f[2]); err == nil && gid >= 0 {
				return gid, nil
			}
		}
	}
	return 0, nil
}
