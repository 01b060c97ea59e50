package unix

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/panel"
)

// applyReal runs Accounts on the sandbox with real file operations; the
// account commands are applied to the sandbox's /etc (Options.Sandbox),
// so a second run sees the accounts of the first.
func applyReal(t *testing.T, s *sandbox, b agent.Batch) (agent.Result, []string) {
	t.Helper()
	s.plan = nil
	o := testOptions()
	o.Sandbox = true
	res := Accounts{Opt: o}.Apply(context.Background(), s.env(s.root, nil), b)
	return res, s.plan
}

type stat struct {
	mode     fs.FileMode
	uid, gid int
}

func statOf(t *testing.T, p string) stat {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return stat{fi.Mode(), int(st.Uid), int(st.Gid)}
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to set owners")
	}
}

func TestHomeLayout(t *testing.T) {
	needRoot(t)
	s := newSandbox(t, "", "", "", mountsPlain)
	u := user(1, "web1")
	u.Services = svc(panel.SvcPHPUpload)
	u.IndexName, u.IndexHTML = "index.html", "<p>Welcome web1</p>\n"
	b := batch(u)
	res, _ := applyReal(t, s, b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("%s %v", failures(res), res.Err)
	}
	if !b.Created[1] {
		t.Error("web1 not reported as created")
	}
	home := s.host("home/web1")
	for p, want := range map[string]stat{
		"":                 {fs.ModeDir | 0o750, 10001, 33},
		"/html":            {fs.ModeDir | 0o755, 10001, 10001},
		"/files":           {fs.ModeDir | 0o750, 10001, 10001},
		"/log":             {fs.ModeDir | 0o750, 10001, 10001},
		"/phptmp":          {fs.ModeDir | 0o700, 10001, 10001},
		"/html/index.html": {0o644, 10001, 10001},
	} {
		if got := statOf(t, home+p); got != want {
			t.Errorf("%s: got %v, want %v", p, got, want)
		}
	}
	if _, err := os.Stat(home + "/cgi-bin"); !os.IsNotExist(err) {
		t.Errorf("cgi-bin without CGI: %v", err)
	}
	if b, _ := os.ReadFile(home + "/html/index.html"); string(b) != u.IndexHTML {
		t.Errorf("index page: %q", b)
	}

	// The user replaces the index page, opens phptmp to everyone and
	// makes html private; a full run puts phptmp back only.
	if err := os.WriteFile(home+"/html/index.html", []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(home+"/phptmp", 0o777)
	os.Chmod(home+"/html", 0o711)
	os.Chmod(home, 0o755)
	b = batch(u)
	b.Full = true
	res, _ = applyReal(t, s, b)
	if len(res.Failed) > 0 || b.Created[1] {
		t.Fatalf("second run: %s created=%v", failures(res), b.Created)
	}
	if got, _ := os.ReadFile(home + "/html/index.html"); string(got) != "mine" {
		t.Errorf("the user's index page was overwritten: %q", got)
	}
	if m := statOf(t, home+"/phptmp").mode.Perm(); m != 0o700 {
		t.Errorf("phptmp mode %o, want 0700", m)
	}
	if m := statOf(t, home).mode.Perm(); m != 0o750 {
		t.Errorf("home mode %o, want 0750", m)
	}
	if m := statOf(t, home+"/html").mode.Perm(); m != 0o711 {
		t.Errorf("html mode %o: the user's choice was changed", m)
	}

	// PHP upload off: an empty phptmp goes, one with files stays.
	u.Services = panel.ServiceSet{}
	if _, _ = applyReal(t, s, batch(u)); true {
		if _, err := os.Stat(home + "/phptmp"); !os.IsNotExist(err) {
			t.Errorf("empty phptmp kept after PHP upload was switched off: %v", err)
		}
	}
	u.Services = svc(panel.SvcPHPUpload)
	applyReal(t, s, batch(u))
	os.WriteFile(home+"/phptmp/sess_abc", []byte("x"), 0o600)
	u.Services = panel.ServiceSet{}
	applyReal(t, s, batch(u))
	if _, err := os.Stat(home + "/phptmp/sess_abc"); err != nil {
		t.Errorf("a file in phptmp was removed: %v", err)
	}
}

func TestStdCGI(t *testing.T) {
	needRoot(t)
	s := newSandbox(t, "", "", "", mountsPlain)
	u := user(1, "web1")
	u.Services = svc(panel.SvcCGI, panel.SvcStdCGI)
	if res, _ := applyReal(t, s, batch(u)); len(res.Failed) > 0 {
		t.Fatal(failures(res))
	}
	cgi := s.host("home/web1/cgi-bin")
	if got := statOf(t, cgi); got != (stat{fs.ModeDir | 0o755, 10001, 10001}) {
		t.Errorf("cgi-bin: %v", got)
	}
	for name, want := range StdCGI() {
		if got := statOf(t, cgi+"/"+name); got != (stat{0o755, 10001, 10001}) {
			t.Errorf("%s: %v", name, got)
		}
		if b, _ := os.ReadFile(cgi + "/" + name); string(b) != string(want) {
			t.Errorf("%s content differs", name)
		}
	}

	// The user edits one script and deletes the other; a plain run does
	// not reinstall, a "services" change reinstalls the missing one only.
	os.WriteFile(cgi+"/hello.cgi", []byte("#!/bin/sh\necho mine\n"), 0o755)
	os.Remove(cgi + "/counter.cgi")
	applyReal(t, s, batch(u))
	if _, err := os.Stat(cgi + "/counter.cgi"); !os.IsNotExist(err) {
		t.Error("counter.cgi reinstalled without a services change")
	}
	b := batch(u)
	b.What[1] = []string{"services"}
	applyReal(t, s, b)
	if _, err := os.Stat(cgi + "/counter.cgi"); err != nil {
		t.Errorf("counter.cgi not reinstalled: %v", err)
	}
	if got, _ := os.ReadFile(cgi + "/hello.cgi"); string(got) != "#!/bin/sh\necho mine\n" {
		t.Errorf("the user's hello.cgi was overwritten: %q", got)
	}

	// CGI off: the unchanged standard script goes, the user's stays and
	// keeps the directory.
	u.Services = svc(panel.SvcStdCGI)
	applyReal(t, s, batch(u))
	if _, err := os.Stat(cgi + "/counter.cgi"); !os.IsNotExist(err) {
		t.Error("unchanged counter.cgi kept after CGI was switched off")
	}
	if _, err := os.Stat(cgi + "/hello.cgi"); err != nil {
		t.Errorf("the user's script was removed: %v", err)
	}
	os.Remove(cgi + "/hello.cgi")
	applyReal(t, s, batch(u))
	if _, err := os.Stat(cgi); !os.IsNotExist(err) {
		t.Errorf("empty cgi-bin kept after CGI was switched off: %v", err)
	}
}

// A user plants symlinks to /etc (here: a directory outside the root) under the names the agent writes to;
// nothing may be written outside the home, and the failure says why.
func TestSymlinkAttack(t *testing.T) {
	needRoot(t)
	s := newSandbox(t, "", "", "", mountsPlain)
	// etc stands for the real /etc: a directory outside the sandbox root
	// with a passwd file.
	etc := t.TempDir()
	if err := os.WriteFile(etc+"/passwd", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(etc)
	home := s.host("home/web1")
	os.MkdirAll(home, 0o750)
	for _, l := range []string{"html", "cgi-bin", "phptmp"} {
		if err := os.Symlink(etc, home+"/"+l); err != nil {
			t.Fatal(err)
		}
	}
	u := user(1, "web1")
	u.Services = svc(panel.SvcCGI, panel.SvcStdCGI, panel.SvcPHPUpload)
	u.IndexName, u.IndexHTML = "passwd", "pwned\n"
	res, _ := applyReal(t, s, batch(u))
	if err := res.Failed[1]; err == nil || !errors.Is(err, fsys.ErrSymlink) {
		t.Errorf("want a symlink failure, got %v", err)
	}
	// Without phptmp the index and cgi writes are tried and refused too.
	u.Services = svc(panel.SvcCGI, panel.SvcStdCGI)
	b := batch(u)
	b.What[1] = []string{"services"}
	res, _ = applyReal(t, s, b)
	if err := res.Failed[1]; err == nil || !errors.Is(err, fsys.ErrSymlink) {
		t.Errorf("want a symlink failure, got %v", err)
	}
	// A new account whose home already holds html -> /etc: the index
	// page (named like a file in /etc) is refused.
	home2 := s.host("home/web2")
	os.MkdirAll(home2, 0o750)
	if err := os.Symlink(etc, home2+"/html"); err != nil {
		t.Fatal(err)
	}
	u2 := user(2, "web2")
	u2.IndexName, u2.IndexHTML = "passwd", "pwned\n"
	b = batch(u2)
	res, _ = applyReal(t, s, b)
	if err := res.Failed[2]; err == nil || !errors.Is(err, fsys.ErrSymlink) || !strings.Contains(err.Error(), "index page") {
		t.Errorf("want the index page refused, got %v", err)
	}
	after, _ := os.ReadDir(etc)
	if len(after) != len(before) {
		t.Errorf("files appeared in /etc: %v -> %v", before, after)
	}
	if b, _ := os.ReadFile(etc + "/passwd"); strings.Contains(string(b), "pwned") {
		t.Error("/etc/passwd was overwritten through the symlink")
	}
	for _, n := range []string{"hello.cgi", "counter.cgi"} {
		if _, err := os.Lstat(filepath.Join(etc, n)); !os.IsNotExist(err) {
			t.Errorf("%s written to /etc", n)
		}
	}
	// The links are still links: the agent neither followed nor replaced them.
	if fi, err := os.Lstat(home + "/html"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("html: %v %v", fi, err)
	}

	// Deleting the user removes the links, never their target.
	b = batch()
	b.Gone = []agent.Gone{{ID: 1, Login: "web1"}}
	res = Removal{Opt: testOptions()}.Apply(context.Background(), s.env(s.root, &fsys.DryRun{}), b)
	if len(res.Failed) > 0 {
		t.Fatal(failures(res))
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("home still there: %v", err)
	}
	if after, _ := os.ReadDir(etc); len(after) != len(before) {
		t.Errorf("/etc changed by the removal: %v", after)
	}
}

// Bad input fails that user with the field named, runs nothing for it,
// writes nothing, and the other users carry on.
func TestValidation(t *testing.T) {
	good := user(1, "web1")
	cases := map[string]func(u *agent.User){
		"login":    func(u *agent.User) { u.Login, u.Home = "web1;rm", "/home/web1;rm" },
		"upper":    func(u *agent.User) { u.Login, u.Home = "Web1", "/home/Web1" },
		"newline":  func(u *agent.User) { u.Login, u.Home = "web1\nroot", "/home/web1\nroot" },
		"home":     func(u *agent.User) { u.Home = "/home/../etc" },
		"home2":    func(u *agent.User) { u.Home = "/srv/web2" },
		"uid low":  func(u *agent.User) { u.UID = 0 },
		"uid high": func(u *agent.User) { u.UID = 60000 },
		"shell":    func(u *agent.User) { u.Services = panel.ServiceSet{panel.SvcShell: 3} },
		"index":    func(u *agent.User) { u.IndexName, u.IndexHTML = "../../etc/x", "x" },
		"index2":   func(u *agent.User) { u.IndexName, u.IndexHTML = ".htaccess", "x" },
		"index3":   func(u *agent.User) { u.IndexName, u.IndexHTML = "a/b.html", "x" },
		"index4":   func(u *agent.User) { u.IndexName, u.IndexHTML = "a..html", "x" },
		"quota":    func(u *agent.User) { u.Limits = panel.Limits{panel.ResStorage: 1 << 62} },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t, "", "", "", mountsQuota)
			bad := user(2, "web2")
			mod(&bad)
			out, res := dryRun(t, s, Accounts{Opt: testOptions()}, batch(good, bad))
			if res.Failed[2] == nil {
				t.Fatalf("bad user not refused:\n%s", out)
			}
			if res.Failed[1] != nil {
				t.Errorf("the good user failed too: %v", res.Failed[1])
			}
			if strings.Contains(out, "web2") && !strings.Contains(out, "# failures") {
				t.Errorf("something was done for the bad user:\n%s", out)
			}
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, `"useradd"`) && !strings.HasSuffix(l, `"web1"`) {
					t.Errorf("command for the bad user: %s", l)
				}
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	for name, mod := range map[string]func(o *Options){
		"home base":  func(o *Options) { o.HomeBase = "/" },
		"home dots":  func(o *Options) { o.HomeBase = "/home/../etc" },
		"shell":      func(o *Options) { o.Shell = "/bin/bash -i" },
		"group nl":   func(o *Options) { o.SFTPGroup = "sftp\nMatch all" },
		"same group": func(o *Options) { o.NoSSHGroup = o.SFTPGroup },
		"uid range":  func(o *Options) { o.UIDMin, o.UIDMax = 0, 100 },
		"uid order":  func(o *Options) { o.UIDMin, o.UIDMax = 20000, 10000 },
		"check":      func(o *Options) { o.SSHDCheck = []string{"sshd", "-t; reboot"} },
		"quota fs":   func(o *Options) { o.QuotaFS = "home" },
	} {
		t.Run(name, func(t *testing.T) {
			o := testOptions()
			mod(&o)
			if _, err := RenderSSHD(o); err == nil {
				t.Error("RenderSSHD accepted bad options")
			}
			s := newSandbox(t, "", "", "", mountsPlain)
			out, res := dryRun(t, s, Accounts{Opt: o}, batch(user(1, "web1")))
			if res.Err == nil || strings.Contains(out, `"useradd"`) {
				t.Errorf("bad options not refused:\n%s", out)
			}
			res = Removal{Opt: o}.Apply(context.Background(), s.env(s.root, &fsys.DryRun{}), batch())
			if res.Err == nil {
				t.Error("Removal accepted bad options")
			}
		})
	}
}

// An account of the same name with another uid, or a uid taken by
// another account, is never touched.
func TestCollisions(t *testing.T) {
	s := newSandbox(t,
		"web1:x:10500:10500::/home/web1:/bin/bash\nbob:x:10002:10002::/home/bob:/bin/bash\n",
		"web1:x:10500:\nbob:x:10002:\nweb3:x:777:\n", "", mountsPlain)
	out, res := dryRun(t, s, Accounts{Opt: testOptions()}, batch(user(1, "web1"), user(2, "web2"), user(3, "web3")))
	for id, want := range map[int64]string{
		1: `account "web1" exists with uid 10500, not 10001`,
		2: `uid 10002 is already used by account "bob"`,
		3: `group "web3" exists with gid 777`,
	} {
		if res.Failed[id] == nil || !strings.Contains(res.Failed[id].Error(), want) {
			t.Errorf("user %d: got %v, want %q", id, res.Failed[id], want)
		}
	}
	if strings.Contains(out, `"useradd"`) || strings.Contains(out, `"usermod"`) {
		t.Errorf("commands ran:\n%s", out)
	}
}

func TestDetectQuota(t *testing.T) {
	for _, c := range []struct {
		name, mounts, quotaFS, base string
		wantFS                      string
		want                        bool
	}{
		{"home on its own fs", mountsQuota, "", "/home", "/home", true},
		{"root without quota", mountsPlain, "", "/home", "/", false},
		{"journaled", "/dev/a / ext4 rw,usrjquota=aquota.user,jqfmt=vfsv1 0 0\n", "", "/home", "/", true},
		{"xfs quota", "/dev/a /srv xfs rw,quota 0 0\n/dev/b / ext4 rw 0 0\n", "", "/srv/homes", "/srv", true},
		{"group quota only", "/dev/a / ext4 rw,grpquota 0 0\n", "", "/home", "/", false},
		{"prefix is not a parent", "/dev/a / ext4 rw 0 0\n/dev/b /ho ext4 rw,usrquota 0 0\n", "", "/home", "/", false},
		{"escaped space", "/dev/a / ext4 rw 0 0\n/dev/b /srv/my\\040homes ext4 rw,usrquota 0 0\n", "", "/srv/my homes", "/srv/my homes", true},
		{"later mount hides", "/dev/a /home ext4 rw,usrquota 0 0\n/dev/b /home tmpfs rw 0 0\n", "", "/home", "/home", false},
		{"configured fs", mountsQuota, "/home", "/home/x", "/home", true},
		{"configured fs missing", mountsPlain, "/data", "/home", "/data", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t, "", "", "", c.mounts)
			o := testOptions()
			o.QuotaFS, o.HomeBase = c.quotaFS, c.base
			got := detectQuota(s.root, o.withDefaults())
			if got.fs != c.wantFS || got.supported != c.want {
				t.Errorf("got %+v, want fs %q supported %v", got, c.wantFS, c.want)
			}
		})
	}
	// The production path reads this process's own table by pid, which
	// the symlink-refusing FS can open.
	root, _ := fsys.Open("/")
	if _, err := root.ReadFile(mountsPath(Options{})); err != nil {
		t.Errorf("reading %s: %v", mountsPath(Options{}), err)
	}
}

