package cron

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/testenv"
)

const cronWhat = "Debian's cron (/usr/sbin/cron, Debian package cron), run as root"

// helperEnv makes the test binary act as the mount-namespace helper that
// starts cron (see TestMain).
const helperEnv = "KONTOR_CRON_HELPER"

// TestMain doubles as the helper that starts the real cron daemon. Debian's
// cron has its paths compiled in (/var/spool/cron, /etc/crontab,
// /etc/cron.d, /run/crond.pid), so the test re-executes itself in a new
// mount namespace (unshared by the kernel before exec), bind-mounts its
// temporary directories over exactly those paths there, and then becomes
// cron. The machine's own spool, crontabs and pid file are never touched
// or seen, and an empty /run makes cron treat its start as a boot, so
// @reboot jobs run at once.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(cronHelper(os.Args[1]))
	}
	os.Exit(m.Run())
}

func cronHelper(tmp string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "cron helper:", err); return 1 }
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fail(err)
	}
	for _, b := range [][2]string{
		{tmp + "/root/var/spool/cron", "/var/spool/cron"},
		{tmp + "/run", "/run"},
		{tmp + "/cron.d", "/etc/cron.d"},
		{tmp + "/crontab", "/etc/crontab"},
	} {
		if err := unix.Mount(b[0], b[1], "", unix.MS_BIND, ""); err != nil {
			return fail(fmt.Errorf("bind %s: %w", b[1], err))
		}
	}
	return fail(syscall.Exec("/usr/sbin/cron", []string{"cron", "-f"}, []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}))
}

// TestRealCron proves with Debian's cron that a rendered crontab runs as
// the user: an @reboot job at once, and at the next minute a "* * * * *"
// job with an escaped % and a job added by a second Apply while cron was
// running, within a second of cron's start.
func TestRealCron(t *testing.T) {
	if !testenv.Integration() {
		testenv.Need(t, cronWhat)
	}
	if os.Geteuid() != 0 {
		testenv.NeedReason(t, cronWhat, "the test does not run as root")
	}
	for _, p := range []string{"/usr/sbin/cron", "/var/spool/cron", "/etc/cron.d", "/etc/crontab"} {
		if _, err := os.Stat(p); err != nil {
			testenv.NeedReason(t, cronWhat, err.Error())
		}
	}
	tmp := t.TempDir()
	// The job runs as the user and must reach its output directory.
	for d := tmp; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	login := "ktcron" + randomLower(t, 6)
	if out, err := exec.Command("useradd", "-M", "-N", "-s", "/bin/sh", "-d", tmp+"/out", login).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", login).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v: %s", login, err, out)
		}
	})
	pw, err := osuser.Lookup(login)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pw.Uid)
	out := tmp + "/out"
	for _, d := range []string{out, tmp + "/run", tmp + "/cron.d", tmp + "/root/etc"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(out, uid, -1); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp+"/crontab", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The real gid of group crontab, as the daemon reads it from /etc/group.
	group, err := os.ReadFile("/etc/group")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp+"/root/etc/group", group, 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := fsys.Open(tmp + "/root")
	if err != nil {
		t.Fatal(err)
	}
	e := agent.Env{FS: root, Run: &fsys.DryRun{}, Plan: func(string) {}, Now: time.Now}
	u := agent.User{ID: 1, Login: login, UID: uid, Home: out, Cron: []agent.CronJob{
		{ID: 1, Schedule: "@reboot", Command: "id -u > " + out + "/reboot"},
		{ID: 2, Schedule: "* * * * *", Command: "printf '%s:%s' \"$(id -u)\" \"$(date +%Y)\" > " + out + "/minute"},
	}}
	if res := (Daemon{}).Apply(context.Background(), e, agent.Batch{Users: []agent.User{u}}); res.Err != nil || len(res.Failed) != 0 {
		t.Fatalf("Apply: %+v", res)
	}

	cmd := exec.Command(os.Args[0], tmp)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	wait := func(name, want string, deadline time.Time) {
		t.Helper()
		for {
			b, err := os.ReadFile(out + "/" + name)
			if err == nil && strings.TrimSpace(string(b)) == want {
				return
			}
			select {
			case err := <-exited:
				t.Fatalf("cron exited: %v: %s", err, stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %q (%v), want %q by %s", name, b, err, want, deadline.Format(time.TimeOnly))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	wait("reboot", pw.Uid, time.Now().Add(10*time.Second))

	// A job added while cron runs, right after its first look at the
	// spool, often within the same second: the poke (see the package
	// comment) makes cron see the change all the same.
	u.Cron = append(u.Cron, agent.CronJob{ID: 3, Schedule: "* * * * *", Command: "id -u > " + out + "/added"})
	if res := (Daemon{}).Apply(context.Background(), e, agent.Batch{Users: []agent.User{u}}); res.Err != nil || len(res.Failed) != 0 || !res.Changed {
		t.Fatalf("second Apply: %+v", res)
	}
	// The waits above may have crossed a minute, so the first job may
	// already have run with the old crontab; the added one runs at the
	// first minute after the Apply, never later.
	applied := time.Now()
	wait("minute", pw.Uid+":"+applied.Format("2006"), applied.Add(65*time.Second))
	wait("added", pw.Uid, applied.Add(65*time.Second))
}

func randomLower(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return string(b)
}
