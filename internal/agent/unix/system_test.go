package unix

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/panel"
	"kontor/internal/testenv"
)

const shadowUtils = "shadow-utils (useradd, usermod, userdel, groupadd, groupdel; Debian package passwd) and root"

func haveShadowUtils() bool {
	for _, c := range []string{"useradd", "usermod", "userdel", "groupadd", "groupdel", "id", "getent"} {
		if _, err := exec.LookPath(c); err != nil {
			return false
		}
	}
	return os.Geteuid() == 0
}

// usedIDs returns the uids and gids of the machine's accounts.
func usedIDs(t *testing.T) map[int]bool {
	used := map[int]bool{}
	for _, f := range []string{"/etc/passwd", "/etc/group"} {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			p := strings.Split(sc.Text(), ":")
			if len(p) > 2 {
				if n, err := strconv.Atoi(p[2]); err == nil {
					used[n] = true
				}
			}
		}
		fh.Close()
	}
	return used
}

// realSetup returns options for real accounts that cannot collide with
// anything on the machine: random logins "web9xxxxxxx", test groups with
// random names, uids from a free block above Debian's UID_MAX, homes in a
// temp dir. Everything is removed in t.Cleanup, also after a failure.
func realSetup(t *testing.T, homeBase string, n int) (Options, []agent.User) {
	t.Helper()
	if !testenv.Integration() || !haveShadowUtils() {
		testenv.Need(t, shadowUtils)
	}
	used := usedIDs(t)
	o := testOptions()
	o.Mounts = ""
	o.UIDMin, o.UIDMax = 61000, 64999
	suffix := rand.IntN(9_000_000)
	o.SFTPGroup = fmt.Sprintf("ktsftp%d", suffix)
	o.NoSSHGroup = fmt.Sprintf("ktnossh%d", suffix)
	o.HomeBase = homeBase
	o.SSHDConf = filepath.Join(t.TempDir(), "kontor.conf")
	var users []agent.User
	uid := o.UIDMin + rand.IntN(3000)
	for i := range n {
		for used[uid] {
			uid++
		}
		used[uid] = true
		login := fmt.Sprintf("web%d", 90_000_000+rand.IntN(9_999_999))
		if _, err := exec.Command("id", login).Output(); err == nil {
			t.Fatalf("login %s exists already", login)
		}
		users = append(users, agent.User{ID: int64(i + 1), Login: login, UID: uid, Home: homeBase + "/" + login,
			Services: panel.ServiceSet{}, Limits: panel.Limits{}})
	}
	t.Cleanup(func() {
		for _, u := range users {
			if _, err := exec.Command("id", u.Login).Output(); err == nil {
				if out, err := exec.Command("userdel", u.Login).CombinedOutput(); err != nil {
					t.Errorf("cleanup: userdel %s: %v: %s", u.Login, err, out)
				}
			}
			if exec.Command("getent", "group", u.Login).Run() == nil {
				exec.Command("groupdel", u.Login).Run()
			}
		}
		for _, g := range []string{o.SFTPGroup, o.NoSSHGroup} {
			if exec.Command("getent", "group", g).Run() == nil {
				if out, err := exec.Command("groupdel", g).CombinedOutput(); err != nil {
					t.Errorf("cleanup: groupdel %s: %v: %s", g, err, out)
				}
			}
		}
	})
	return o, users
}

func realEnv(t *testing.T) agent.Env {
	root, err := fsys.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	return (&sandbox{t: t}).env(root, fsys.ExecRunner{})
}

