package webalizer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/panel"
	"kontor/internal/testenv"
)

const (
	userHash     = "$2y$11$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"
	resellerHash = "$2a$10$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
)

func testUser() agent.User {
	return agent.User{
		ID: 1, Login: "web1", UID: 10001, Home: "/home/web1",
		Services:      panel.ServiceSet{panel.SvcWebalizer: 1},
		Domains:       []agent.Domain{{Name: "example.com"}, {Name: "blog.example.com"}},
		ResellerLogin: "res1",
		WebAuth:       []string{"web1:" + userHash, "res1:" + resellerHash},
	}
}

func TestGoldenConf(t *testing.T) {
	conf, err := RenderConf(testUser(), "example.com", Options{})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "example.com.conf", conf)

	idn, err := panel.NormalizeDomain("d", "münchen-bäckerei.de")
	if err != nil {
		t.Fatal(err)
	}
	u := testUser()
	u.Domains = append(u.Domains, agent.Domain{Name: idn})
	cu, err := checkUser(u, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "index.html", renderIndex(cu))
	testenv.Golden(t, "htpasswd", renderHTPasswd(cu))

	if _, err := RenderConf(testUser(), "other.example", Options{}); err == nil {
		t.Error("a domain the user does not have was rendered")
	}
}

func TestSplit(t *testing.T) {
	const rec = ` 198.51.100.7 - - [10/Mar/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"`
	log := strings.Join([]string{
		"example.com:80" + rec,
		"www.example.com:443" + rec + " www",
		"WWW.EXAMPLE.COM:80" + rec + " upper",
		"x.y.example.com:80" + rec + " wildcard",
		"blog.example.com:80" + rec + " blog",
		"www.blog.example.com:80" + rec + " www-blog",
		"other.example:80" + rec + " unknown vhost",
		"notexample.com:80" + rec + " suffix without dot",
		"example.com" + rec + " no port",
		"example.com:http" + rec + " port not numeric",
		"example.com:80",
		"example.com:80 ",
		"example.com:80 garbage without quotes",
		"example.com:80" + rec + "\r",
		"example.com:80" + rec + "\x00",
		"",
		"example.com:80" + rec + " partial",
	}, "\n")
	got := Split([]byte(log), []string{"blog.example.com", "example.com"})
	want := map[string]string{
		"example.com": strings.Join([]string{
			rec[1:], rec[1:] + " www", rec[1:] + " upper", rec[1:] + " wildcard",
		}, "\n") + "\n",
		"blog.example.com": rec[1:] + " blog\n" + rec[1:] + " www-blog\n",
	}
	if len(got) != len(want) {
		t.Errorf("sites: got %v", got)
	}
	for d, w := range want {
		if string(got[d]) != w {
			t.Errorf("%s:\nwant %q\ngot  %q", d, w, got[d])
		}
	}
	if len(Split([]byte("example.com:80"+rec), []string{"example.com"})) != 0 {
		t.Error("a line without its newline was fed")
	}
}

