package unix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// Accounts creates and updates the accounts and homes of a batch (it runs
// first: the other daemons write into the homes and run as the users). It
// ignores b.Gone; Removal handles those. It sets b.Created[id] for every
// user whose account or home it created in this batch.
type Accounts struct {
	Opt Options

	// readACL replaces readWebACL in tests.
	readACL aclReader
}

// Name names the daemon in logs and messages.
func (Accounts) Name() string { return "accounts" }

// Apply brings the accounts of b.Users in line: the system groups the
// sshd drop-in names, the drop-in itself (checked and reloaded once when
// it changed), then per user the account (groupadd/useradd or usermod),
// the home layout, the index page and standard CGI scripts of a new home,
// the quota, and the web server's write access to the document root that
// FrontPage publishing needs (POSIX ACLs, see acl.go). One user's failure is recorded in Result.Failed with the
// command's own words and the others carry on.
func (a Accounts) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	var res agent.Result
	if b.SweepOnly {
		return res // removing is Removal's part
	}
	o := a.Opt.withDefaults()
	if err := o.check(); err != nil {
		res.Err = fmt.Errorf("accounts: %w", err)
		return res
	}
	run := runnerFor(env, o)
	owner := ownerFunc(o)
	db, err := readDB(env.FS)
	if err != nil {
		res.Err = fmt.Errorf("accounts: %w", err)
		return res
	}

	// The groups the drop-in and the homes name. The web server's group
	// comes with the web server; only the sandbox makes it up.
	groups := []string{o.SFTPGroup, o.NoSSHGroup}
	if o.Sandbox {
		groups = append(groups, o.WebGroup)
	}
	added := false
	for _, g := range groups {
		if db.group(g) == nil {
			if _, err := run.Run(ctx, "groupadd", "--system", g); err != nil {
				res.Err = fmt.Errorf("accounts: %w", err)
				return res
			}
			added = true
		}
	}
	if added {
		res.Changed = true
		if db, err = readDB(env.FS); err != nil {
			res.Err = fmt.Errorf("accounts: %w", err)
			return res
		}
	}
	webGID := -1
	if g := db.group(o.WebGroup); g != nil {
		webGID = g.GID
	} else if !env.DryRun {
		res.Err = fmt.Errorf("accounts: the web server's group %q is not in %s", o.WebGroup, groupFile)
		return res
	}

	// The web server's user owns what FrontPage publishing creates.
	webUID := -1
	if w := db.user(o.WebUser); w != nil {
		webUID = w.UID
	}

	// A missing HomeBase is made root's (0755) once here; MkdirAll of a
	// home would otherwise create it with the first user's owner. An
	// existing one keeps the mode the admin gave it (often 0711).
	parent, name := path.Split(o.HomeBase)
	if names, err := env.FS.ReadDir(path.Clean(parent)); err != nil {
		res.Err = fmt.Errorf("accounts: %w", err)
		return res
	} else if !slices.Contains(names, name) {
		if err := env.FS.MkdirAll(o.HomeBase, 0o755, owner(0), owner(0)); err != nil {
			res.Err = fmt.Errorf("accounts: %w", err)
			return res
		}
	}

	changed, sshdErr := applySSHD(ctx, env, run, o)
	res.Changed = res.Changed || changed

	q := detectQuota(env.FS, o)
	quotaUnsupported, aclUnsupported := false, false
	for _, u := range b.Users {
		if err := ctx.Err(); err != nil {
			res.Fail(u.ID, err)
			continue
		}
		st := userRun{ctx: ctx, env: env, run: run, db: db, o: o, b: b, q: q, owner: owner, webGID: webGID, webUID: webUID, readACL: a.readACL}
		err := st.apply(u)
		res.Changed = res.Changed || st.changed
		quotaUnsupported = quotaUnsupported || st.quotaSkipped
		aclUnsupported = aclUnsupported || st.aclUnsupported
		if st.created && b.Created != nil {
			b.Created[u.ID] = true
		}
		if err != nil {
			res.Fail(u.ID, fmt.Errorf("accounts: user %s: %w", u.Login, err))
		}
	}
	if quotaUnsupported {
		res.Notices = append(res.Notices, agent.Notice{Key: NoticeQuotaUnsupported, Args: []any{q.fs}})
	}
	if aclUnsupported {
		res.Notices = append(res.Notices, agent.Notice{Key: NoticeACLUnsupported, Args: []any{o.HomeBase}})
	}
	if sshdErr != nil {
		res.Err = fmt.Errorf("accounts: %w", sshdErr)
	}
	return res
}

