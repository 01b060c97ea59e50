package unix

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/testenv"
)

const aclTools = "setfacl, getfacl (Debian package acl) and setpriv (util-linux)"

func needACLTools(t *testing.T) {
	t.Helper()
	for _, c := range []string{"setfacl", "getfacl", "setpriv"} {
		if _, err := exec.LookPath(c); err != nil || !testenv.Integration() {
			testenv.Need(t, aclTools)
		}
	}
}

// traversableBase returns a directory for homes that every account can
// reach: t.TempDir and its parent are 0700 root, and setfacl runs as the
// user.
func traversableBase(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	base := filepath.Join(dir, "homes")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	return base
}

// as runs a command as the account (its own groups, no capabilities),
// with stdin, and returns its error and output.
func as(account, stdin string, name string, args ...string) (string, error) {
	argv := append([]string{"--reuid=" + account, "--regid=" + account, "--init-groups", "--no-new-privs", "--", name}, args...)
	cmd := exec.Command("setpriv", argv...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// countingRunner runs commands and counts the setfacl runs.
type countingRunner struct {
	fsys.ExecRunner
	setfacl int
}

func (r *countingRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if name == "setpriv" {
		r.setfacl++
	}
	return r.ExecRunner.Run(ctx, name, args...)
}

// FrontPage with a real account on this machine's filesystem: the web
// server can create files and folders in html/, the user can change what
// the web server created, a second run runs nothing, symlinks the user
// planted are not followed, and switching FrontPage off takes the web
// server's write access back while the files stay.
func TestRealWebDAV(t *testing.T) {
	needACLTools(t)
	base := traversableBase(t)
	o, users := realSetup(t, base, 1)
	u := users[0]
	u.FrontPage = &agent.FrontPage{Login: u.Login + "fp", Hash: "$apr1$x$y"}
	u.IndexName, u.IndexHTML = "index.html", "<p>hello</p>\n"
	run := &countingRunner{}
	env := realEnv(t)
	env.Run = run
	ctx := context.Background()
	html := u.Home + "/html"

	// Before the grant, the user plants links to files of root's.
	secret := filepath.Join(filepath.Dir(base), "secret")
	if err := os.WriteFile(secret, []byte("root's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := Accounts{Opt: o}.Apply(ctx, env, batch(u))
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("create: %s %v", failures(res), res.Err)
	}
	// The account and home exist now; FrontPage was granted with them.
	if run.setfacl != 1 {
		t.Errorf("setfacl ran %d times on creation, want 1", run.setfacl)
	}
	for _, l := range []struct{ name, target string }{{"link", secret}, {"dirlink", filepath.Dir(secret)}} {
		if _, err := as(u.Login, "", "ln", "-s", l.target, html+"/"+l.name); err != nil {
			t.Fatal(err)
		}
	}
	// Revoke and grant again, now over the planted links.
	u.FrontPage = nil
	if res = (Accounts{Opt: o}).Apply(ctx, env, batch(u)); len(res.Failed) > 0 {
		t.Fatal(failures(res))
	}
	u.FrontPage = &agent.FrontPage{Login: u.Login + "fp", Hash: "$apr1$x$y"}
	run.setfacl = 0
	if res = (Accounts{Opt: o}).Apply(ctx, env, batch(u)); len(res.Failed) > 0 || !res.Changed || run.setfacl != 1 {
		t.Fatalf("grant: %s changed=%v setfacl=%d", failures(res), res.Changed, run.setfacl)
	}
	acl := cmdOut(t, "getfacl", "-p", "--omit-header", html)
	for _, want := range []string{"group:www-data:rwx", "default:group:www-data:rwx", "default:user:" + u.Login + ":rwx"} {
		if !strings.Contains(acl, want+"\n") {
			t.Errorf("html's ACL lacks %q:\n%s", want, acl)
		}
	}
	if acl := cmdOut(t, "getfacl", "-p", "--omit-header", html+"/index.html"); !strings.Contains(acl, "group:www-data:rw-") {
		t.Errorf("index.html's ACL:\n%s", acl)
	}
	for _, p := range []string{secret, filepath.Dir(secret)} {
		if acl := cmdOut(t, "getfacl", "-p", "--omit-header", p); strings.Contains(acl, "www-data") || strings.Contains(acl, u.Login) {
			t.Errorf("setfacl followed a link to %s:\n%s", p, acl)
		}
	}

	// The web server creates a file and a folder with a file in it.
	for _, c := range [][]string{{"touch", html + "/fromweb.html"}, {"mkdir", html + "/dav"}, {"touch", html + "/dav/page.html"}} {
		if out, err := as("www-data", "", c[0], c[1:]...); err != nil {
			t.Fatalf("www-data: %s: %v: %s", c, err, out)
		}
	}
	// The user changes both and creates a file in the web server's folder.
	for _, p := range []string{html + "/fromweb.html", html + "/dav/page.html", html + "/dav/mine.html"} {
		if out, err := as(u.Login, "<p>edited</p>\n", "tee", "-a", p); err != nil {
			t.Errorf("the user cannot write %s: %v: %s", p, err, out)
		}
	}
	// ... and the web server can change the user's file in turn.
	if out, err := as("www-data", "x", "tee", "-a", html+"/dav/mine.html"); err != nil {
		t.Errorf("www-data cannot write the user's file: %v: %s", err, out)
	}

	// A file of the web server's elsewhere, linked into html twice: by a
	// hard link (planted as root: protected_hardlinks keeps the user
	// from it) and by the user's symlink. Neither may change hands.
	elsewhere := filepath.Join(filepath.Dir(base), "webserver-file")
	if err := os.WriteFile(elsewhere, []byte("the web server's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chown", "www-data:www-data", elsewhere).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
	t.Cleanup(func() { os.Remove(elsewhere) })
	if err := os.Link(elsewhere, html+"/hardlink"); err != nil {
		t.Fatal(err)
	}
	if _, err := as(u.Login, "", "ln", "-s", elsewhere, html+"/symlink"); err != nil {
		t.Fatal(err)
	}

	// The next run gives what the web server made to the user (its
	// quota counts it), the links' target stays the web server's, and
	// the web server can still change and create files.
	run.setfacl = 0
	b := batch(u)
	b.Full = true
	if res = (Accounts{Opt: o}).Apply(ctx, env, b); len(res.Failed) > 0 || !res.Changed || run.setfacl != 0 {
		t.Errorf("reclaiming run: %s changed=%v setfacl=%d", failures(res), res.Changed, run.setfacl)
	}
	for _, p := range []string{html + "/fromweb.html", html + "/dav", html + "/dav/page.html"} {
		if got := cmdOut(t, "stat", "-c", "%u:%g", p); got != strconv.Itoa(u.UID)+":"+strconv.Itoa(u.UID) {
			t.Errorf("%s belongs to %s, want the user (%d)", p, got, u.UID)
		}
	}
	if got, want := cmdOut(t, "stat", "-c", "%U", elsewhere), "www-data"; got != want {
		t.Errorf("the web server's file linked into html belongs to %s now", got)
	}
	for _, c := range [][]string{{"tee", "-a", html + "/dav/page.html"}, {"tee", html + "/dav/new.html"}} {
		if out, err := as("www-data", "x", c[0], c[1:]...); err != nil {
			t.Errorf("www-data after the reclaim: %s: %v: %s", c, err, out)
		}
	}
	if err := os.Remove(html + "/dav/new.html"); err != nil {
		t.Fatal(err)
	}

	// Nothing to do the next time, on a full run too.
	run.setfacl = 0
	if res = (Accounts{Opt: o}).Apply(ctx, env, b); len(res.Failed) > 0 || res.Changed || run.setfacl != 0 {
		t.Errorf("second run: %s changed=%v setfacl=%d", failures(res), res.Changed, run.setfacl)
	}

	// FrontPage off: the web server can no longer create files; the
	// revoke tolerated the web server's files (not the user's to change).
	u.FrontPage = nil
	run.setfacl = 0
	if res = (Accounts{Opt: o}).Apply(ctx, env, batch(u)); len(res.Failed) > 0 || res.Err != nil || run.setfacl != 1 {
		t.Fatalf("off: %s %v setfacl=%d", failures(res), res.Err, run.setfacl)
	}
	if out, err := as("www-data", "", "touch", html+"/after.html"); err == nil {
		t.Errorf("www-data can still create files in html after FrontPage off")
	} else if !strings.Contains(out, "Permission denied") {
		t.Errorf("www-data: %v: %s", err, out)
	}
	if acl := cmdOut(t, "getfacl", "-p", "--omit-header", html, html+"/index.html"); strings.Contains(acl, "www-data") {
		t.Errorf("web server entries left on the user's files:\n%s", acl)
	}
	for _, p := range []string{html + "/index.html", html + "/fromweb.html", html + "/dav/mine.html"} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("FrontPage off removed %s: %v", p, err)
		}
	}
	run.setfacl = 0
	b = batch(u)
	b.Full = true
	if res = (Accounts{Opt: o}).Apply(ctx, env, b); len(res.Failed) > 0 || res.Changed || run.setfacl != 0 {
		t.Errorf("off again: %s changed=%v setfacl=%d", failures(res), res.Changed, run.setfacl)
	}

	// Locked with FrontPage on: no grant.
	u.FrontPage = &agent.FrontPage{Login: u.Login + "fp", Hash: "$apr1$x$y"}
	u.Locked = true
	if res = (Accounts{Opt: o}).Apply(ctx, env, batch(u)); len(res.Failed) > 0 {
		t.Fatal(failures(res))
	}
	if _, err := as("www-data", "", "touch", html+"/locked.html"); err == nil {
		t.Errorf("www-data can create files in a locked user's html")
	}
}

// On a filesystem without POSIX ACLs (ramfs) the user with FrontPage fails
// with a message saying so, the admin gets the notice, and the account
// and home are still made.
func TestRealWebDAVNoACL(t *testing.T) {
	needACLTools(t)
	base := traversableBase(t)
	if out, err := exec.Command("mount", "-t", "ramfs", "-o", "mode=0755", "ramfs", base).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a ramfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", base).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", base, err, out)
		}
	})
	o, users := realSetup(t, base, 2)
	users[0].FrontPage = &agent.FrontPage{Login: users[0].Login + "fp", Hash: "$apr1$x$y"}
	res := Accounts{Opt: o}.Apply(context.Background(), realEnv(t), batch(users...))
	if res.Err != nil || res.Failed[2] != nil {
		t.Fatalf("%s %v", failures(res), res.Err)
	}
	if err := res.Failed[1]; err == nil || !strings.Contains(err.Error(), "FrontPage cannot publish: the filesystem of "+users[0].Home+"/html has no POSIX ACLs") {
		t.Errorf("failure: %v", err)
	}
	if n := aclNotices(res); len(n) != 1 {
		t.Errorf("notices %v", res.Notices)
	}
	if got := cmdOut(t, "stat", "-c", "%u", users[0].Home+"/html"); got != strconv.Itoa(users[0].UID) {
		t.Errorf("html owned by %s", got)
	}
}