func TestBadUsers(t *testing.T) {
	cases := []struct {
		name, field string
		mutate      func(u *agent.User)
	}{
		{"login LF", "login", func(u *agent.User) { u.Login = "web1\nroot" }},
		{"login dots", "login", func(u *agent.User) { u.Login = "../web1" }},
		{"login shell", "login", func(u *agent.User) { u.Login = "web1$(id)" }},
		{"uid root", "uid", func(u *agent.User) { u.UID = 0 }},
		{"uid system", "uid", func(u *agent.User) { u.UID = 999 }},
		{"uid negative", "uid", func(u *agent.User) { u.UID = -1 }},
		{"home outside", "home", func(u *agent.User) { u.Home = "/etc" }},
		{"home dotdot", "home", func(u *agent.User) { u.Home = "/home/../etc" }},
		{"home space", "home", func(u *agent.User) { u.Home = "/home/web 1" }},
		{"home LF", "home", func(u *agent.User) { u.Home = "/home/web1\nLogFile /etc/shadow" }},
		{"domain LF", "domains[1].name", func(u *agent.User) { u.Domains[1].Name = "evil.example\nOutputDir /etc" }},
		{"domain slash", "domains[1].name", func(u *agent.User) { u.Domains[1].Name = "../../etc" }},
		{"domain upper", "domains[1].name", func(u *agent.User) { u.Domains[1].Name = "Blog.example.com" }},
		{"domain twice", "domains[1].name", func(u *agent.User) { u.Domains[1].Name = "example.com" }},
		{"auth LF", "web_auth[0]", func(u *agent.User) { u.WebAuth[0] = "web1:" + userHash + "\nevil:" + userHash }},
		{"auth plain", "web_auth[0]", func(u *agent.User) { u.WebAuth[0] = "web1:secret" }},
		{"auth second colon", "web_auth[1]", func(u *agent.User) { u.WebAuth[1] = "res1:x:" + resellerHash }},
		{"auth bad login", "web_auth[1]", func(u *agent.User) { u.WebAuth[1] = "res 1:" + resellerHash }},
		{"auth trailing space", "web_auth[1]", func(u *agent.User) { u.WebAuth[1] = "res1:" + resellerHash + " " }},
		{"auth md5", "web_auth[1]", func(u *agent.User) { u.WebAuth[1] = "res1:$apr1$abcdefgh$0123456789abcdefghijkl" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := testUser()
			c.mutate(&u)
			_, err := checkUser(u, DefaultOptions())
			var pe *panel.Error
			if !errors.As(err, &pe) || pe.Field != c.field {
				t.Fatalf("want a field error on %q, got %v", c.field, err)
			}
			// Apply fails the user and writes nothing.
			root, dir := sandbox(t)
			res := Daemon{}.Apply(context.Background(), env(root, &recRunner{}), agent.Batch{Users: []agent.User{u}})
			if res.Failed[u.ID] == nil {
				t.Errorf("Apply did not fail the user: %+v", res)
			}
			if files := tree(t, dir); len(files) != 0 {
				t.Errorf("files written for a bad user: %v", files)
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{
		{ConfDir: "relative"},
		{WorkDir: "/var/lib/../../etc"},
		{HTPasswdDir: "/etc/kontor/web auth"},
		{Binary: "webalizer; rm -rf /"},
		{Binary: "-c"},
		{Setpriv: "/usr/bin/set priv"},
		{WebGroup: "www data"},
		{MinUID: -1},
	} {
		res := Daemon{Opt: o}.Apply(context.Background(), agent.Env{}, agent.Batch{Users: []agent.User{testUser()}})
		if res.Err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}

// recRunner records the commands and answers with out/err.
type recRunner struct {
	cmds [][]string
	logs []string // the work log's content when the command ran
	fs   *fsys.Root
	out  string
	err  error
}

func (r *recRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	r.cmds = append(r.cmds, append([]string{name}, args...))
	if r.fs != nil {
		conf := args[len(args)-1]
		data, _ := r.fs.ReadFile(conf)
		for _, l := range strings.Split(string(data), "\n") {
			if p, ok := strings.CutPrefix(l, "LogFile "); ok {
				b, _ := r.fs.ReadFile(p)
				r.logs = append(r.logs, string(b))
			}
		}
	}
	return []byte(r.out), r.err
}

func sandbox(t *testing.T) (*fsys.Root, string) {
	t.Helper()
	dir := t.TempDir()
	root, err := fsys.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return root, dir
}

func env(fs agent.FS, run agent.Runner) agent.Env {
	return agent.Env{FS: fs, Run: run, Plan: func(string) {}, Now: time.Now}
}

// tree lists every path under dir (relative, "/"-separated) with its
// mode and owner.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(dir, p)
		out["/"+rel] = fi.Mode().String() + " " + strconv.Itoa(int(st.Uid)) + ":" + strconv.Itoa(int(st.Gid))
		return nil
	})
	return out
}

// etcGroup gives the sandbox a www-data group with gid 33.
func etcGroup(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir+"/etc", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/etc/group", []byte("root:x:0:\nwww-data:x:33:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestApply(t *testing.T) {
	root, dir := sandbox(t)
	etcGroup(t, dir)
	u := testUser()
	res := Daemon{}.Apply(context.Background(), env(root, &recRunner{}), agent.Batch{Users: []agent.User{u}})
	if res.Err != nil || len(res.Failed) != 0 || !res.Changed {
		t.Fatalf("Apply: %+v", res)
	}
	got := tree(t, dir)
	want := map[string]string{
		"/etc/kontor/webalizer/web1":                       "drwxr-x--- 0:10001",
		"/etc/kontor/webalizer/web1/example.com.conf":      "-rw-r----- 0:10001",
		"/etc/kontor/webalizer/web1/blog.example.com.conf": "-rw-r----- 0:10001",
		"/var/lib/kontor/webalizer/web1":                   "drwxr-x--- 0:10001",
		"/etc/kontor/webalizer-auth":                       "drwxr-x--- 0:33",
		"/etc/kontor/webalizer-auth/web1.htpasswd":         "-rw-r----- 0:33",
		"/home/web1/html/webalizer":                        "drwxr-xr-x 10001:10001",
		"/home/web1/html/webalizer/example.com":            "drwxr-xr-x 10001:10001",
		"/home/web1/html/webalizer/blog.example.com":       "drwxr-xr-x 10001:10001",
		"/home/web1/html/webalizer/index.html":             "-rw-r--r-- 10001:10001",
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: want %q, got %q", p, w, got[p])
		}
	}
	pw, _ := os.ReadFile(dir + "/etc/kontor/webalizer-auth/web1.htpasswd")
	if string(pw) != "web1:"+userHash+"\nres1:"+resellerHash+"\n" {
		t.Errorf("htpasswd: %q", pw)
	}
	if res := (Daemon{}).Apply(context.Background(), env(root, &recRunner{}), agent.Batch{Users: []agent.User{u}}); res.Changed {
		t.Error("a second Apply changed something")
	}

	// Password change: the file follows.
	u.WebAuth[0] = "web1:" + strings.Replace(userHash, "abc", "xyz", 1)
	Daemon{}.Apply(context.Background(), env(root, &recRunner{}), agent.Batch{Users: []agent.User{u}})
	if pw, _ := os.ReadFile(dir + "/etc/kontor/webalizer-auth/web1.htpasswd"); !strings.Contains(string(pw), "xyz") {
		t.Errorf("htpasswd not updated: %q", pw)
	}

	// A site goes away: its configuration goes, its statistics stay.
	os.WriteFile(dir+"/home/web1/html/webalizer/blog.example.com/index.html", []byte("stats"), 0o644)
	u.Domains = u.Domains[:1]
	Daemon{}.Apply(context.Background(), env(root, &recRunner{}), agent.Batch{Users: []agent.User{u}})
	if _, err := os.Stat(dir + "/etc/kontor/webalizer/web1/blog.example.com.conf"); !os.IsNotExist(err) {
		t.Error("configuration of a removed site stays")
	}
	if _, err := os.Stat(dir + "/home/web1/html/webalizer/blog.example.com/index.html"); err != nil {
		t.Error("statistics of a removed site were deleted")
	}

	// Service off: configurations and password file go, the home stays.
	off := u
	off.Services = panel.ServiceSet{}
	res = Daemon{}.Apply(context.Background(), env(root, &recRunner{}), agent.Batch{Users: []agent.User{off}})
	if !res.Changed {
		t.Error("service off changed nothing")
	}
	for _, p := range []string{"/etc/kontor/webalizer/web1", "/var/lib/kontor/webalizer/web1", "/etc/kontor/webalizer-auth/web1.htpasswd"} {
		if _, err := os.Lstat(dir + p); !os.IsNotExist(err) {
			t.Errorf("service off: %s stays", p)
		}
	}
	if _, err := os.Stat(dir + "/home/web1/html/webalizer/index.html"); err != nil {
		t.Error("service off removed the user's statistics")
	}

	// Gone, and a full run sweeping logins nobody has.
	Daemon{}.Apply(context.Background(), env(root, &recRunner{}), agent.Batch{Users: []agent.User{u}})
	res = Daemon{}.Apply(context.Background(), env(root, &recRunner{}), agent.Batch{Gone: []agent.Gone{{ID: 1, Login: "web1"}}})
	if _, err := os.Lstat(dir + "/etc/kontor/webalizer/web1"); !os.IsNotExist(err) || !res.Changed {
		t.Error("gone user's configuration stays")
	}
	for _, p := range []string{"/etc/kontor/webalizer/web9", "/var/lib/kontor/webalizer/web9", "/etc/kontor/webalizer/README"} {
		os.MkdirAll(dir+p, 0o755)
	}
	os.WriteFile(dir+"/etc/kontor/webalizer-auth/web9.htpasswd", nil, 0o640)
	os.WriteFile(dir+"/etc/kontor/webalizer-auth/notes.txt", nil, 0o640)
	u2 := testUser()
	u2.ID, u2.Login, u2.Home, u2.UID = 2, "web2", "/home/web2", 10002
	u2.Domains = []agent.Domain{{Name: "two.example"}}
	res = Daemon{}.Apply(context.Background(), env(root, &recRunner{}), agent.Batch{Users: []agent.User{u2}, Full: true})
	if res.Err != nil || len(res.Failed) != 0 {
		t.Fatalf("full run: %+v", res)
	}
	got = tree(t, dir)
	for _, p := range []string{"/etc/kontor/webalizer/web9", "/var/lib/kontor/webalizer/web9", "/etc/kontor/webalizer-auth/web9.htpasswd"} {
		if _, ok := got[p]; ok {
			t.Errorf("full run: %s of an unknown login stays", p)
		}
	}
	for _, p := range []string{"/etc/kontor/webalizer/README", "/etc/kontor/webalizer-auth/notes.txt", "/etc/kontor/webalizer/web2/two.example.conf"} {
		if _, ok := got[p]; !ok {
			t.Errorf("full run: %s was removed", p)
		}
	}
}

// TestApplySymlink: a link the user planted at html/webalizer fails the
// user; nothing is written where it points.
func TestApplySymlink(t *testing.T) {
	for _, target := range []string{"outside", "/etc"} {
		root, dir := sandbox(t)
		etcGroup(t, dir)
		os.MkdirAll(dir+"/home/web1/html", 0o755)
		os.MkdirAll(dir+"/outside", 0o755)
		link := target
		if target == "outside" {
			link = dir + "/outside"
		}
		if err := os.Symlink(link, dir+"/home/web1/html/webalizer"); err != nil {
			t.Fatal(err)
		}
		etcBefore := tree(t, "/etc")
		run := &recRunner{}
		res := Daemon{}.Tick(context.Background(), env(root, run), agent.Batch{Users: []agent.User{testUser()}, Full: true})
		if res.Failed[1] == nil || !errors.Is(res.Failed[1], fsys.ErrSymlink) {
			t.Errorf("%s: want a symlink failure, got %+v", target, res)
		}
		if len(run.cmds) != 0 {
			t.Errorf("%s: Webalizer ran: %v", target, run.cmds)
		}
		if files := tree(t, dir+"/outside"); len(files) != 0 {
			t.Errorf("written through the link: %v", files)
		}
		etcAfter := tree(t, "/etc")
		for p := range etcAfter {
			if _, ok := etcBefore[p]; !ok && (strings.Contains(p, "example.com") || strings.HasSuffix(p, "/index.html")) {
				t.Errorf("written into /etc: %s", p)
			}
		}
	}
}

func TestTick(t *testing.T) {
	root, dir := sandbox(t)
	etcGroup(t, dir)
	const rec = ` 198.51.100.7 - - [10/Mar/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"`
	os.MkdirAll(dir+"/var/log/apache2/kontor", 0o755)
	os.WriteFile(dir+"/var/log/apache2/kontor/web1.log.1", []byte("example.com:80"+rec+" old\n"), 0o640)
	os.WriteFile(dir+"/var/log/apache2/kontor/web1.log", []byte("www.example.com:80"+rec+" new\nother.example:80"+rec+"\nexample.com:80"+rec+" partial"), 0o640)
	run := &recRunner{fs: root, out: "", err: nil}
	u := testUser()
	off := testUser()
	off.ID, off.Login, off.Home, off.UID = 2, "web2", "/home/web2", 10002
	off.Services = panel.ServiceSet{}
	res := Daemon{}.Tick(context.Background(), env(root, run), agent.Batch{Users: []agent.User{u, off}, Full: true})
	if res.Err != nil || len(res.Failed) != 0 || !res.Changed {
		t.Fatalf("Tick: %+v", res)
	}
	// Only example.com has lines; blog.example.com is not run.
	want := []string{"setpriv", "--reuid=10001", "--regid=10001", "--clear-groups", "--inh-caps=-all", "--no-new-privs",
		"--", "webalizer", "-c", "/etc/kontor/webalizer/web1/example.com.conf"}
	if len(run.cmds) != 1 || strings.Join(run.cmds[0], " ") != strings.Join(want, " ") {
		t.Fatalf("commands: %q", run.cmds)
	}
	if run.logs[0] != rec[1:]+" old\n"+rec[1:]+" new\n" {
		t.Errorf("fed log: %q", run.logs[0])
	}
	if _, err := os.Stat(dir + "/var/lib/kontor/webalizer/web1/example.com.log"); !os.IsNotExist(err) {
		t.Error("the work copy of the log stays")
	}

	// Nothing new: Webalizer says so and exits 1, which is no failure.
	run = &recRunner{out: "No valid records found!", err: errors.New("exit status 1")}
	if res := (Daemon{}).Tick(context.Background(), env(root, run), agent.Batch{Users: []agent.User{u}}); len(res.Failed) != 0 {
		t.Errorf("no new records counted as failure: %+v", res)
	}
	run = &recRunner{out: "Error: Can't change to output directory", err: errors.New("exit status 1")}
	if res := (Daemon{}).Tick(context.Background(), env(root, run), agent.Batch{Users: []agent.User{u}}); res.Failed[1] == nil ||
		!strings.Contains(res.Failed[1].Error(), "example.com") {
		t.Errorf("a failing run is not reported: %+v", res)
	}
}

// TestDryRun: Apply and Tick through the Recorder and DryRun runner
// change nothing on disk and record the command.
func TestDryRun(t *testing.T) {
	root, dir := sandbox(t)
	etcGroup(t, dir)
	os.MkdirAll(dir+"/var/log/apache2/kontor", 0o755)
	os.WriteFile(dir+"/var/log/apache2/kontor/web1.log", []byte(`example.com:80 198.51.100.7 - - [10/Mar/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"`+"\n"), 0o640)
	before := tree(t, dir)
	rec := fsys.NewRecorder(root)
	dry := &fsys.DryRun{}
	e := env(rec, dry)
	e.DryRun = true
	d := Daemon{}
	if res := d.Apply(context.Background(), e, agent.Batch{Users: []agent.User{testUser()}}); res.Err != nil || len(res.Failed) != 0 {
		t.Fatalf("Apply: %+v", res)
	}
	if res := d.Tick(context.Background(), e, agent.Batch{Users: []agent.User{testUser()}}); res.Err != nil || len(res.Failed) != 0 {
		t.Fatalf("Tick: %+v", res)
	}
	if after := tree(t, dir); len(after) != len(before) {
		t.Errorf("dry run wrote files: %v", after)
	}
	if !strings.Contains(rec.Diff(), "/etc/kontor/webalizer/web1/example.com.conf") || len(dry.Commands()) != 1 {
		t.Errorf("dry run did not record: %s\n%s", rec.Diff(), dry)
	}
	if d.Every() != 24*time.Hour || (Daemon{Opt: Options{Every: time.Hour}}).Every() != time.Hour || d.Name() != "webalizer" {
		t.Error("Every/Name")
	}
}

// Tick reads the logs a line at a time and feeds each site the same lines
// Split cuts from the whole: the rotated file's unterminated last line
// counts (the file is finished), the current one's does not (Apache may be
// writing it), and a line longer than any real one is skipped without
// holding it. The dry run's whole-file path gives the same.
func TestTickStreamsLikeSplit(t *testing.T) {
	root, dir := sandbox(t)
	etcGroup(t, dir)
	const rec = ` 198.51.100.7 - - [10/Mar/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"`
	rotated := "example.com:80" + rec + " r1\n" +
		"example.com:80" + rec + " " + strings.Repeat("x", 3*maxLine) + "\n" +
		"www.example.com:80" + rec + " r-last"
	current := "blog.example.com:80" + rec + " b1\n" + "example.com:80" + rec + " c1\n" + "example.com:80" + rec + " partial"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(dir+"/var/log/apache2/kontor", 0o755))
	must(os.WriteFile(dir+"/var/log/apache2/kontor/web1.log.1", []byte(rotated), 0o640))
	must(os.WriteFile(dir+"/var/log/apache2/kontor/web1.log", []byte(current), 0o640))
	run := &recRunner{fs: root}
	res := Daemon{}.Tick(context.Background(), env(root, run), agent.Batch{Users: []agent.User{testUser()}, Full: true})
	if res.Err != nil || len(res.Failed) != 0 {
		t.Fatalf("Tick: %+v", res)
	}
	whole := Split([]byte(rotated+"\n"+current), []string{"example.com", "blog.example.com"})
	want := []string{string(whole["example.com"]), string(whole["blog.example.com"])}
	if want[0] != rec[1:]+" r1\n"+rec[1:]+" r-last\n"+rec[1:]+" c1\n" || want[1] != rec[1:]+" b1\n" {
		t.Fatalf("Split itself: %q", want)
	}
	slices.Sort(want)
	slices.Sort(run.logs)
	if !slices.Equal(run.logs, want) {
		t.Errorf("fed logs:\n%q\nwant\n%q", run.logs, want)
	}
	if names, _ := os.ReadDir(dir + "/var/lib/kontor/webalizer/web1"); len(names) != 0 {
		t.Errorf("work files left: %v", names)
	}
}