// runnerFor returns how account commands run: through env.Run, or only
// planned and mirrored into the sandbox's files.
func runnerFor(env agent.Env, o Options) agent.Runner {
	if o.Sandbox {
		return sandboxRunner{fs: env.FS, plan: env.Plan}
	}
	return env.Run
}

// ownerFunc maps a uid or gid to what the files get: the id itself, or -1
// (unchanged) in a sandbox run by an ordinary user, who cannot chown.
func ownerFunc(o Options) func(int) int {
	if o.Sandbox && os.Geteuid() != 0 {
		return func(int) int { return -1 }
	}
	return func(id int) int { return id }
}

// userRun is the work on one user of a batch.
type userRun struct {
	ctx    context.Context
	env    agent.Env
	run    agent.Runner
	db     *accountDB
	o      Options
	b      agent.Batch
	q      quotaState
	owner  func(int) int
	webGID int // -1 when unknown (a dry run before the group exists)
	webUID int // the web server's user; -1 when unknown
	// readACL reads the document root's ACL (nil: readWebACL).
	readACL aclReader

	changed        bool
	created        bool // account or home created in this batch
	quotaSkipped   bool // a quota was due but the filesystem has none
	aclUnsupported bool // FrontPage is on but the filesystem has no ACLs
}

// desired is the checked desired state of one account.
type desired struct {
	login, home string
	uid         int
	shell       string
	groups      []string // the agent's groups the user belongs in
	locked      bool
	cgi, stdCGI bool
	phpTmp      bool
	blocks      int64
}

// checkUser validates everything of u that reaches a command or a path.
func checkUser(u agent.User, o Options) (desired, error) {
	var d desired
	if err := panel.ValidateLogin("login", u.Login); err != nil {
		return d, err
	}
	if u.Home != o.HomeBase+"/"+u.Login {
		return d, panel.Invalid("home", "err.unix.home", u.Home)
	}
	if u.UID < o.UIDMin || u.UID > o.UIDMax {
		return d, panel.Invalid("uid", "err.unix.uid_range", u.UID)
	}
	if err := u.Services.Validate(); err != nil {
		return d, err
	}
	if u.IndexName != "" {
		if err := checkIndexName(u.IndexName); err != nil {
			return d, err
		}
	}
	blocks, err := quotaBlocks(u.Limits)
	if err != nil {
		return d, panel.Invalid(panel.ResStorage.Field(), "err.unix.quota", u.Limits.Get(panel.ResStorage))
	}
	level := u.Services[panel.SvcShell]
	d = desired{
		login: u.Login, home: u.Home, uid: u.UID, locked: u.Locked,
		shell:  o.NoLogin,
		cgi:    u.Services.On(panel.SvcCGI),
		stdCGI: u.Services.On(panel.SvcStdCGI),
		phpTmp: u.Services.On(panel.SvcPHPUpload),
		blocks: blocks,
	}
	switch {
	case u.Locked || level == panel.ShellNone:
		d.groups = []string{o.NoSSHGroup}
	case level == panel.ShellSFTP:
		d.groups = []string{o.SFTPGroup}
	default:
		d.shell = o.Shell
	}
	return d, nil
}