func cmdOut(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// passwdField returns field i of the account's passwd line.
func passwdField(t *testing.T, login string, i int) string {
	return strings.Split(cmdOut(t, "getent", "passwd", login), ":")[i]
}

func TestRealAccounts(t *testing.T) {
	base := filepath.Join(t.TempDir(), "homes")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	o, users := realSetup(t, base, 2)
	full, sftp := &users[0], &users[1]
	full.Services = svc(panel.SvcCGI, panel.SvcStdCGI)
	full.Services[panel.SvcShell] = panel.ShellFull
	full.Limits = panel.Limits{panel.ResStorage: 100}
	full.IndexName, full.IndexHTML = "index.html", "<p>hello "+full.Login+"</p>\n"
	sftp.Services[panel.SvcShell] = panel.ShellSFTP
	var sshd []string
	if haveSSHD() {
		dir := filepath.Dir(o.SSHDConf)
		sshd = sshdConfig(t, dir)
		o.SSHDCheck = append(append([]string{}, sshd...), "-t")
	}
	env := realEnv(t)
	ctx := context.Background()

	b := batch(users...)
	res := Accounts{Opt: o}.Apply(ctx, env, b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("create: %s %v", failures(res), res.Err)
	}
	if !b.Created[1] || !b.Created[2] {
		t.Errorf("created: %v", b.Created)
	}
	for _, u := range users {
		if got := cmdOut(t, "id", "-u", u.Login); got != strconv.Itoa(u.UID) {
			t.Errorf("%s: uid %s, want %d", u.Login, got, u.UID)
		}
		if got := cmdOut(t, "id", "-g", u.Login); got != strconv.Itoa(u.UID) {
			t.Errorf("%s: gid %s, want %d", u.Login, got, u.UID)
		}
		if got := passwdField(t, u.Login, 5); got != u.Home {
			t.Errorf("%s: home %s", u.Login, got)
		}
		fi, err := os.Stat(u.Home)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != u.UID || st.Gid != 33 || fi.Mode().Perm() != 0o750 {
			t.Errorf("%s: home %v owned %d:%d", u.Login, fi.Mode(), st.Uid, st.Gid)
		}
	}
	if got := passwdField(t, full.Login, 6); got != "/bin/bash" {
		t.Errorf("full shell user has %s", got)
	}
	if got := passwdField(t, sftp.Login, 6); got != "/usr/sbin/nologin" {
		t.Errorf("SFTP user has %s", got)
	}
	if got := strings.Fields(cmdOut(t, "id", "-nG", sftp.Login)); !slices.Contains(got, o.SFTPGroup) {
		t.Errorf("SFTP user groups %v", got)
	}
	if got := strings.Fields(cmdOut(t, "id", "-nG", full.Login)); slices.Contains(got, o.SFTPGroup) || slices.Contains(got, o.NoSSHGroup) {
		t.Errorf("full shell user groups %v", got)
	}
	if b, _ := os.ReadFile(full.Home + "/html/index.html"); string(b) != full.IndexHTML {
		t.Errorf("index page %q", b)
	}
	if _, err := os.Stat(full.Home + "/cgi-bin/hello.cgi"); err != nil {
		t.Error(err)
	}
	// This machine's filesystem has no user quotas: the notice says so.
	if q := detectQuota(env.FS, o.withDefaults()); !q.supported {
		if len(res.Notices) != 1 || res.Notices[0].Key != NoticeQuotaUnsupported {
			t.Errorf("notices %v on %s without quota", res.Notices, q.fs)
		}
	}
	if sshd != nil {
		// What sshd makes of a connection by each user.
		for _, c := range []struct {
			login, want string
		}{{sftp.Login, "forcecommand internal-sftp"}, {full.Login, "forcecommand none"}} {
			args := append(append([]string{}, sshd[1:]...), "-T", "-C", "user="+c.login+",host=client.example,addr=127.0.0.1")
			if out := cmdOut(t, sshd[0], args...); !strings.Contains(out, c.want+"\n") {
				t.Errorf("%s: sshd -T lacks %q", c.login, c.want)
			}
		}
	}

	// Nothing to do the second time.
	res = Accounts{Opt: o}.Apply(ctx, env, batch(users...))
	if len(res.Failed) > 0 || res.Err != nil || res.Changed {
		t.Errorf("second run: %s %v changed=%v", failures(res), res.Err, res.Changed)
	}

	// Lock: no shell, no SSH, password locked, files kept.
	full.Locked = true
	b = batch(users...)
	b.What = map[int64][]string{1: {"status"}, 2: {"status"}}
	if res = (Accounts{Opt: o}).Apply(ctx, env, b); len(res.Failed) > 0 {
		t.Fatal(failures(res))
	}
	if got := passwdField(t, full.Login, 6); got != "/usr/sbin/nologin" {
		t.Errorf("locked user has shell %s", got)
	}
	if got := strings.Fields(cmdOut(t, "id", "-nG", full.Login)); !slices.Contains(got, o.NoSSHGroup) {
		t.Errorf("locked user groups %v", got)
	}
	if got := strings.Fields(cmdOut(t, "passwd", "-S", full.Login)); got[1] != "L" {
		t.Errorf("passwd -S: %v", got)
	}
	if _, err := os.Stat(full.Home + "/html/index.html"); err != nil {
		t.Errorf("locking removed files: %v", err)
	}

	// Unlock: the shell and groups come back.
	full.Locked = false
	if res = (Accounts{Opt: o}).Apply(ctx, env, b); len(res.Failed) > 0 {
		t.Fatal(failures(res))
	}
	if got := passwdField(t, full.Login, 6); got != "/bin/bash" {
		t.Errorf("unlocked user has shell %s", got)
	}
	if got := strings.Fields(cmdOut(t, "id", "-nG", full.Login)); slices.Contains(got, o.NoSSHGroup) {
		t.Errorf("unlocked user groups %v", got)
	}

	// Delete: account, group and home are gone.
	b = batch()
	b.Gone = []agent.Gone{{ID: 1, Login: full.Login}, {ID: 2, Login: sftp.Login}}
	res = Removal{Opt: o}.Apply(ctx, env, b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("delete: %s %v", failures(res), res.Err)
	}
	for _, u := range users {
		if exec.Command("id", u.Login).Run() == nil {
			t.Errorf("%s still exists", u.Login)
		}
		if exec.Command("getent", "group", u.Login).Run() == nil {
			t.Errorf("group %s still exists", u.Login)
		}
		if _, err := os.Stat(u.Home); !os.IsNotExist(err) {
			t.Errorf("home of %s still there: %v", u.Login, err)
		}
	}
}

// On an ext4 loop mount with usrquota the agent finds quota support and
// sets the limit with setquota; deleting the user clears it. This
// machine's kernel mounts usrquota but has no quota format to switch it
// on (quotaon fails), so setquota records the limit in aquota.user without
// the kernel enforcing it; on a kernel with quotas the test also writes
// past the limit as the user and sees the write refused.
func TestRealQuota(t *testing.T) {
	for _, c := range []string{"mkfs.ext4", "mount", "umount", "setquota", "quotacheck", "quotaon", "repquota", "setpriv", "dd"} {
		if _, err := exec.LookPath(c); err != nil || !testenv.Integration() {
			testenv.Need(t, "quota tools and mkfs.ext4 (Debian packages quota, e2fsprogs)")
		}
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "fs.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 32<<20); err != nil {
		t.Fatal(err)
	}
	cmdOut(t, "mkfs.ext4", "-q", "-F", img)
	if out, err := exec.Command("mount", "-o", "loop,usrquota", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot loop-mount ext4 with usrquota here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("quotaoff", "-u", mnt).Run()
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	cmdOut(t, "quotacheck", "-cum", mnt)
	quotaOn := exec.Command("quotaon", "-u", mnt).Run() == nil
	base := filepath.Join(mnt, "homes")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	o, users := realSetup(t, base, 1)
	u := users[0]
	u.Limits = panel.Limits{panel.ResStorage: 2}
	env := realEnv(t)
	res := Accounts{Opt: o}.Apply(context.Background(), env, batch(u))
	if len(res.Failed) > 0 || res.Err != nil || len(res.Notices) != 0 {
		t.Fatalf("failed %s %v, notices %v", failures(res), res.Err, res.Notices)
	}
	quotaLine := func() string {
		for _, l := range strings.Split(cmdOut(t, "repquota", "-v", "-u", mnt), "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == u.Login {
				return l
			}
		}
		return ""
	}
	if l := quotaLine(); !strings.Contains(l, " 2048 ") {
		t.Errorf("limit of 2 MB (2048 KB) not set: %q", l)
	}
	if quotaOn {
		out, err := exec.Command("setpriv", "--reuid="+strconv.Itoa(u.UID), "--regid="+strconv.Itoa(u.UID), "--clear-groups",
			"dd", "if=/dev/zero", "of="+u.Home+"/files/big", "bs=1M", "count=4").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "quota") {
			t.Errorf("writing 4 MB over a 2 MB quota: %v: %s", err, out)
		}
	} else {
		t.Log("quotaon failed on this kernel: the limit is recorded, not enforced")
	}
	b := batch()
	b.Gone = []agent.Gone{{ID: 1, Login: u.Login}}
	res = Removal{Opt: o}.Apply(context.Background(), env, b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("delete: %s %v", failures(res), res.Err)
	}
	// repquota names a deleted uid by number; its limit must be cleared.
	for _, l := range strings.Split(cmdOut(t, "repquota", "-v", "-u", "-n", mnt), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "#"+strconv.Itoa(u.UID) && strings.Contains(l, " 2048 ") {
			t.Errorf("limit left after deletion: %q", l)
		}
	}
}
