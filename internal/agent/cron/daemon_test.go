package cron

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
)

const spool = "/var/spool/cron/crontabs"

// sandbox returns a root with an /etc/group that names crontab gid 107.
func sandbox(t *testing.T) (*fsys.Root, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files their owners")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/group"), []byte("root:x:0:\nusers:x:100:\ncrontab:x:107:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := fsys.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return root, dir
}

func env(f agent.FS) agent.Env {
	return agent.Env{FS: f, Run: &fsys.DryRun{}, Plan: func(string) {}, Now: time.Now}
}

func writeHost(t *testing.T, dir, p, data string) {
	t.Helper()
	host := filepath.Join(dir, p)
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(host, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readHost(t *testing.T, dir, p string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, p))
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func job(id int64, sched, cmd string) agent.CronJob {
	return agent.CronJob{ID: id, Schedule: sched, Command: cmd}
}

func TestApply(t *testing.T) {
	root, dir := sandbox(t)
	ctx := context.Background()
	writeHost(t, dir, spool+"/web2", "old crontab of web2\n")
	writeHost(t, dir, spool+"/web4", "old crontab of web4\n")
	writeHost(t, dir, spool+"/web3", "old crontab of web3\n")

	web1 := agent.User{ID: 1, Login: "web1", UID: 20001, Cron: []agent.CronJob{job(1, "*/5 * * * *", "date +%s >> log")}}
	web2 := agent.User{ID: 2, Login: "web2", UID: 20002, Locked: true, Cron: []agent.CronJob{job(2, "@daily", "true")}}
	web3 := agent.User{ID: 3, Login: "web3", UID: 20003}
	web4 := agent.User{ID: 4, Login: "web4", UID: 20004, Cron: []agent.CronJob{job(4, "@daily", "true"), job(5, "* * * * *", "true\n* * * * * evil")}}
	web5 := agent.User{ID: 5, Login: "web5", UID: 0, Cron: []agent.CronJob{job(6, "@daily", "true")}}

	res := Daemon{}.Apply(ctx, env(root), agent.Batch{Users: []agent.User{web1, web2, web3, web4, web5}})
	if res.Err != nil || !res.Changed {
		t.Fatalf("Apply: err %v changed %v", res.Err, res.Changed)
	}
	// web1: written, owned by the user and group crontab, mode 0600.
	got, ok := readHost(t, dir, spool+"/web1")
	if !ok || !strings.Contains(got, "\n*/5 * * * * date +\\%s >> log\n") {
		t.Fatalf("web1 crontab %q", got)
	}
	fi, err := os.Lstat(filepath.Join(dir, spool, "web1"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode() != 0o600 || st.Uid != 20001 || st.Gid != 107 {
		t.Errorf("web1 crontab %v %d:%d, want -rw------- 20001:107", fi.Mode(), st.Uid, st.Gid)
	}
	// The spool directory as Debian makes it.
	if fi, err := os.Stat(filepath.Join(dir, spool)); err != nil || fi.Mode() != fs.ModeDir|fs.ModeSticky|0o730 {
		t.Errorf("spool directory %v %v", fi.Mode(), err)
	}
	// web2 locked and web3 without jobs: no crontab.
	for _, l := range []string{"web2", "web3"} {
		if _, ok := readHost(t, dir, spool+"/"+l); ok {
			t.Errorf("%s still has a crontab", l)
		}
	}
	// web4: a job with a line break fails the user, whose old crontab stays.
	if err := res.Failed[4]; err == nil || !strings.Contains(err.Error(), `job 5 has an invalid command "true\n* * * * * evil"`) {
		t.Errorf("web4 failure %v", err)
	}
	if got, _ := readHost(t, dir, spool+"/web4"); got != "old crontab of web4\n" {
		t.Errorf("web4 crontab %q, want the old one", got)
	}
	// web5: uid 0 is refused, nothing written.
	if err := res.Failed[5]; err == nil || !strings.Contains(err.Error(), "uid 0") {
		t.Errorf("web5 failure %v", err)
	}
	if _, ok := readHost(t, dir, spool+"/web5"); ok {
		t.Error("web5 got a crontab with uid 0")
	}
	if len(res.Failed) != 2 {
		t.Errorf("failed %v", res.Failed)
	}

	// The same batch again changes nothing.
	res = Daemon{}.Apply(ctx, env(root), agent.Batch{Users: []agent.User{web1, web2, web3}})
	if res.Err != nil || res.Changed || len(res.Failed) != 0 {
		t.Errorf("second Apply: %+v", res)
	}

	// Unlocking web2 brings its jobs back.
	web2.Locked = false
	res = Daemon{}.Apply(ctx, env(root), agent.Batch{Users: []agent.User{web2}})
	if got, _ := readHost(t, dir, spool+"/web2"); !res.Changed || !strings.Contains(got, "\n@daily true\n") {
		t.Errorf("unlocked web2: %q %+v", got, res)
	}

	// A gone user's crontab goes.
	res = Daemon{}.Apply(ctx, env(root), agent.Batch{Gone: []agent.Gone{{ID: 2, Login: "web2"}, {ID: 9, Login: "../../../etc/passwd"}}})
	if _, ok := readHost(t, dir, spool+"/web2"); ok || !res.Changed {
		t.Errorf("gone web2 kept its crontab: %+v", res)
	}
	if res.Failed[9] == nil {
		t.Error("a gone user with a traversal login was not refused")
	}
}

// TestApplyFull: a full run removes the crontabs of agent logins that are
// not in the batch, and leaves root's and an admin's alone.
func TestApplyFull(t *testing.T) {
	root, dir := sandbox(t)
	for _, n := range []string{"web1", "web8", "res3web0", "root", "admin", "web", "webx1"} {
		writeHost(t, dir, spool+"/"+n, "# "+n+"\n")
	}
	web1 := agent.User{ID: 1, Login: "web1", UID: 20001, Cron: []agent.CronJob{job(1, "@hourly", "true")}}
	res := Daemon{}.Apply(context.Background(), env(root), agent.Batch{Users: []agent.User{web1}, Full: true})
	if res.Err != nil || len(res.Failed) != 0 {
		t.Fatalf("Apply: %+v", res)
	}
	names, _ := root.ReadDir(spool)
	if strings.Join(names, " ") != "admin root web web1 webx1" {
		t.Errorf("spool holds %v", names)
	}
}

// TestApplySymlink: a link planted at a crontab's name is neither followed
// on write nor its target removed.
func TestApplySymlink(t *testing.T) {
	root, dir := sandbox(t)
	writeHost(t, dir, "/etc/shadow", "secret\n")
	if err := os.MkdirAll(filepath.Join(dir, spool), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"web1", "web2"} {
		if err := os.Symlink(filepath.Join(dir, "etc/shadow"), filepath.Join(dir, spool, l)); err != nil {
			t.Fatal(err)
		}
	}
	web1 := agent.User{ID: 1, Login: "web1", UID: 20001, Cron: []agent.CronJob{job(1, "@hourly", "true")}}
	web2 := agent.User{ID: 2, Login: "web2", UID: 20002}
	res := Daemon{}.Apply(context.Background(), env(root), agent.Batch{Users: []agent.User{web1, web2}})
	if res.Failed[1] == nil || !strings.Contains(res.Failed[1].Error(), "symbolic link") {
		t.Errorf("web1 over a symlink: %v", res.Failed[1])
	}
	if got, _ := readHost(t, dir, "/etc/shadow"); got != "secret\n" {
		t.Errorf("link target changed to %q", got)
	}
	fi, err := os.Stat(filepath.Join(dir, "etc/shadow"))
	if err != nil || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("link target re-owned: %v", err)
	}
	// web2 has no jobs: its link is removed as a link.
	if _, err := os.Lstat(filepath.Join(dir, spool, "web2")); !os.IsNotExist(err) {
		t.Errorf("web2 link still there: %v", err)
	}
}

// TestApplyDryRun: a dry run records the crontab and writes nothing.
func TestApplyDryRun(t *testing.T) {
	root, dir := sandbox(t)
	rec := fsys.NewRecorder(root)
	e := env(rec)
	e.DryRun = true
	web1 := agent.User{ID: 1, Login: "web1", UID: 20001, Cron: []agent.CronJob{job(1, "@hourly", "true")}}
	res := Daemon{}.Apply(context.Background(), e, agent.Batch{Users: []agent.User{web1}})
	if res.Err != nil || len(res.Failed) != 0 {
		t.Fatalf("Apply: %+v", res)
	}
	if _, ok := readHost(t, dir, spool+"/web1"); ok {
		t.Error("dry run wrote the crontab")
	}
	if d := rec.Diff(); !strings.Contains(d, "+@hourly true\n") {
		t.Errorf("diff %q", d)
	}
}

// TestApplyBadOptions: options that would put files elsewhere fail the
// daemon as a whole.
func TestApplyBadOptions(t *testing.T) {
	root, _ := sandbox(t)
	for _, o := range []Options{{SpoolDir: "var/spool"}, {SpoolDir: "/var/../etc"}, {SpoolDir: "/"}, {Group: "cron tab"}} {
		if res := (Daemon{Opt: o}).Apply(context.Background(), env(root), agent.Batch{}); res.Err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}

// Every batch that changes the spool leaves the changed crontabs and the
// directory with an mtime, in whole seconds, later than any the directory
// had before, also for batches within one second: cron, which compares
// whole seconds, never keeps a crontab it read before the change. A
// batch that changes nothing leaves the times alone.
func TestPokeWithinOneSecond(t *testing.T) {
	root, dir := sandbox(t)
	ctx := context.Background()
	// An hour ahead of the files' own times: the first batch pokes from
	// the clock, the ones after it (in the same second) from the poke
	// before.
	now := time.Now().Add(time.Hour).Truncate(time.Second).Add(300 * time.Millisecond)
	e := env(root)
	e.Now = func() time.Time { return now }
	mtime := func(p string) time.Time {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	web1 := agent.User{ID: 1, Login: "web1", UID: 20001, Cron: []agent.CronJob{job(1, "@daily", "true")}}
	web2 := agent.User{ID: 2, Login: "web2", UID: 20002, Cron: []agent.CronJob{job(2, "@daily", "true")}}
	var last time.Time
	for i, b := range []agent.Batch{
		{Users: []agent.User{web1, web2}},
		{Users: []agent.User{{ID: 1, Login: "web1", UID: 20001, Cron: []agent.CronJob{job(1, "@hourly", "true")}}}},
		{Gone: []agent.Gone{{ID: 2, Login: "web2"}}},
	} {
		if res := (Daemon{}).Apply(ctx, e, b); res.Err != nil || len(res.Failed) != 0 || !res.Changed {
			t.Fatalf("batch %d: %+v", i, res)
		}
		d := mtime(spool)
		want := now.Truncate(time.Second).Add(time.Duration(i+1) * time.Second)
		if !d.Equal(want) {
			t.Errorf("batch %d: the spool's mtime %v, want %v", i, d, want)
		}
		if d.Nanosecond() != 0 || !d.After(now) || !d.After(last) {
			t.Errorf("batch %d: the spool's mtime %v is not a whole second after %v and %v", i, d, now, last)
		}
		if i < 2 {
			if f := mtime(spool + "/web1"); !f.Equal(d) {
				t.Errorf("batch %d: web1's mtime %v, want the spool's %v", i, f, d)
			}
		}
		last = d
	}
	if res := (Daemon{}).Apply(ctx, e, agent.Batch{Users: []agent.User{{ID: 1, Login: "web1", UID: 20001, Cron: []agent.CronJob{job(1, "@hourly", "true")}}}}); res.Changed {
		t.Errorf("an unchanged batch changed: %+v", res)
	}
	if d := mtime(spool); !d.Equal(last) {
		t.Errorf("an unchanged batch moved the spool's mtime from %v to %v", last, d)
	}
}
