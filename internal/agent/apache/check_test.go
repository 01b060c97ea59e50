package apache

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"kontor/internal/agent"
	"kontor/internal/agent/apache/apachetest"
	"kontor/internal/panel"
	"kontor/internal/testenv"
)

// The tests in this file run Apache's and PHP-FPM's own checkers, and then
// the daemons themselves, on the renderer's output. Everything lives under
// one temp dir: the Options point every generated path into it, and a
// minimal main config there loads the modules, listens on loopback high
// ports and includes the generated global file.

// apacheBin returns the apache2 binary or skips/fails through testenv.
func apacheBin(t *testing.T) string { return apachetest.Bin(t) }

// fpmBin returns the php-fpm binary (php-fpm8.2 on Debian 12) or "".
func fpmBin() string {
	if b, err := exec.LookPath("php-fpm"); err == nil {
		return b
	}
	m, _ := filepath.Glob("/usr/sbin/php-fpm*")
	for _, b := range m {
		if fi, err := os.Stat(b); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return b
		}
	}
	return ""
}

// sandbox is one temp root with Options pointing into it.
type sandbox struct {
	root string
	opt  Options
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	// Not t.TempDir: its name holds the test name, and the Apache workers
	// (www-data) must be able to traverse the directory.
	root, err := os.MkdirTemp("", "kontor-apache-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &sandbox{root: root, opt: Options{
		HomeBase:         root + "/home",
		GlobalFile:       root + "/etc/kontor.conf",
		SitesDir:         root + "/etc/sites",
		FPMDir:           root + "/etc/fpm",
		SocketDir:        root + "/run",
		SSLDir:           root + "/etc/ssl",
		WebDAVDir:        root + "/etc/webdav",
		WebalizerAuthDir: root + "/etc/webalizer-auth",
		LogDir:           root + "/log",
		LockedRoot:       root + "/locked",
		Port:             8080,
		SSLPort:          8443,
	}}
	for _, d := range []string{s.opt.HomeBase, s.opt.SitesDir, s.opt.FPMDir, s.opt.SocketDir,
		s.opt.SSLDir, s.opt.WebDAVDir, s.opt.LogDir, s.opt.LockedRoot} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// home moves a user's home into the sandbox and creates its directories.
