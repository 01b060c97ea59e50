package webalizer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"kontor/internal/agent"
	"kontor/internal/agent/apache"
	"kontor/internal/agent/apache/apachetest"
	"kontor/internal/agent/fsys"
	"kontor/internal/panel"
	"kontor/internal/testenv"
)

// TestRealWebalizerBehindApache runs the real Webalizer (as an unprivileged
// uid, through setpriv) on a generated access log of a user with two
// sites, then serves the result through a real Apache with the vhosts the
// apache package renders, and checks what a visitor, the user and its
// reseller see.
func TestRealWebalizerBehindApache(t *testing.T) {
	for _, bin := range []string{"webalizer", "setpriv"} {
		if _, err := exec.LookPath(bin); err != nil {
			testenv.Need(t, "Webalizer and setpriv (Debian packages webalizer, util-linux)")
		}
	}
	apacheBin := apachetest.Bin(t)
	if !testenv.Integration() {
		testenv.Need(t, "Webalizer and Apache")
	}
	if os.Geteuid() != 0 {
		testenv.NeedReason(t, "root", "the test runs Webalizer as another uid")
	}

	// Not t.TempDir: Webalizer (as the user) and the Apache workers
	// (www-data) must traverse it. The FS root is "/" and every path
	// points in here, so the paths in the generated files are real.
	dir, err := os.MkdirTemp("", "kontor-webalizer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opt := Options{
		ConfDir:     dir + "/etc/webalizer",
		WorkDir:     dir + "/work",
		LogDir:      dir + "/log",
		HTPasswdDir: dir + "/etc/webalizer-auth",
		HomeBase:    dir + "/home",
	}
	for _, d := range []string{opt.LogDir, dir + "/run", dir + "/locked"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root, err := fsys.Open("/")
	if err != nil {
		t.Fatal(err)
	}

	// A uid no account has: setpriv needs only the number.
	uid := 61000 + int(time.Now().UnixNano()%3000)
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	u := agent.User{
		ID: 1, Login: "web1", UID: uid, Home: opt.HomeBase + "/web1",
		// Protected directories: html/ reads .htaccess (AuthConfig), so
		// the stats folder's own AllowOverride None is what is tested.
		Services:      panel.ServiceSet{panel.SvcWebalizer: 1, panel.SvcProtectedDirs: 1},
		Domains:       []agent.Domain{{Name: "one.example"}, {Name: "two.example"}},
		ResellerLogin: "res1",
		WebAuth:       []string{"web1:" + hash("user-secret"), "res1:" + hash("reseller-secret")},
	}
	// The second user planted a link to /etc where its statistics go.
	evil := u
	evil.ID, evil.Login, evil.Home, evil.UID = 2, "web2", opt.HomeBase+"/web2", uid+1
	evil.Domains = []agent.Domain{{Name: "evil.example"}}
	for _, x := range []agent.User{u, evil} {
		if err := os.MkdirAll(x.Home+"/html", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(x.Home+"/html", x.UID, x.UID); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(u.Home+"/html/index.html", []byte("public page\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", evil.Home+"/html/webalizer"); err != nil {
		t.Fatal(err)
	}

	const rec = `%s:80 198.51.100.%d - - [%02d/Mar/2025:10:%02d:00 +0000] "GET /page%d.html HTTP/1.1" 200 %d "-" "Mozilla/5.0"` + "\n"
	var log strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&log, rec, "one.example", 10+i, 10+i, i, i, 1000+i)
	}
	fmt.Fprintf(&log, rec, "www.one.example", 20, 16, 0, 9, 500)
	for i := 0; i < 2; i++ {
		fmt.Fprintf(&log, rec, "two.example", 30+i, 17, i, i, 700)
	}
	fmt.Fprintf(&log, rec, "stranger.example", 40, 17, 5, 1, 100)
	log.WriteString("garbage that is no log line\n")
	log.WriteString(`one.example:80 198.51.100.99 - - [18/Mar/2025:10:00:00 +0000] "GET /partial`)
	if err := os.WriteFile(opt.LogDir+"/web1.log", []byte(log.String()), 0o640); err != nil {
		t.Fatal(err)
	}
	etcBefore, _ := os.ReadDir("/etc")

	d := Daemon{Opt: opt}
	e := agent.Env{FS: root, Run: fsys.ExecRunner{}, Plan: func(string) {}, Now: time.Now}
	b := agent.Batch{Users: []agent.User{u, evil}, Full: true}
	if res := d.Apply(context.Background(), e, b); res.Err != nil || res.Failed[1] != nil {
		t.Fatalf("Apply: %+v", res)
	}
	res := d.Tick(context.Background(), e, b)
	if res.Err != nil || res.Failed[1] != nil {
		t.Fatalf("Tick: %+v", res)
	}
	if !errors.Is(res.Failed[2], fsys.ErrSymlink) {
		t.Errorf("the planted link did not fail web2: %v", res.Failed[2])
	}
	etcAfter, _ := os.ReadDir("/etc")
	if len(etcAfter) != len(etcBefore) {
		t.Errorf("/etc changed: %d entries before, %d after", len(etcBefore), len(etcAfter))
	}
	for _, n := range []string{"evil.example", "index.html", "webalizer.current"} {
		if _, err := os.Lstat("/etc/" + n); err == nil {
			t.Errorf("/etc/%s written through the link", n)
		}
	}

	hits := func(site string) string {
		t.Helper()
		p := u.Home + "/html/webalizer/" + site + "/usage_202503.html"
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("no report: %v", err)
		}
		m := regexp.MustCompile(`Total Hits</FONT></TD>\s*<TD[^>]*><FONT[^>]*><B>([0-9]+)</B>`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s: no Total Hits in the report", site)
		}
		return string(m[1])
	}
	if h := hits("one.example"); h != "6" {
		t.Errorf("one.example: %s hits, want 6 (5 + 1 on www.)", h)
	}
	if h := hits("two.example"); h != "2" {
		t.Errorf("two.example: %s hits, want 2", h)
	}
	index := u.Home + "/html/webalizer/one.example/index.html"
	assertOwner(t, index, uid)
	if _, err := os.Stat(opt.WorkDir + "/web1/one.example.log"); !os.IsNotExist(err) {
		t.Error("work copy of the log stays")
	}

	// The next day's run sees the same lines again: nothing is counted
	// twice.
	if res := d.Tick(context.Background(), e, agent.Batch{Users: []agent.User{u}}); res.Err != nil || len(res.Failed) != 0 {
		t.Fatalf("second Tick: %+v", res)
	}
	if h := hits("one.example"); h != "6" {
		t.Errorf("after a second run one.example has %s hits, want still 6", h)
	}

	// A .htaccess in the stats folder must not open it, nor a plain
	// Require in html/ (the owner can still open its own statistics with
	// <If>/<Files> there, or by copying them: see apache's vhost.go).
	for p, data := range map[string]string{
		"/html/webalizer/.htaccess": "Require all granted\nAuthType None\n",
		"/html/.htaccess":           "Require all granted\n",
	} {
		if err := os.WriteFile(u.Home+p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Apache with the rendered vhosts.
	aopt := apache.Options{
		HomeBase:         opt.HomeBase,
		GlobalFile:       dir + "/etc/apache/kontor.conf",
		SitesDir:         dir + "/etc/apache/sites",
		FPMDir:           dir + "/etc/fpm",
		SocketDir:        dir + "/run",
		SSLDir:           dir + "/etc/ssl",
		WebDAVDir:        dir + "/etc/webdav",
		WebalizerAuthDir: opt.HTPasswdDir,
		LogDir:           dir + "/apachelog",
		LockedRoot:       dir + "/locked",
		Port:             apachetest.FreePort(t),
	}
	aopt.SSLPort = apachetest.FreePort(t)
	for aopt.SSLPort == aopt.Port {
		aopt.SSLPort = apachetest.FreePort(t)
	}
	g, err := apache.RenderGlobal(aopt)
	if err != nil {
		t.Fatal(err)
	}
	files, err := apache.RenderUser(agent.Server{SharedIPv4: []string{"127.0.0.1"}}, u, aopt)
	if err != nil {
		t.Fatal(err)
	}
	for p, f := range files {
		g[p] = f
	}
	for p, f := range g {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(aopt.LogDir, 0o755)
	conf := apachetest.WriteMain(t, apachetest.Main{
		Root: dir, Ports: []int{aopt.Port, aopt.SSLPort}, FallbackRoot: aopt.LockedRoot, Include: aopt.GlobalFile,
	})
	apachetest.Configtest(t, apacheBin, conf)
	exited := apachetest.StartDaemon(t, dir+"/log/apache2.out", apacheBin, "-f", conf, "-DFOREGROUND")
	apachetest.WaitPort(t, fmt.Sprintf("127.0.0.1:%d", aopt.Port), exited, "apache2")

	req := func(host, path, user, pw string) (int, string) {
		return apachetest.Do(t, apachetest.Request{Scheme: "http", Port: aopt.Port, Host: host, Path: path, User: user, Password: pw})
	}
	if code, body := req("one.example", "/", "", ""); code != 200 || !strings.Contains(body, "public page") {
		t.Errorf("the site itself: %d %q", code, body)
	}
	for _, c := range []struct {
		host, path, user, pw string
		code                 int
		body                 string
	}{
		{"one.example", "/webalizer/", "", "", 401, ""},
		{"one.example", "/webalizer/one.example/", "", "", 401, ""},
		{"two.example", "/webalizer/two.example/usage_202503.html", "", "", 401, ""},
		{"one.example", "/webalizer/", "web1", "wrong", 401, ""},
		{"one.example", "/webalizer/", "res1", "user-secret", 401, ""},
		{"one.example", "/webalizer/", "web2", "user-secret", 401, ""},
		{"one.example", "/webalizer/", "web1", "user-secret", 200, `<a href="two.example/">two.example</a>`},
		{"one.example", "/webalizer/one.example/", "web1", "user-secret", 200, "Usage statistics for one.example"},
		{"www.one.example", "/webalizer/one.example/usage_202503.html", "res1", "reseller-secret", 200, "Total Hits"},
		{"two.example", "/webalizer/two.example/", "res1", "reseller-secret", 200, "Usage statistics for two.example"},
	} {
		code, body := req(c.host, c.path, c.user, c.pw)
		if code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("GET http://%s%s as %q/%q: want %d with %q, got %d %.200q", c.host, c.path, c.user, c.pw, c.code, c.body, code, body)
		}
	}
}

// assertOwner checks that Webalizer wrote p as uid, not as root.
func assertOwner(t *testing.T, p string, uid int) {
	t.Helper()
	got := tree(t, filepath.Dir(p))["/"+filepath.Base(p)]
	if want := fmt.Sprintf(" %d:%d", uid, uid); !strings.HasSuffix(got, want) {
		t.Errorf("%s: owner %q, want %s", p, got, want)
	}
}