// groupName is what a supplementary group found in /etc/group must look
// like before it is handed back to usermod -G.
var groupName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$`)

func (r *userRun) exec(name string, args ...string) error {
	r.changed = true
	_, err := r.run.Run(r.ctx, name, args...)
	return err
}

func (r *userRun) apply(u agent.User) error {
	d, err := checkUser(u, r.o)
	if err != nil {
		return err
	}
	if err := r.account(d); err != nil {
		return err
	}
	uid, gid := r.owner(d.uid), r.owner(d.uid)
	lr, err := ensureHome(r.env.FS, homeSpec{
		home: d.home, uid: uid, gid: gid, webGID: r.owner(r.webGID),
		cgi: d.cgi, phpTmp: d.phpTmp,
	})
	r.changed = r.changed || lr.changed
	if err != nil {
		return err
	}
	if lr.newHome {
		r.created = true
		r.changed = true
	}
	if r.created {
		w, err := installIndex(r.env.FS, d.home, u.IndexName, u.IndexHTML, uid, gid)
		r.changed = r.changed || w
		if err != nil {
			return fmt.Errorf("index page: %w", err)
		}
	}
	if d.cgi && d.stdCGI && (r.created || slices.Contains(r.b.What[u.ID], "services")) {
		w, err := installStdCGI(r.env.FS, d.home, uid, gid)
		r.changed = r.changed || w
		if err != nil {
			return fmt.Errorf("standard CGI scripts: %w", err)
		}
	}
	// One failing does not keep the other from being done.
	return errors.Join(r.quota(u.ID, d), r.webDAV(u, d))
}

// quota sets the storage limit when it is due.
func (r *userRun) quota(id int64, d desired) error {
	if !r.quotaDue(id) {
		return nil
	}
	if !r.q.supported {
		r.quotaSkipped = true
		return nil
	}
	if err := checkQuotaFS(r.q.fs); err != nil {
		return err
	}
	return r.exec("setquota", quotaArgs(d.login, d.blocks, r.q.fs)...)
}

// quotaDue reports whether the quota is set in this batch: on a full run,
// for a new account, and when the user's plan may have changed ("create",
// "services" — the store journals limit changes as "services"). A batch
// that names no reason sets it too.
func (r *userRun) quotaDue(id int64) bool {
	what := r.b.What[id]
	return r.b.Full || r.created || len(what) == 0 ||
		slices.Contains(what, "create") || slices.Contains(what, "services")
}

// account creates or updates the system account.
func (r *userRun) account(d desired) error {
	uidStr := strconv.Itoa(d.uid)
	e := r.db.user(d.login)
	if e == nil {
		if other := r.db.userByUID(d.uid); other != nil {
			return fmt.Errorf("uid %d is already used by account %q", d.uid, other.Name)
		}
		if err := r.ensureGroup(d); err != nil {
			return err
		}
		args := []string{"-u", uidStr, "-g", uidStr}
		if len(d.groups) > 0 {
			args = append(args, "-G", strings.Join(d.groups, ","))
		}
		args = append(args, "-d", d.home, "-M", "-s", d.shell, "-c", marker, d.login)
		if err := r.exec("useradd", args...); err != nil {
			return err
		}
		r.created = true
		return nil
	}
	if e.UID != d.uid {
		return fmt.Errorf("account %q exists with uid %d, not %d: left alone", d.login, e.UID, d.uid)
	}
	if e.UID < r.o.UIDMin || e.UID > r.o.UIDMax {
		return uidError(e.UID, r.o)
	}
	if r.db.groupByGID(d.uid) == nil {
		if err := r.ensureGroup(d); err != nil {
			return err
		}
	}
	var args []string
	if e.Shell != d.shell {
		args = append(args, "-s", d.shell)
	}
	if e.Home != d.home {
		args = append(args, "-d", d.home)
	}
	if e.GID != d.uid {
		args = append(args, "-g", uidStr)
	}
	cur := r.db.supplementary(d.login)
	want := slices.DeleteFunc(slices.Clone(cur), func(g string) bool {
		return g == r.o.SFTPGroup || g == r.o.NoSSHGroup
	})
	want = append(want, d.groups...)
	if !sameSet(cur, want) {
		for _, g := range want {
			if !groupName.MatchString(g) {
				return fmt.Errorf("supplementary group %q has a name usermod must not get", g)
			}
		}
		args = append(args, "-G", strings.Join(want, ","))
	}
	switch {
	case d.locked && !r.db.locked(d.login):
		args = append(args, "-L")
	case !d.locked && r.db.unlockable(d.login):
		args = append(args, "-U")
	}
	if len(args) == 0 {
		return nil
	}
	return r.exec("usermod", append(args, d.login)...)
}

// ensureGroup creates the user's own group (name = login, gid = uid)
// unless it exists exactly like that.
func (r *userRun) ensureGroup(d desired) error {
	g, byGID := r.db.group(d.login), r.db.groupByGID(d.uid)
	switch {
	case g != nil && g.GID != d.uid:
		return fmt.Errorf("group %q exists with gid %d, not %d: left alone", d.login, g.GID, d.uid)
	case byGID != nil && byGID.Name != d.login:
		return fmt.Errorf("gid %d is already used by group %q", d.uid, byGID.Name)
	case g != nil:
		return nil
	}
	return r.exec("groupadd", "-g", strconv.Itoa(d.uid), d.login)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
