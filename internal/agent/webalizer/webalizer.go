// Package webalizer gives every site of a user with the Webalizer service
// its statistics (STA-4): one Webalizer configuration per site, a daily
// run into html/webalizer/<domain>/ of the user, and the password file
// Apache checks before it shows them (the user's and its reseller's panel
// logins, see apache's <Directory html/webalizer>).
//
// Webalizer runs as the user, never as root: its output directory is in
// the user's home, where a root process could be led elsewhere by a
// symbolic link the user planted. The agent (root) only writes through
// agent.FS, which refuses links, and prepares what the user's process
// reads: the configuration and the site's share of the access log, both
// root-owned with the user's group.
//
// The access log of a user holds all its sites, each line starting with
// "vhost:port" (apache's kontor_vhost format), which Webalizer cannot
// parse. Split cuts it per site into the combined format.
package webalizer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/panel"
)

// Options says where the files go and which programs run. The zero value
// of a field means its default (DefaultOptions).
type Options struct {
	// ConfDir holds <login>/<domain>.conf, one Webalizer configuration
	// per site.
	ConfDir string // "/etc/kontor/webalizer"
	// WorkDir holds <login>/<domain>.log, a site's share of the access log
	// while Webalizer reads it.
	WorkDir string // "/var/lib/kontor/webalizer"
	// LogDir holds the users' access logs <login>.log (apache's LogDir);
	// <login>.log.1, the file logrotate made of it, is read first.
	LogDir string // "/var/log/apache2/kontor"
	// HTPasswdDir holds <login>.htpasswd (apache's WebalizerAuthDir).
	HTPasswdDir string // "/etc/kontor/webalizer-auth"
	// HomeBase is the directory every home must be inside.
	HomeBase string // "/home"
	// WebGroup is the group of the Apache workers, which read the
	// password files at request time.
	WebGroup string // "www-data"
	// Binary is the Webalizer program, Setpriv the program that drops to
	// the user before running it.
	Binary  string // "webalizer"
	Setpriv string // "setpriv"
	// MinUID is the lowest uid Webalizer may run as: system accounts and
	// root never.
	MinUID int // 1000
	// Every is how often Tick runs.
	Every time.Duration // 24h
	// Timeout bounds one Webalizer run.
	Timeout time.Duration // 30m
}

// DefaultOptions returns the production settings.
func DefaultOptions() Options {
	return Options{
		ConfDir:     "/etc/kontor/webalizer",
		WorkDir:     "/var/lib/kontor/webalizer",
		LogDir:      "/var/log/apache2/kontor",
		HTPasswdDir: "/etc/kontor/webalizer-auth",
		HomeBase:    "/home",
		WebGroup:    "www-data",
		Binary:      "webalizer",
		Setpriv:     "setpriv",
		MinUID:      1000,
		Every:       24 * time.Hour,
		Timeout:     30 * time.Minute,
	}
}

// withDefaults fills every zero field from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	fill := func(p *string, def string) {
		if *p == "" {
			*p = def
		}
	}
	fill(&o.ConfDir, d.ConfDir)
	fill(&o.WorkDir, d.WorkDir)
	fill(&o.LogDir, d.LogDir)
	fill(&o.HTPasswdDir, d.HTPasswdDir)
	fill(&o.HomeBase, d.HomeBase)
	fill(&o.WebGroup, d.WebGroup)
	fill(&o.Binary, d.Binary)
	fill(&o.Setpriv, d.Setpriv)
	if o.MinUID == 0 {
		o.MinUID = d.MinUID
	}
	if o.Every == 0 {
		o.Every = d.Every
	}
	if o.Timeout == 0 {
		o.Timeout = d.Timeout
	}
	return o
}