func (s *sandbox) home(t *testing.T, u *agent.User) {
	t.Helper()
	u.Home = s.opt.HomeBase + "/" + u.Login
	for _, d := range []string{"html", "cgi-bin", "phptmp"} {
		if err := os.MkdirAll(filepath.Join(u.Home, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// write puts the rendered files at their (absolute, in-sandbox) paths.
func (s *sandbox) write(t *testing.T, files Files) {
	t.Helper()
	for _, p := range files.Paths() {
		if !strings.HasPrefix(p, s.root+"/") {
			t.Fatalf("rendered file %s outside the sandbox %s", p, s.root)
		}
		f := files[p]
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.Mode); err != nil {
			t.Fatal(err)
		}
		if f.Group != "" {
			if g, err := osuser.LookupGroup(f.Group); err == nil {
				gid, _ := strconv.Atoi(g.Gid)
				if err := os.Chown(p, 0, gid); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// mainConf writes the main Apache config and returns its path.
func (s *sandbox) mainConf(t *testing.T) string {
	t.Helper()
	return apachetest.WriteMain(t, apachetest.Main{
		Root:         s.root,
		Ports:        []int{s.opt.Port, s.opt.SSLPort},
		FallbackRoot: s.root + "/locked",
		Include:      s.opt.GlobalFile,
		User:         DefaultOptions().WebUser,
		Group:        DefaultOptions().WebGroup,
	})
}

// configtest runs apache2 -t and asserts "Syntax OK".
func configtest(t *testing.T, bin, conf string) { apachetest.Configtest(t, bin, conf) }

// TestApacheConfigtest renders every golden state (and the global file)
// into a sandbox and runs apache2 -t on it.
func TestApacheConfigtest(t *testing.T) {
	bin := apacheBin(t)
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t)
			u := c.user
			s.home(t, &u)
			g, err := RenderGlobal(s.opt)
			if err != nil {
				t.Fatal(err)
			}
			s.write(t, g)
			f, err := RenderUser(c.srv, u, s.opt)
			if err != nil {
				t.Fatal(err)
			}
			s.write(t, f)
			configtest(t, bin, s.mainConf(t))
			if pool := s.opt.FPMDir + "/" + u.Login + ".conf"; f[pool].Data != nil {
				fpmTest(t, s, pool)
			}
		})
	}
}

// fpmTest runs php-fpm -t on a main config including the pool. The pool's
// user must exist for the test to pass, so the check only runs for a
// login that exists here; otherwise it only checks that php-fpm reports
// exactly that.
func fpmTest(t *testing.T, s *sandbox, pool string) {
	t.Helper()
	bin := fpmBin()
	if bin == "" {
		testenv.Need(t, "PHP-FPM (Debian package php-fpm)")
	}
	conf := writeFPMConf(t, s)
	out, err := exec.Command(bin, "-t", "-y", conf, "-p", s.root).CombinedOutput()
	login := strings.TrimSuffix(filepath.Base(pool), ".conf")
	if _, lerr := osuser.Lookup(login); lerr != nil {
		// The golden logins (web1...) are not accounts on a test machine.
		if err == nil || !strings.Contains(string(out), "cannot get uid for user '"+login+"'") {
			t.Errorf("php-fpm -t with the unknown user %s: %v\n%s", login, err, out)
		}
		return
	}
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Errorf("php-fpm -t: %v\n%s", err, out)
	}
}

func writeFPMConf(t *testing.T, s *sandbox) string {
	t.Helper()
	conf := s.root + "/php-fpm.conf"
	data := fmt.Sprintf("[global]\npid = %s/run/php-fpm.pid\nerror_log = %s/log/php-fpm.log\ndaemonize = no\ninclude = %s/*.conf\n",
		s.root, s.root, s.opt.FPMDir)
	if err := os.WriteFile(conf, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

var (
	freePort    = apachetest.FreePort
	waitPort    = apachetest.WaitPort
	waitFile    = apachetest.WaitFile
	startDaemon = apachetest.StartDaemon
	get         = apachetest.Get
)

// tempAccount creates a system user and group with a name nobody else
// uses (the PHP-FPM pool runs as the login) and removes them in cleanup.
func tempAccount(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return ""
	}
	ua, err := exec.LookPath("useradd")
	if err != nil {
		return ""
	}
	var r [4]byte
	rand.Read(r[:])
	login := "kt" + hex.EncodeToString(r[:])
	out, err := exec.Command(ua, "--system", "--user-group", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", login).CombinedOutput()
	if err != nil {
		t.Logf("useradd %s: %v %s", login, err, out)
		return ""
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", login).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v %s", login, err, out)
		}
		exec.Command("groupdel", login).Run() // when USERGROUPS_ENAB did not remove it
	})
	return login
}

// TestApacheServes starts Apache (and PHP-FPM when it is installed and a
// temporary account can be created) on the generated config and checks the
// sites from outside.
func TestApacheServes(t *testing.T) {
	bin := apacheBin(t)
	s := newSandbox(t)
	s.opt.Port, s.opt.SSLPort = freePort(t), freePort(t)
	for s.opt.SSLPort == s.opt.Port {
		s.opt.SSLPort = freePort(t)
	}
	srv := agent.Server{Hostname: "server1.example.net", SharedIPv4: []string{"127.0.0.1"}}

	plain := baseUser(1, "web1") // PHP off
	plain.Services = svc()
	plain.Domains = []agent.Domain{{Name: "plain.example"}}
	locked := baseUser(2, "web2")
	locked.Locked = true
	locked.Domains = []agent.Domain{{Name: "locked.example"}}
	users := []agent.User{plain, locked}

	phpLogin := ""
	if fpmBin() != "" {
		phpLogin = tempAccount(t)
	}
	if phpLogin == "" && testenv.Integration() && fpmBin() != "" {
		t.Log("no temporary account could be created: PHP execution is not checked")
	}
	if phpLogin != "" {
		t.Logf("PHP user: temporary account %s", phpLogin)
		php := baseUser(3, phpLogin)
		php.Services = svc(panel.SvcPHP, panel.SvcSSL)
		php.Domains = []agent.Domain{{Name: "php.example", IP: "127.0.0.1"}}
		php.SSL = testCert(t, 3, "php.example")
		users = append(users, php)
	}
	for i := range users {
		s.home(t, &users[i])
		u := users[i]
		write := func(name, data string) {
			if err := os.WriteFile(filepath.Join(u.Home, "html", name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("index.html", "<h1>index of "+u.Login+"</h1>\n")
		write("test.php", "<?php echo 'PHP', ' runs as ', posix_getpwuid(posix_geteuid())['name'] ?? get_current_user(); ?>\n")
	}
	g, err := RenderGlobal(s.opt)
	if err != nil {
		t.Fatal(err)
	}
	s.write(t, g)
	files, errs := RenderAll(agent.State{Server: srv, Users: users}, s.opt)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	s.write(t, files)
	conf := s.mainConf(t)
	configtest(t, bin, conf)

	if phpLogin != "" {
		fpmConf := writeFPMConf(t, s)
		exited := startDaemon(t, s.root+"/log/php-fpm.out", fpmBin(), "-F", "-y", fpmConf, "-p", s.root)
		waitFile(t, s.opt.SocketDir+"/kontor-"+phpLogin+".sock", exited, "php-fpm")
	}
	exited := startDaemon(t, s.root+"/log/apache2.out", bin, "-f", conf, "-DFOREGROUND")
	waitPort(t, fmt.Sprintf("127.0.0.1:%d", s.opt.Port), exited, "apache2")
	waitPort(t, fmt.Sprintf("127.0.0.1:%d", s.opt.SSLPort), exited, "apache2")

	if code, body := get(t, "http", s.opt.Port, "plain.example", "/"); code != 200 || !strings.Contains(body, "index of web1") {
		t.Errorf("plain.example /: %d %q", code, body)
	}
	if code, body := get(t, "http", s.opt.Port, "www.plain.example", "/index.html"); code != 200 || !strings.Contains(body, "index of web1") {
		t.Errorf("www.plain.example: %d %q", code, body)
	}
	if code, body := get(t, "http", s.opt.Port, "plain.example", "/test.php"); code != 403 || strings.Contains(body, "<?php") {
		t.Errorf("plain.example /test.php with PHP off: want 403, got %d %q", code, body)
	}
	for _, p := range []string{"/", "/index.html", "/test.php", "/no/such/file"} {
		code, body := get(t, "http", s.opt.Port, "locked.example", p)
		if code != 200 || !strings.Contains(body, "Site unavailable") || strings.Contains(body, "web2") {
			t.Errorf("locked.example %s: want the neutral page, got %d %q", p, code, body)
		}
	}
	if phpLogin != "" {
		for _, scheme := range []string{"http", "https"} {
			port := s.opt.Port
			if scheme == "https" {
				port = s.opt.SSLPort
			}
			code, body := get(t, scheme, port, "php.example", "/test.php")
			if code != 200 || !strings.Contains(body, "PHP runs as "+phpLogin) {
				t.Errorf("%s php.example /test.php with PHP on: %d %q", scheme, code, body)
			}
			if code, body := get(t, scheme, port, "php.example", "/"); code != 200 || !strings.Contains(body, "index of "+phpLogin) {
				t.Errorf("%s php.example /: %d %q", scheme, code, body)
			}
		}
	}
	// The access log is written in the kontor_vhost format. %p is the
	// canonical port (80 here: ServerName has no port), not the test's
	// listening port, so only the vhost is checked.
	logData, _ := os.ReadFile(s.opt.LogDir + "/web1.log")
	if !bytes.HasPrefix(logData, []byte("plain.example:")) || !bytes.Contains(logData, []byte(` 127.0.0.1 - - [`)) {
		t.Errorf("web1.log does not start lines with vhost:port:\n%s", logData)
	}
}
