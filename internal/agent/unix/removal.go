package unix

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// Removal deletes the accounts of b.Gone (USR-3: account, group, home,
// quota) and, on a full run, every account the agent made that belongs to
// none of b.Users. It runs last in a batch, after the other daemons
// stopped using the homes (PHP-FPM pools, cron jobs).
type Removal struct{ Opt Options }

// Name names the daemon in logs and messages.
func (Removal) Name() string { return "accounts-removal" }

// NoticeRemoveFailed is the notice of an account the full sweep could not
// remove; it belongs to no user of the batch, so it cannot go into
// Result.Failed. The sweep tries again on the next full run.
const NoticeRemoveFailed = "accounts.remove_failed"

// agentLogin is the shape of the logins the agent makes: webN, and a
// reseller's own account <reseller login>web0 (panel.DefaultUserLogin).
var agentLogin = regexp.MustCompile(`^(web[0-9]+|[a-z][a-z0-9_-]*web0)$`)

// Apply removes the gone users, then sweeps on a full run. An account
// outside the uid range is never touched; the sweep also requires the
// agent's GECOS marker, a login of the agent's shape and the home at
// HomeBase/login, so an account an admin made by hand survives even
// inside the range. Homes without an account are not swept: /home also
// holds directories nobody told the agent about.
func (r Removal) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	var res agent.Result
	o := r.Opt.withDefaults()
	if err := o.check(); err != nil {
		res.Err = fmt.Errorf("accounts-removal: %w", err)
		return res
	}
	run := runnerFor(env, o)
	db, err := readDB(env.FS)
	if err != nil {
		res.Err = fmt.Errorf("accounts-removal: %w", err)
		return res
	}
	q := detectQuota(env.FS, o)
	rm := remover{ctx: ctx, env: env, run: run, o: o, q: q}
	done := make(map[string]bool, len(b.Gone))
	for _, g := range b.Gone {
		done[g.Login] = true
		if err := rm.remove(db, g.Login); err != nil {
			res.Fail(g.ID, fmt.Errorf("accounts-removal: user %s: %w", g.Login, err))
		}
	}
	if b.Full || b.SweepOnly {
		keep := make(map[string]bool, len(b.Users))
		for _, u := range b.Users {
			keep[u.Login] = true
		}
		for _, e := range db.users {
			if keep[e.Name] || done[e.Name] || !r.sweepable(e, o) {
				continue
			}
			if err := rm.remove(db, e.Name); err != nil {
				res.Notices = append(res.Notices, agent.Notice{Key: NoticeRemoveFailed, Args: []any{e.Name, err.Error()}})
			}
		}
	}
	res.Changed = rm.changed
	return res
}

// sweepable reports whether a full run may remove e when no user of the
// batch claims it.
func (Removal) sweepable(e passwdEntry, o Options) bool {
	return e.UID >= o.UIDMin && e.UID <= o.UIDMax &&
		e.Gecos == marker &&
		panel.ValidateLogin("login", e.Name) == nil && agentLogin.MatchString(e.Name) &&
		e.Home == o.HomeBase+"/"+e.Name
}

// remover deletes accounts.
type remover struct {
	ctx     context.Context
	env     agent.Env
	run     agent.Runner
	o       Options
	q       quotaState
	changed bool
}

func (m *remover) exec(name string, args ...string) error {
	m.changed = true
	_, err := m.run.Run(m.ctx, name, args...)
	return err
}

// userdel ends the account's processes first (its PHP-FPM workers may
// still be finishing after the graceful reload that removed its pool,
// its cron jobs and SFTP sessions may run), then deletes it. userdel
// refuses while a process of the user lives, and a killed process takes
// a moment to go, so it is retried a few times. pkill's exit status 1
// means no process matched, which is the normal case.
func (m *remover) userdel(login string, uid int) error {
	if _, err := m.run.Run(m.ctx, "pkill", "-KILL", "-U", strconv.Itoa(uid)); err != nil && !strings.Contains(err.Error(), "exit status 1") {
		return err
	}
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if err = m.exec("userdel", login); err == nil || !strings.Contains(err.Error(), "currently used by process") {
			return err
		}
		select {
		case <-m.ctx.Done():
			return m.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

// remove deletes one account: its quota (setquota to 0 while the name
// still resolves), the account (userdel, which also drops it from every
// group and, on Debian, removes its own group), the group if still there,
// and the home at HomeBase/login (never the home field of passwd, and
// never following a link: env.FS.RemoveAll). Removing what is already
// gone is not an error, so a retried deletion completes.
func (m *remover) remove(db *accountDB, login string) error {
	if err := panel.ValidateLogin("login", login); err != nil {
		return err
	}
	e := db.user(login)
	if e != nil && (e.UID < m.o.UIDMin || e.UID > m.o.UIDMax) {
		return fmt.Errorf("account %q: %w: left alone", login, uidError(e.UID, m.o))
	}
	gid := -1
	if e != nil {
		gid = e.UID
		if m.q.supported {
			if err := checkQuotaFS(m.q.fs); err != nil {
				return err
			}
			if err := m.exec("setquota", quotaArgs(login, 0, m.q.fs)...); err != nil {
				return err
			}
		}
		if err := m.userdel(login, e.UID); err != nil {
			return err
		}
	}
	// userdel may have removed the group already: look again (in a dry
	// run nothing changed, and groupdel is planned as it would run).
	if fresh, err := readDB(m.env.FS); err == nil {
		db = fresh
	}
	if g := db.group(login); g != nil && g.GID >= m.o.UIDMin && g.GID <= m.o.UIDMax && (gid < 0 || g.GID == gid) {
		if err := m.exec("groupdel", login); err != nil && !strings.Contains(err.Error(), "does not exist") {
			return err
		}
	}
	home := m.o.HomeBase + "/" + login
	if names, err := m.env.FS.ReadDir(m.o.HomeBase); err == nil && slices.Contains(names, login) {
		m.changed = true
		if err := m.env.FS.RemoveAll(home); err != nil {
			return fmt.Errorf("removing the home: %w", err)
		}
	}
	return nil
}