// check validates the options: they come from the agent's configuration
// file and end up in files and command lines.
func (o Options) check() error {
	for _, p := range []struct{ field, v string }{
		{"options.conf_dir", o.ConfDir}, {"options.work_dir", o.WorkDir},
		{"options.log_dir", o.LogDir}, {"options.htpasswd_dir", o.HTPasswdDir},
		{"options.home_base", o.HomeBase},
	} {
		if err := agent.CheckPath(p.field, p.v, "/"); err != nil {
			return err
		}
	}
	for _, p := range []struct{ field, v string }{
		{"options.binary", o.Binary}, {"options.setpriv", o.Setpriv},
	} {
		// A program is a bare name looked up in PATH or an absolute path.
		if strings.Contains(p.v, "/") {
			if err := agent.CheckPath(p.field, p.v, "/"); err != nil {
				return err
			}
		} else if err := checkName(p.field, p.v); err != nil {
			return err
		}
	}
	if err := panel.ValidateLogin("options.web_group", o.WebGroup); err != nil {
		return err
	}
	if o.MinUID < 1 {
		return panel.Invalid("options.min_uid", "err.webalizer.range")
	}
	if o.Every < time.Minute || o.Timeout < time.Second {
		return panel.Invalid("options.every", "err.webalizer.range")
	}
	return nil
}

// Daemon is the Webalizer side of the agent: Apply keeps the
// configurations, password files and output folders in line with the
// users; Tick (agent.Ticker) runs Webalizer for every site.
type Daemon struct{ Opt Options }

var (
	_ agent.Daemon = Daemon{}
	_ agent.Ticker = Daemon{}
)

// Name implements agent.Daemon.
func (Daemon) Name() string { return "webalizer" }

// Every implements agent.Ticker.
func (d Daemon) Every() time.Duration { return d.Opt.withDefaults().Every }

// start checks the options and finds the web server's group, the common
// beginning of Apply and Tick; ok is false when the run cannot go on (the
// reason is in res.Err).
func (d Daemon) start(env agent.Env) (opt Options, webGID int, res agent.Result, ok bool) {
	opt = d.Opt.withDefaults()
	if err := opt.check(); err != nil {
		res.Err = fmt.Errorf("webalizer: %w", err)
		return opt, 0, res, false
	}
	webGID, notice, err := groupID(env.FS, opt.WebGroup)
	if err != nil {
		res.Err = err
		return opt, 0, res, false
	}
	if notice != nil {
		res.Notices = append(res.Notices, *notice)
	}
	return opt, webGID, res, true
}

// Apply writes the configuration of every site and the password file of
// every user of b with the service, and creates html/webalizer; it removes
// the configurations and the password file (never the statistics in the
// home, which are the user's files) of users without it, of b.Gone and,
// on a full run, of every login it does not know.
func (d Daemon) Apply(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	opt, webGID, res, ok := d.start(env)
	if !ok {
		return res
	}
	keep := make(map[string]bool, len(b.Users))
	for i := range b.Users {
		if err := ctx.Err(); err != nil {
			res.Err = err
			return res
		}
		u := &b.Users[i]
		if b.SweepOnly {
			if u.Services.On(panel.SvcWebalizer) {
				keep[u.Login] = true
			}
			continue
		}
		if !u.Services.On(panel.SvcWebalizer) {
			if panel.ValidateLogin("login", u.Login) == nil {
				d.remove(env.FS, opt, u.Login, &res)
			}
			continue
		}
		// A user with the service keeps its files even when it fails
		// here: the last good ones stay.
		keep[u.Login] = true
		cu, err := checkUser(*u, opt)
		if err != nil {
			res.Fail(u.ID, err)
			continue
		}
		changed, err := prepare(env.FS, opt, cu, webGID)
		if changed {
			res.Changed = true
		}
		if err != nil {
			res.Fail(u.ID, fmt.Errorf("webalizer: user %s: %w", cu.login, err))
		}
	}
	for _, g := range b.Gone {
		if panel.ValidateLogin("login", g.Login) == nil && !keep[g.Login] {
			d.remove(env.FS, opt, g.Login, &res)
		}
	}
	if b.Full || b.SweepOnly {
		d.sweep(env.FS, opt, keep, &res)
	}
	return res
}