func TestQuotaNotice(t *testing.T) {
	s := newSandbox(t, "", "", "", mountsPlain)
	u := user(1, "web1")
	u.Limits = panel.Limits{panel.ResStorage: 50}
	out, res := dryRun(t, s, Accounts{Opt: testOptions()}, batch(u))
	if len(res.Notices) != 1 || res.Notices[0].Key != NoticeQuotaUnsupported || res.Notices[0].Args[0] != "/" {
		t.Errorf("notices: %v", res.Notices)
	}
	if strings.Contains(out, "setquota") {
		t.Errorf("setquota without quota support:\n%s", out)
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/a\134b`: `/a\b`, `/x\04`: `/x\04`, "/plain": "/plain"} {
		if got := unescapeMount(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// The standard scripts are valid Perl, and the counter counts inside the
// home (run here directly, as suexec would run it as the user).
func TestStdCGIScripts(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	dir := t.TempDir()
	for _, d := range []string{"cgi-bin", "files"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	for name, b := range StdCGI() {
		p := filepath.Join(dir, "cgi-bin", name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("perl", "-c", p).CombinedOutput(); err != nil {
			t.Errorf("%s: %v: %s", name, err, out)
		}
	}
	for i := 1; i <= 3; i++ {
		out, err := exec.Command(filepath.Join(dir, "cgi-bin", "counter.cgi")).Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := "Content-Type: text/plain; charset=utf-8\r\n\r\n" + string(rune('0'+i)) + "\n"; string(out) != want {
			t.Errorf("run %d: %q", i, out)
		}
	}
	cmd := exec.Command(filepath.Join(dir, "cgi-bin", "hello.cgi"))
	cmd.Env = []string{"QUERY_STRING=<script>alert(1)</script>", "REQUEST_METHOD=GET"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "<script>") || !strings.Contains(string(out), "&lt;script&gt;") {
		t.Errorf("hello.cgi does not escape the query string:\n%s", out)
	}
}

// A missing HomeBase is created as root's, never as the first user's.
func TestHomeBaseCreated(t *testing.T) {
	needRoot(t)
	s := newSandbox(t, "", "", "", mountsPlain)
	if err := os.Remove(s.host("home")); err != nil {
		t.Fatal(err)
	}
	if res, _ := applyReal(t, s, batch(user(1, "web1"))); len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("%s %v", failures(res), res.Err)
	}
	if got := statOf(t, s.host("home")); got != (stat{fs.ModeDir | 0o755, 0, 0}) {
		t.Errorf("home base: %v", got)
	}
	// An existing one keeps the admin's mode.
	os.Chmod(s.host("home"), 0o711)
	applyReal(t, s, batch(user(1, "web1"), user(2, "web2")))
	if m := statOf(t, s.host("home")).mode.Perm(); m != 0o711 {
		t.Errorf("home base mode changed to %o", m)
	}
}
