package apache

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"kontor/internal/agent"
)

// Daemon applies the Apache and PHP-FPM side of a batch (SYS-1, SYS-2):
// it renders every user of the batch twice, once with the staging paths
// and once with the live ones, validates the staged set with Apache's own
// checker in the context of the real main configuration, and only then
// swaps the live files in and reloads once.
//
// The staging directory mirrors the live configuration directories and
// always holds the last good set plus the batch being checked. The entry
// file (included once from the main config, e.g. conf-enabled/kontor.conf)
// includes the staged global file when Apache is started with
// -D KONTOR_STAGE and the live one otherwise, so `apache2ctl -t -D
// KONTOR_STAGE` checks exactly what is about to go live, with the
// server's own modules, Listen lines and other sites.
type Daemon struct {
	Opt Options // the live paths
	// Entry is the file the main Apache config includes.
	Entry string // "/etc/apache2/conf-enabled/kontor.conf"
	// StageDir holds the staged copies of the configuration directories.
	StageDir string // "/var/lib/kontor/stage/apache"
	// Check validates the staged set; nil skips it (the demo sandbox).
	Check []string // {"apache2ctl", "-t", "-D", "KONTOR_STAGE"}
	// Reload makes Apache load the live set; nil skips it.
	Reload []string // {"apache2ctl", "graceful"}
	// FPMBin is the PHP-FPM binary; the staged pools are checked with
	// FPMBin -t -y <staged main>; "" skips the check.
	FPMBin string // "php-fpm8.2"
	// FPMReload makes PHP-FPM load the live pools; nil skips it.
	FPMReload []string // {"systemctl", "reload", "php8.2-fpm"}
}

// DefaultDaemon returns the production daemon for Debian 12.
func DefaultDaemon() Daemon {
	return Daemon{
		Opt:       DefaultOptions(),
		Entry:     "/etc/apache2/conf-enabled/kontor.conf",
		StageDir:  "/var/lib/kontor/stage/apache",
		Check:     []string{"apache2ctl", "-t", "-D", "KONTOR_STAGE"},
		Reload:    []string{"apache2ctl", "graceful"},
		FPMBin:    "php-fpm8.2",
		FPMReload: []string{"systemctl", "reload", "php8.2-fpm"},
	}
}

// Name implements agent.Daemon.
func (d Daemon) Name() string { return "apache" }

// stageOptions maps the configuration paths into StageDir. Paths that are
// not configuration (homes, logs, sockets, the locked page) stay live: the
// staged vhosts must point at the real document roots to be checked.
func (d Daemon) stageOptions(live Options) Options {
	st := live
	for _, p := range []*string{&st.GlobalFile, &st.SitesDir, &st.FPMDir, &st.SSLDir, &st.WebDAVDir} {
		*p = d.StageDir + *p
	}
	return st
}

// entry renders the file the main config includes.
func (d Daemon) entry(live, stage Options) []byte {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("# With -D KONTOR_STAGE the agent checks the staged set before it goes live.\n")
	fmt.Fprintf(&b, "<IfDefine KONTOR_STAGE>\n\tInclude %s\n</IfDefine>\n", stage.GlobalFile)
	fmt.Fprintf(&b, "<IfDefine !KONTOR_STAGE>\n\tInclude %s\n</IfDefine>\n", live.GlobalFile)
	return []byte(b.String())
}

// userPaths are every file a user can have in opt's directories.
func userPaths(opt Options, login string) []string {
	return []string{
		opt.SSLDir + "/" + login + "/cert.pem",
		opt.SSLDir + "/" + login + "/key.pem",
		opt.WebDAVDir + "/" + login + ".htpasswd",
		opt.FPMDir + "/" + login + ".conf",
		opt.SitesDir + "/" + login + ".conf",
	}
}

// prepared is one user's rendered files, staged and live.
type prepared struct {
	id     int64
	login  string
	stage  Files
	live   Files
	undo   map[string][]byte // staged path → previous content (nil: absent)
	failed error
}