// remove deletes what the agent keeps outside the home for login.
func (d Daemon) remove(fsys agent.FS, opt Options, login string, res *agent.Result) {
	for _, r := range []struct{ dir, name string }{
		{opt.ConfDir, login}, {opt.WorkDir, login}, {opt.HTPasswdDir, login + ".htpasswd"},
	} {
		changed, err := removeIfPresent(fsys, r.dir, r.name)
		if changed {
			res.Changed = true
		}
		if err != nil && res.Err == nil {
			res.Err = fmt.Errorf("webalizer: remove %s: %w", login, err)
		}
	}
}

// sweep removes, on a full run, the files of every login not in keep.
// Only names the agent could have created are considered: anything else
// in these directories was put there by an admin and stays.
func (d Daemon) sweep(fsys agent.FS, opt Options, keep map[string]bool, res *agent.Result) {
	for _, r := range []struct{ dir, suffix string }{
		{opt.ConfDir, ""}, {opt.WorkDir, ""}, {opt.HTPasswdDir, ".htpasswd"},
	} {
		names, err := fsys.ReadDir(r.dir)
		if err != nil {
			if res.Err == nil {
				res.Err = fmt.Errorf("webalizer: %w", err)
			}
			continue
		}
		for _, n := range names {
			login, ok := strings.CutSuffix(n, r.suffix)
			if !ok || panel.ValidateLogin("login", login) != nil || keep[login] {
				continue
			}
			d.remove(fsys, opt, login, res)
		}
	}
}

// removeIfPresent removes dir/name (recursively) and reports whether it
// was there.
func removeIfPresent(fsys agent.FS, dir, name string) (bool, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return false, err
	}
	i := sort.SearchStrings(names, name)
	if i == len(names) || names[i] != name {
		return false, nil
	}
	return true, fsys.RemoveAll(dir + "/" + name)
}