// Apply implements agent.Daemon.
func (d Daemon) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	var res agent.Result
	live := d.Opt.withDefaults()
	stage := d.stageOptions(live)
	gids, err := groupIDs(env.FS)
	if err != nil {
		res.Err = err
		return res
	}

	// Server-wide files first: they change only with the options.
	var global Files
	for _, opt := range []Options{stage, live} {
		g, err := RenderGlobal(opt)
		if err != nil {
			res.Err = fmt.Errorf("apache: %w", err)
			return res
		}
		for p, f := range g {
			if global == nil {
				global = Files{}
			}
			global[p] = f
		}
	}
	global[d.Entry] = File{Data: d.entry(live, stage), Mode: 0o644}
	for _, p := range global.Paths() {
		f := global[p]
		if err := env.FS.MkdirAll(parentDir(p), 0o755, 0, 0); err != nil {
			res.Err = fmt.Errorf("apache: %w", err)
			return res
		}
		if _, err := env.FS.WriteFile(p, f.Data, f.Mode, 0, gids[f.Group]); err != nil {
			res.Err = fmt.Errorf("apache: %w", err)
			return res
		}
	}
	for _, dir := range []string{live.SitesDir, live.FPMDir, live.SSLDir, live.WebDAVDir, live.LogDir,
		stage.SitesDir, stage.FPMDir, stage.SSLDir, stage.WebDAVDir} {
		if err := env.FS.MkdirAll(dir, 0o755, 0, 0); err != nil {
			res.Err = fmt.Errorf("apache: %w", err)
			return res
		}
	}

	// Render.
	users := make([]*prepared, 0, len(b.Users))
	for _, u := range b.Users {
		if b.SweepOnly {
			break
		}
		p := &prepared{id: u.ID, login: u.Login}
		var err error
		if p.stage, err = RenderUser(b.Server, u, stage); err == nil {
			p.live, err = RenderUser(b.Server, u, live)
		}
		if err != nil {
			res.Fail(u.ID, err)
			continue
		}
		users = append(users, p)
	}

	// Stage: write each user's staged files, remembering what was there.
	for _, p := range users {
		if err := d.stageUser(env.FS, stage, p, gids); err != nil {
			p.failed = err
			res.Fail(p.id, err)
			d.unstage(env.FS, p, gids)
		}
	}
	keep := make(map[string]bool, len(b.Users))
	for _, u := range b.Users {
		keep[u.Login] = true
	}
	var gone []string
	for _, g := range b.Gone {
		if !keep[g.Login] && safeLogin(g.Login) {
			gone = append(gone, g.Login)
		}
	}
	if b.Full || b.SweepOnly {
		gone = append(gone, d.strays(env.FS, live, keep)...)
		gone = append(gone, d.strays(env.FS, stage, keep)...)
	}
	if b.SweepOnly && len(gone) == 0 {
		return res // nothing to remove: no check, no reload
	}
	for _, login := range gone {
		for _, path := range userPaths(stage, login) {
			if err := env.FS.Remove(path); err != nil {
				res.Err = fmt.Errorf("apache: %w", err)
				return res
			}
		}
		_ = env.FS.Remove(stage.SSLDir + "/" + login)
	}

	// Validate the staged set; a failure that names users' files takes
	// those users out and checks again, so one bad user never blocks the
	// others (SYS-2).
	ok := goodUsers(users)
	for _, p := range ok {
		if err := checkKeyPair(p.stage, stage, p.login); err != nil {
			p.failed = err
			res.Fail(p.id, err)
			d.unstage(env.FS, p, gids)
		}
	}
	if err := d.checkStaged(ctx, env, live, stage, users, gids, &res); err != nil {
		res.Err = err
		for _, p := range goodUsers(users) {
			d.unstage(env.FS, p, gids)
		}
		return res
	}

	// Swap: the live files of every good user, then the removals.
	apacheChanged, fpmChanged := false, false
	for _, p := range goodUsers(users) {
		a, f, err := d.swapUser(env.FS, live, p, gids)
		apacheChanged = apacheChanged || a
		fpmChanged = fpmChanged || f
		if err != nil {
			res.Fail(p.id, err)
		}
	}
	for _, login := range gone {
		for _, path := range userPaths(live, login) {
			if data, err := env.FS.ReadFile(path); err == nil && data != nil {
				if strings.HasPrefix(path, live.FPMDir+"/") {
					fpmChanged = true
				} else {
					apacheChanged = true
				}
			}
			if err := env.FS.Remove(path); err != nil {
				res.Err = fmt.Errorf("apache: %w", err)
				return res
			}
		}
		_ = env.FS.Remove(live.SSLDir + "/" + login)
	}

	if apacheChanged || fpmChanged {
		if err := agent.Sync(env.FS); err != nil {
			res.Err = fmt.Errorf("apache: %w", err)
			return res
		}
	}
	// Reload once per batch. PHP-FPM first: the vhosts of a user who just
	// got PHP point at a socket the new pool creates.
	if fpmChanged && len(d.FPMReload) > 0 {
		if out, err := env.Run.Run(ctx, d.FPMReload[0], d.FPMReload[1:]...); err != nil {
			res.Err = fmt.Errorf("php-fpm reload: %w: %s", err, bytes.TrimSpace(out))
			return res
		}
	}
	if apacheChanged && len(d.Reload) > 0 {
		if out, err := env.Run.Run(ctx, d.Reload[0], d.Reload[1:]...); err != nil {
			res.Err = fmt.Errorf("apache reload: %w: %s", err, bytes.TrimSpace(out))
			return res
		}
	}
	res.Changed = apacheChanged || fpmChanged
	return res
}

// goodUsers returns the users that have not failed.
func goodUsers(users []*prepared) []*prepared {
	out := make([]*prepared, 0, len(users))
	for _, p := range users {
		if p.failed == nil {
			out = append(out, p)
		}
	}
	return out
}

// stageUser writes p's staged files and removes its staged files that the
// new render no longer has, recording the old content in p.undo.
func (d Daemon) stageUser(fsys agent.FS, stage Options, p *prepared, gids map[string]int) error {
	p.undo = make(map[string][]byte)
	for _, path := range userPaths(stage, p.login) {
		old, err := fsys.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		p.undo[path] = old
		f, want := p.stage[path]
		if !want {
			if err == nil { // there is something to remove
				if err := fsys.Remove(path); err != nil {
					return err
				}
			}
			continue
		}
		if old != nil && bytes.Equal(old, f.Data) {
			continue // the common case of a full run: nothing to stage
		}
		if _, err := writeFile(fsys, path, f, gids); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes f at path, making the parent directories only when
// they are missing: a full run writes into the same few directories ten
// thousand times.
func writeFile(fsys agent.FS, path string, f File, gids map[string]int) (bool, error) {
	changed, err := fsys.WriteFile(path, f.Data, f.Mode, 0, gids[f.Group])
	if !errors.Is(err, fs.ErrNotExist) {
		return changed, err
	}
	if err := fsys.MkdirAll(parentDir(path), 0o755, 0, 0); err != nil {
		return false, err
	}
	return fsys.WriteFile(path, f.Data, f.Mode, 0, gids[f.Group])
}

// unstage puts p's staged files back as they were before the batch (the
// last good set), so the next check is not poisoned by a bad user.
func (d Daemon) unstage(fsys agent.FS, p *prepared, gids map[string]int) {
	for path, old := range p.undo {
		if old == nil {
			_ = fsys.Remove(path)
			continue
		}
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(path, "/key.pem") {
			mode = 0o600
		}
		gid := 0
		if strings.HasSuffix(path, ".htpasswd") {
			gid = gids[d.Opt.withDefaults().WebGroup]
			mode = 0o640
		}
		_, _ = fsys.WriteFile(path, old, mode, 0, gid)
	}
}

// swapUser writes p's live files and removes the ones it no longer has.
// Certificates and pools go first, the vhosts last, so that a vhost never
// points at a file that is not there yet.
func (d Daemon) swapUser(fsys agent.FS, live Options, p *prepared, gids map[string]int) (apacheChanged, fpmChanged bool, err error) {
	for _, path := range userPaths(live, p.login) {
		isFPM := strings.HasPrefix(path, live.FPMDir+"/")
		f, want := p.live[path]
		var changed bool
		if !want {
			old, rerr := fsys.ReadFile(path)
			if rerr == nil && old != nil {
				changed = true
			}
			if !errors.Is(rerr, fs.ErrNotExist) {
				if err := fsys.Remove(path); err != nil {
					return apacheChanged, fpmChanged, err
				}
			}
		} else if changed, err = writeFile(fsys, path, f, gids); err != nil {
			return apacheChanged, fpmChanged, err
		}
		if changed && isFPM {
			fpmChanged = true
		} else if changed {
			apacheChanged = true
		}
	}
	if _, want := p.live[live.SSLDir+"/"+p.login+"/cert.pem"]; !want {
		_ = fsys.Remove(live.SSLDir + "/" + p.login)
	}
	return apacheChanged, fpmChanged, nil
}

// checkKeyPair loads a staged certificate and key the way mod_ssl does
// when it starts: `apache2ctl -t` only checks that the files exist, and a
// pair that does not load would stop Apache at the reload.
func checkKeyPair(files Files, stage Options, login string) error {
	c, okC := files[stage.SSLDir+"/"+login+"/cert.pem"]
	k, okK := files[stage.SSLDir+"/"+login+"/key.pem"]
	if !okC && !okK {
		return nil
	}
	if _, err := tls.X509KeyPair(c.Data, k.Data); err != nil {
		return fmt.Errorf("apache: user %s: SSLCertificateFile %s/%s/cert.pem: %w", login, stage.SSLDir, login, err)
	}
	return nil
}

// checkStaged runs Apache's and PHP-FPM's checkers on the staged set. Users
// named in a failure are failed, unstaged, and the check runs again; a
// failure that names no user is returned (nothing goes live).
func (d Daemon) checkStaged(ctx context.Context, env agent.Env, live, stage Options, users []*prepared, gids map[string]int, res *agent.Result) error {
	type checker struct {
		name string
		argv []string
	}
	var checks []checker
	if len(d.Check) > 0 {
		checks = append(checks, checker{"apache2 -t", d.Check})
	}
	if d.FPMBin != "" {
		main := d.StageDir + "/php-fpm-check.conf"
		// php-fpm -t refuses a configuration without any pool, which is
		// what a server without PHP users has; the placeholder pool is only
		// parsed, never started.
		conf := fmt.Sprintf("%s[global]\nerror_log = /dev/null\ninclude = %s/*.conf\n"+
			"[kontor-check]\nuser = %s\nlisten = %s/kontor-check.sock\npm = ondemand\npm.max_children = 1\n",
			strings.ReplaceAll(header, "#", ";"), stage.FPMDir, live.WebUser, d.StageDir)
		if _, err := env.FS.WriteFile(main, []byte(conf), 0o644, 0, 0); err != nil {
			return err
		}
		if hp, err := hostPathOf(env.FS, main); err == nil {
			main = hp
		}
		checks = append(checks, checker{"php-fpm -t", []string{d.FPMBin, "-t", "-y", main}})
	}
	for _, c := range checks {
		for attempt := 0; ; attempt++ {
			out, err := env.Run.Run(ctx, c.argv[0], c.argv[1:]...)
			if err == nil {
				break
			}
			text := string(out) + "\n" + err.Error()
			named := 0
			for _, p := range goodUsers(users) {
				if mentions(text, stage, p.login) {
					p.failed = fmt.Errorf("%s: %s", c.name, firstLines(text, p.login))
					res.Fail(p.id, p.failed)
					d.unstage(env.FS, p, gids)
					named++
				}
			}
			if named == 0 || attempt >= 5 {
				return fmt.Errorf("%s failed, last good configuration kept: %s", c.name, strings.TrimSpace(firstLines(text, "")))
			}
		}
	}
	return nil
}

// hostPathOf returns the path of p on the host when fsys maps a root.
func hostPathOf(fsys agent.FS, p string) (string, error) {
	if r, ok := fsys.(interface{ HostPath(string) (string, error) }); ok {
		return r.HostPath(p)
	}
	return p, nil
}

// mentions reports whether a checker's output points at one of login's
// staged files or its PHP-FPM pool.
func mentions(out string, stage Options, login string) bool {
	for _, p := range userPaths(stage, login) {
		if strings.Contains(out, p) {
			return true
		}
	}
	return strings.Contains(out, "[pool "+login+"]") || strings.Contains(out, stage.SSLDir+"/"+login+"/")
}

// firstLines keeps the lines of a checker's output that matter: those
// naming login (all when login is "") and the line after each, where
// Apache puts the reason ("Syntax error on line 7 of …:" / "Invalid
// command …"); at most 10.
func firstLines(out, login string) string {
	lines := strings.Split(out, "\n")
	var keep []string
	for i := 0; i < len(lines) && len(keep) < 10; i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || (login != "" && !strings.Contains(l, login)) {
			continue
		}
		keep = append(keep, l)
		if login != "" && i+1 < len(lines) {
			if next := strings.TrimSpace(lines[i+1]); next != "" && !strings.Contains(next, login) {
				keep = append(keep, next)
				i++
			}
		}
	}
	if len(keep) == 0 {
		return strings.TrimSpace(out)
	}
	return strings.Join(keep, "\n")
}

// strays lists logins that have files in opt's directories but are not in
// keep (a full run removes them: users deleted while the agent was down).
func (d Daemon) strays(fsys agent.FS, opt Options, keep map[string]bool) []string {
	seen := map[string]bool{}
	add := func(dir, suffix string) {
		names, _ := fsys.ReadDir(dir)
		for _, n := range names {
			login, ok := strings.CutSuffix(n, suffix)
			if !ok || keep[login] || !safeLogin(login) {
				continue
			}
			seen[login] = true
		}
	}
	add(opt.SitesDir, ".conf")
	add(opt.FPMDir, ".conf")
	add(opt.WebDAVDir, ".htpasswd")
	add(opt.SSLDir, "")
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// safeLogin reports whether s can be a login in a path (what the store
// allows: lower-case letters and digits).
func safeLogin(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// groupIDs maps the group names the renderer uses to gids, read from the
// target's /etc/group ("" is root).
func groupIDs(fsys agent.FS) (map[string]int, error) {
	m := map[string]int{"": 0}
	data, err := fsys.ReadFile("/etc/group")
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("apache: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 {
			continue
		}
		var gid int
		if _, err := fmt.Sscanf(f[2], "%d", &gid); err == nil {
			m[f[0]] = gid
		}
	}
	return m, nil
}