// prepare writes one user's configurations, password file, output folders
// and index page, and removes the configurations of sites it no longer
// has. The agent writes into the home only through fsys, which refuses a
// symbolic link anywhere in the path.
func prepare(fsys agent.FS, opt Options, u *user, webGID int) (changed bool, err error) {
	write := func(p string, data []byte, mode fs.FileMode, uid, gid int) error {
		c, err := fsys.WriteFile(p, data, mode, uid, gid)
		if c {
			changed = true
		}
		return err
	}
	// Root-owned with the user's group: the user's Webalizer reads them,
	// nobody else does, and the user cannot change them.
	for _, dir := range []string{opt.ConfDir, opt.WorkDir} {
		if err := fsys.MkdirAll(dir, 0o755, 0, 0); err != nil {
			return changed, err
		}
		if err := fsys.MkdirAll(dir+"/"+u.login, 0o750, 0, u.uid); err != nil {
			return changed, err
		}
	}
	if err := fsys.MkdirAll(opt.HTPasswdDir, 0o750, 0, webGID); err != nil {
		return changed, err
	}
	if err := write(opt.HTPasswdDir+"/"+u.login+".htpasswd", renderHTPasswd(u), 0o640, 0, webGID); err != nil {
		return changed, err
	}
	out := u.home + "/html/webalizer"
	if err := fsys.MkdirAll(out, 0o755, u.uid, u.uid); err != nil {
		return changed, err
	}
	want := make(map[string]bool, len(u.domains))
	for _, dom := range u.domains {
		if err := fsys.MkdirAll(out+"/"+dom, 0o755, u.uid, u.uid); err != nil {
			return changed, err
		}
		if err := write(confPath(opt, u.login, dom), renderConf(opt, u, dom), 0o640, 0, u.uid); err != nil {
			return changed, err
		}
		want[dom+".conf"] = true
	}
	if err := write(out+"/"+indexName, renderIndex(u), 0o644, u.uid, u.uid); err != nil {
		return changed, err
	}
	names, err := fsys.ReadDir(opt.ConfDir + "/" + u.login)
	if err != nil {
		return changed, err
	}
	for _, n := range names {
		if !want[n] {
			// A site that went away: its configuration goes, its
			// statistics stay in the home (the user's files).
			if err := fsys.RemoveAll(opt.ConfDir + "/" + u.login + "/" + n); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	return changed, nil
}

func confPath(opt Options, login, domain string) string {
	return opt.ConfDir + "/" + login + "/" + domain + ".conf"
}

func workLog(opt Options, login, domain string) string {
	return opt.WorkDir + "/" + login + "/" + domain + ".log"
}

// Tick implements agent.Ticker: for every user of b with the service it
// refreshes the files (as Apply), cuts the user's access log per site and
// runs Webalizer as the user for every site with new lines. Webalizer
// runs incrementally with its state in the output folder, so feeding it
// lines it has already seen does not count them twice.
func (d Daemon) Tick(ctx context.Context, env agent.Env, b agent.Batch) agent.Result {
	opt, webGID, res, ok := d.start(env)
	if !ok {
		return res
	}
	for i := range b.Users {
		if err := ctx.Err(); err != nil {
			res.Err = err
			return res
		}
		u := &b.Users[i]
		if !u.Services.On(panel.SvcWebalizer) {
			continue
		}
		cu, err := checkUser(*u, opt)
		if err != nil {
			res.Fail(u.ID, err)
			continue
		}
		if changed, err := prepare(env.FS, opt, cu, webGID); err != nil {
			res.Fail(u.ID, fmt.Errorf("webalizer: user %s: %w", cu.login, err))
			continue
		} else if changed {
			res.Changed = true
		}
		ran, err := d.run(ctx, env, opt, cu)
		if ran {
			res.Changed = true
		}
		if err != nil {
			res.Fail(u.ID, fmt.Errorf("webalizer: user %s: %w", cu.login, err))
		}
	}
	return res
}

// run feeds every site of u its share of the access log.
func (d Daemon) run(ctx context.Context, env agent.Env, opt Options, u *user) (ran bool, err error) {
	// The rotated file first: lines written between the last run and the
	// rotation are there.
	logs := []string{opt.LogDir + "/" + u.login + ".log.1", opt.LogDir + "/" + u.login + ".log"}
	var sites map[string]bool
	if st, ok := env.FS.(streamer); ok {
		sites, err = splitStream(st, logs, opt, u)
	} else {
		sites, err = splitWhole(env.FS, logs, opt, u)
	}
	if err != nil {
		return false, err
	}
	var errs []error
	for _, dom := range u.domains {
		if !sites[dom] {
			continue // Webalizer fails on a log without records
		}
		wl := workLog(opt, u.login, dom)
		rctx, cancel := context.WithTimeout(ctx, opt.Timeout)
		out, err := env.Run.Run(rctx, opt.Setpriv, Argv(opt, u.uid, confPath(opt, u.login, dom))...)
		cancel()
		ran = true
		// Only lines already counted: Webalizer says so and exits 1.
		if err != nil && !strings.Contains(string(out), "No valid records found") {
			errs = append(errs, fmt.Errorf("site %s: %w", dom, err))
		}
		// The copy served its purpose; the access log is the record.
		if err := env.FS.Remove(wl); err != nil {
			errs = append(errs, err)
		}
	}
	return ran, errors.Join(errs...)
}

// streamer is an FS that reads and writes files piece by piece
// (fsys.Root): the access log of a busy site can be larger than the agent
// should hold in memory.
type streamer interface {
	Open(p string) (*os.File, error)
	Create(p string, mode fs.FileMode, uid, gid int) (*fsys.Pending, error)
}

// splitStream cuts the logs into one work log per site of u, a line at a
// time, and returns the sites that got lines. Memory stays at a buffer
// whatever the size of the logs.
func splitStream(st streamer, logs []string, opt Options, u *user) (map[string]bool, error) {
	known := knownSites(u.domains)
	type siteLog struct {
		file *fsys.Pending
		buf  *bufio.Writer
	}
	out := map[string]siteLog{}
	defer func() {
		for _, w := range out {
			w.file.Abort() // after Commit a no-op
		}
	}()
	add := func(line []byte) error {
		site, rest := splitLine(line, known)
		if site == "" {
			return nil
		}
		w, ok := out[site]
		if !ok {
			f, err := st.Create(workLog(opt, u.login, site), 0o640, 0, u.uid)
			if err != nil {
				return err
			}
			w = siteLog{file: f, buf: bufio.NewWriterSize(f, 64<<10)}
			out[site] = w
		}
		w.buf.Write(rest)
		return w.buf.WriteByte('\n') // a write error sticks and shows here
	}
	for i, p := range logs {
		f, err := st.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		err = eachLine(f, i < len(logs)-1, add)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	sites := make(map[string]bool, len(out))
	for site, w := range out {
		if err := w.buf.Flush(); err != nil {
			return nil, err
		}
		if err := w.file.Commit(); err != nil {
			return nil, err
		}
		sites[site] = true
	}
	return sites, nil
}

// eachLine hands fn every line of r without its newline. Lines longer
// than maxLine are skipped; the last line counts without a newline only
// when the file is finished (rotated): else Apache may be writing it.
func eachLine(r io.Reader, finished bool, fn func([]byte) error) error {
	br := bufio.NewReaderSize(r, 2*maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) { // too long: to its end
				_, err = br.ReadSlice('\n')
			}
			if err == nil {
				continue
			}
			line = nil
		}
		switch {
		case err == nil:
			if ferr := fn(line[:len(line)-1]); ferr != nil {
				return ferr
			}
		case errors.Is(err, io.EOF):
			if len(line) > 0 && finished {
				return fn(line)
			}
			return nil
		default:
			return err
		}
	}
}

// splitWhole is splitStream for an FS that reads and writes whole files
// (a dry run's recorder).
func splitWhole(files agent.FS, logs []string, opt Options, u *user) (map[string]bool, error) {
	var log []byte
	for _, p := range logs {
		data, err := files.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// A rotated file ends with a complete line; never glue its last
		// bytes to the first line of the next.
		if len(log) > 0 && log[len(log)-1] != '\n' {
			log = append(log, '\n')
		}
		log = append(log, data...)
	}
	sites := map[string]bool{}
	for site, lines := range Split(log, u.domains) {
		if _, err := files.WriteFile(workLog(opt, u.login, site), lines, 0o640, 0, u.uid); err != nil {
			return nil, err
		}
		sites[site] = true
	}
	return sites, nil
}

// Argv returns the arguments of setpriv that run Webalizer with conf as
// uid: real and effective uid and gid set, no supplementary groups (the
// agent's root groups must not leak), no capabilities and no way to
// regain privileges through a set-uid program.
func Argv(opt Options, uid int, conf string) []string {
	id := strconv.Itoa(uid)
	return []string{
		"--reuid=" + id, "--regid=" + id, "--clear-groups",
		"--inh-caps=-all", "--no-new-privs",
		"--", opt.Binary, "-c", conf,
	}
}

// groupID reads gid of group from the target's /etc/group. When the group
// is not there (a sandbox without one), the password files get group
// root, and a notice says Apache cannot read them.
func groupID(fsys agent.FS, group string) (int, *agent.Notice, error) {
	data, err := fsys.ReadFile("/etc/group")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, nil, fmt.Errorf("webalizer: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 || f[0] != group {
			continue
		}
		if gid, err := strconv.Atoi(f[2]); err == nil && gid >= 0 {
			return gid, nil, nil
		}
	}
	return 0, &agent.Notice{Key: "webalizer.webgroup", Args: []any{group}}, nil
}
