package reconcile_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"kontor/internal/agent"
	"kontor/internal/agent/apache"
	"kontor/internal/agent/apache/apachetest"
	"kontor/internal/agent/bind"
	"kontor/internal/agent/fsys"
	"kontor/internal/agent/mysql"
	"kontor/internal/agent/reconcile"
	"kontor/internal/agent/unix"
	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
	"kontor/internal/testenv"
)

// TestSystem is the agent end to end on this machine: a store, the panel's
// service layer making changes, the reconcile loop, and the real daemons —
// real Unix accounts (useradd/userdel), a real Apache with PHP-FPM serving
// the generated vhosts, a real named answering dig, a real MariaDB. Every
// check is made from outside, the way a customer sees it.
func TestSystem(t *testing.T) {
	for _, c := range []struct{ what, bin string }{
		{"useradd (Debian package passwd)", "useradd"}, {"Apache (Debian package apache2)", "apache2"},
		{"named (Debian package bind9)", "named"}, {"rndc (Debian package bind9)", "rndc"},
		{"named-checkzone (Debian package bind9-utils)", "named-checkzone"}, {"dig (Debian package bind9-dnsutils)", "dig"},
		{"php-fpm (Debian package php-fpm)", "php-fpm8.2"}, {"pkill (Debian package procps)", "pkill"},
	} {
		if _, err := exec.LookPath(c.bin); err != nil {
			testenv.Need(t, c.what)
		}
	}
	if os.Geteuid() != 0 {
		testenv.Need(t, "root (the agent creates system accounts)")
	}
	if !testenv.Integration() {
		testenv.Need(t, "a real Apache, PHP-FPM, named, MariaDB and system accounts (useradd) as root")
	}
	maria := testenv.MariaDB(t)
	ctx := context.Background()

	// Everything the daemons read or write lives in one temp dir that the
	// web server's workers can traverse.
	dir, err := os.MkdirTemp("", "kontor-system-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(dir + "/log/apache/*.error.log")
			for _, l := range logs {
				if b, _ := os.ReadFile(l); len(b) > 0 {
					t.Logf("%s:\n%s", filepath.Base(l), b)
				}
			}
		}
		os.RemoveAll(dir)
	})
	must(t, os.Chmod(dir, 0o755))
	for _, d := range []string{"run", "log", "home", "locked", "fallback", "etc"} {
		must(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	// Apache's workers (www-data) keep the WebDAV lock database
	// (DavLockDB) in run/; root stays its owner: named, which drops
	// CAP_DAC_OVERRIDE, writes its pid file there too.
	if out, err := exec.Command("chgrp", "www-data", filepath.Join(dir, "run")).CombinedOutput(); err != nil {
		t.Fatalf("chgrp run: %v: %s", err, out)
	}
	must(t, os.Chmod(filepath.Join(dir, "run"), 0o775))

	// Logins that cannot collide with accounts on this machine: the store
	// numbers from a random high value, and the uid base maps them into
	// a free uid range.
	st, a := openWorldStore(t, dir)
	n := 70000000 + randInt(t, 9000000)
	setCounters(t, filepath.Join(dir, "k.db"), n)
	uidFree := 45000 + randInt(t, 10000)
	desired := store.DesiredOptions{UIDBase: uidFree - n, HomeBase: dir + "/home"}

	admin := panel.Actor{Role: panel.RoleAdmin}
	must(t, a.SaveSettings(ctx, admin, mustSettings(t, a, func(s *app.Settings) {
		s.ServerName = "server1.kontor.test"
		s.DNSNameServers = []string{"ns1.kontor.test", "ns2.kontor.test"}
	})))
	res, _, err := a.CreateReseller(ctx, admin, app.ResellerInput{Password: "resellerpw1", Name: "R",
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: 5, Mode: panel.ModeHard}, panel.ResMySQL: {Value: 5, Mode: panel.ModeHard},
			panel.ResWildcard: {Value: 5, Mode: panel.ModeHard}},
		Services: panel.ServiceSet{panel.SvcPHP: 1, panel.SvcDirListing: 1, panel.SvcCGI: 1}})
	must(t, err)
	ra := panel.Actor{ID: res.ID, Role: panel.RoleReseller, ResellerID: res.ID, Login: res.Login}
	must(t, st.SetIndexSetup(ctx, ra, res.ID, store.IndexSetup{Name: "index.html", HTML: "<h1>Welcome to ##user##</h1>\n"}))
	tag := strconv.Itoa(n)
	alpha, beta := "alpha"+tag+".test", "beta"+tag+".test"
	cu1, _, err := a.CreateUser(ctx, ra, app.UserInput{Password: "userpw-one1", Services: panel.ServiceSet{panel.SvcPHP: 1},
		Limits:  panel.Limits{panel.ResMySQL: 1},
		Domains: []store.NewDomain{{Name: alpha, DNS: true}}})
	must(t, err)
	cu2, _, err := a.CreateUser(ctx, ra, app.UserInput{Password: "userpw-two2", Services: panel.ServiceSet{panel.SvcDirListing: 1},
		Domains: []store.NewDomain{{Name: beta, DNS: true}}})
	must(t, err)
	u1, u2 := cu1.User, cu2.User
	// Every account the agent may create is removed at the end, whatever
	// happens in between.
	t.Cleanup(func() {
		for _, l := range []string{u1.Login, u2.Login, panel.DefaultUserLogin(res.Login)} {
			if exec.Command("id", l).Run() == nil {
				exec.Command("userdel", l).Run()
				exec.Command("groupdel", l).Run()
			}
		}
	})

	// The daemons, started before the agent's first run, with empty
	// configurations: Apache includes the agent's entry file optionally,
	// PHP-FPM has one placeholder pool.
	webPort, sslPort, dnsPort, rndcPort := apachetest.FreePort(t), apachetest.FreePort(t), apachetest.FreePort(t), apachetest.FreePort(t)
	opt := apache.Options{HomeBase: dir + "/home", GlobalFile: dir + "/etc/apache/kontor.conf", SitesDir: dir + "/etc/apache/sites",
		FPMDir: dir + "/etc/fpm", SocketDir: dir + "/run", SSLDir: dir + "/etc/ssl", WebDAVDir: dir + "/etc/webdav",
		LogDir: dir + "/log/apache", LockedRoot: dir + "/locked", Port: webPort, SSLPort: sslPort}
	entry := dir + "/etc/apache-entry.conf"
	mainConf := apachetest.WriteMain(t, apachetest.Main{Root: dir, Ports: []int{webPort, sslPort}, FallbackRoot: dir + "/fallback", Include: entry})
	patch(t, mainConf, "Include "+entry, "IncludeOptional "+entry)
	fpmConf := dir + "/etc/php-fpm.conf"
	must(t, os.WriteFile(fpmConf, []byte(fmt.Sprintf("[global]\npid = %[1]s/run/php-fpm.pid\nerror_log = %[1]s/log/php-fpm.log\n"+
		"include = %[1]s/etc/fpm/*.conf\n[placeholder]\nuser = www-data\nlisten = %[1]s/run/placeholder.sock\npm = ondemand\npm.max_children = 1\n", dir)), 0o644))
	must(t, os.MkdirAll(dir+"/etc/fpm", 0o755))
	fpmExited := apachetest.StartDaemon(t, dir+"/log/php-fpm.out", "php-fpm8.2", "-F", "-y", fpmConf, "-p", dir)
	apachetest.WaitFile(t, dir+"/run/placeholder.sock", fpmExited, "php-fpm")
	apExited := apachetest.StartDaemon(t, dir+"/log/apache2.out", apachetest.Bin(t), "-f", mainConf, "-DFOREGROUND")
	apachetest.WaitPort(t, fmt.Sprintf("127.0.0.1:%d", webPort), apExited, "apache2")
	rndcConf := startNamed(t, dir, dnsPort, rndcPort)

	ap := apache.Daemon{Opt: opt, Entry: entry, StageDir: dir + "/stage/apache",
		Check:  []string{"apache2", "-f", mainConf, "-t", "-D", "KONTOR_STAGE"},
		Reload: []string{"apache2", "-f", mainConf, "-k", "graceful"},
		FPMBin: "php-fpm8.2", FPMReload: []string{"pkill", "-USR2", "-F", dir + "/run/php-fpm.pid"}}
	dns := bind.Daemon{ZoneDir: dir + "/bind", StageDir: dir + "/stage/bind",
		CheckZone: []string{"named-checkzone", "-i", "local"}, CheckConf: []string{"named-checkconf"},
		ReloadZone: []string{"rndc", "-c", rndcConf, "reload"}, Reconfig: []string{"rndc", "-c", rndcConf, "reconfig"}}
	acc := unix.DefaultOptions()
	acc.HomeBase, acc.SSHDConf, acc.SSHDCheck, acc.SSHDReload = dir+"/home", dir+"/etc/ssh-kontor.conf", nil, nil
	acc.UIDMin, acc.UIDMax = uidFree-1, uidFree+store.DefaultUIDOffset+100
	my := mysql.New(mysql.Options{DSN: maria.RootDSN})
	t.Cleanup(func() { my.Close() })
	root, err := fsys.Open("/")
	must(t, err)
	faulty := &faultFS{FS: root}
	loop := &reconcile.Loop{Store: st, Desired: desired,
		Daemons: []agent.Daemon{unix.Accounts{Opt: acc}, ap, dns, my, unix.Removal{Opt: acc}},
		Env:     agent.Env{FS: faulty, Run: fsys.ExecRunner{}, Now: time.Now}}
	// The default account of the reseller is an account like any other.

	step := func(what string) reconcile.Report {
		t.Helper()
		rep, err := loop.Step(ctx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(rep.Failed) > 0 && what != "fault" {
			t.Errorf("%s: failed %v", what, rep.Failed)
		}
		return rep
	}
	rep, err := loop.Full(ctx)
	must(t, err)
	if len(rep.Failed) > 0 {
		t.Fatalf("first full run failed: %v", rep.Failed)
	}
	step("journal after the full run")

	t.Run("accounts and homes", func(t *testing.T) {
		out, err := exec.Command("id", u1.Login).CombinedOutput()
		if err != nil || !strings.Contains(string(out), fmt.Sprintf("uid=%d(%s)", desired.UIDBase+int(u1.Number), u1.Login)) {
			t.Errorf("id %s: %v %s", u1.Login, err, out)
		}
		for _, d := range []string{"html", "files", "log"} {
			fi, err := os.Stat(filepath.Join(dir, "home", u1.Login, d))
			if err != nil || !fi.IsDir() {
				t.Errorf("%s/%s: %v", u1.Login, d, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "home", u1.Login, "cgi-bin")); !os.IsNotExist(err) {
			t.Errorf("cgi-bin without CGI: %v", err)
		}
	})

	html := func(u panel.User, name, data string) {
		t.Helper()
		p := filepath.Join(dir, "home", u.Login, "html", name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(data), 0o644))
		must(t, os.Chown(p, desired.UIDBase+int(u.Number), desired.UIDBase+int(u.Number)))
	}
	get := func(host, path string) (int, string) {
		t.Helper()
		return apachetest.Get(t, "http", webPort, host, path)
	}
	t.Run("sites", func(t *testing.T) {
		if code, body := get(alpha, "/"); code != 200 || !strings.Contains(body, "Welcome to "+u1.Login) {
			t.Errorf("%s /: %d %q", alpha, code, body)
		}
		if code, body := get("www."+beta, "/"); code != 200 || !strings.Contains(body, "Welcome to "+u2.Login) {
			t.Errorf("www.%s /: %d %q", beta, code, body)
		}
		html(u1, "who.php", "<?php echo 'PHP runs as ', posix_getpwuid(posix_geteuid())['name'];\n")
		html(u2, "who.php", "<?php echo 'PHP runs as ', posix_getpwuid(posix_geteuid())['name'];\n")
		if code, body := get(alpha, "/who.php"); code != 200 || body != "PHP runs as "+u1.Login {
			t.Errorf("PHP on: %d %q", code, body)
		}
		if code, body := get(beta, "/who.php"); code == 200 || strings.Contains(body, "PHP runs") || strings.Contains(body, "<?php") {
			t.Errorf("PHP off: %d %q", code, body)
		}
		html(u1, "sub/a.txt", "a\n")
		html(u2, "sub/b.txt", "b\n")
		if code, body := get(beta, "/sub/"); code != 200 || !strings.Contains(body, "b.txt") {
			t.Errorf("listing on: %d %q", code, body)
		}
		if code, body := get(alpha, "/sub/"); code == 200 || strings.Contains(body, "a.txt") {
			t.Errorf("listing off: %d %q", code, body)
		}
	})

	t.Run("dns", func(t *testing.T) {
		if got := dig(t, dnsPort, alpha, "A"); got != "127.0.0.1" {
			t.Errorf("dig %s A = %q", alpha, got)
		}
		s1 := serial(t, dnsPort, alpha)
		// The wildcard changes the zone: a new serial, reloaded.
		_, err := a.ChangePlan(ctx, ra, u1.ID, panel.Limits{panel.ResMySQL: 1, panel.ResWildcard: 1}, panel.ServiceSet{panel.SvcPHP: 1})
		must(t, err)
		step("wildcard")
		if s2 := serial(t, dnsPort, alpha); s2 <= s1 {
			t.Errorf("serial %d -> %d after a change", s1, s2)
		}
		if got := dig(t, dnsPort, "anything."+alpha, "A"); got != "127.0.0.1" {
			t.Errorf("wildcard record: %q", got)
		}
	})

	t.Run("mysql", func(t *testing.T) {
		db, err := sql.Open("mysql", maria.TCPDSN(u1.Login, "userpw-one1", u1.Login+"_db1"))
		must(t, err)
		defer db.Close()
		if _, err := db.ExecContext(ctx, "CREATE TABLE t (x INT)"); err != nil {
			t.Errorf("the user's login cannot use its database: %v", err)
		}
	})

	t.Run("lock and unlock", func(t *testing.T) {
		must(t, a.SetUserStatus(ctx, ra, u1.ID, panel.StatusLocked))
		step("lock")
		if code, body := get(alpha, "/"); code != 200 || !strings.Contains(body, "Site unavailable") || strings.Contains(body, u1.Login) {
			t.Errorf("locked: %d %q", code, body)
		}
		must(t, a.SetUserStatus(ctx, ra, u1.ID, panel.StatusEnabled))
		step("unlock")
		if code, body := get(alpha, "/"); code != 200 || !strings.Contains(body, "Welcome to "+u1.Login) {
			t.Errorf("unlocked: %d %q", code, body)
		}
	})

	t.Run("webdav", func(t *testing.T) {
		fp, err := a.SetFrontPage(ctx, ra, u2.ID, true)
		must(t, err)
		step("frontpage")
		req, _ := http.NewRequest("PUT", fmt.Sprintf("http://127.0.0.1:%d/webdav/put.html", webPort), strings.NewReader("<p>published</p>\n"))
		req.Host = beta
		req.SetBasicAuth(fp.Login, fp.Password)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != 201 && resp.StatusCode != 204 {
			t.Fatalf("PUT with the issued login: %d", resp.StatusCode)
		}
		if code, body := get(beta, "/put.html"); code != 200 || !strings.Contains(body, "published") {
			t.Errorf("published page: %d %q", code, body)
		}
		req.SetBasicAuth(fp.Login, "wrong-password")
		req.Body, req.ContentLength = io.NopCloser(strings.NewReader("x")), 1
		resp, err = http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("PUT with a wrong password: %d", resp.StatusCode)
		}
	})

	t.Run("one bad vhost keeps the others serving", func(t *testing.T) {
		// Apache refuses u2's staged vhost (as for a broken file); u1's
		// change in the same batch still goes live.
		faulty.corrupt = "/stage/apache" + opt.SitesDir + "/" + u2.Login + ".conf"
		defer func() { faulty.corrupt = "" }()
		gamma, delta := "gamma"+tag+".test", "delta"+tag+".test"
		faulty.marker = delta
		_, err := st.AddDomain(ctx, ra, u1.ID, store.NewDomain{Name: gamma, DNS: true})
		must(t, err)
		_, err = st.AddDomain(ctx, ra, u2.ID, store.NewDomain{Name: delta, DNS: true})
		must(t, err)
		rep := step("fault")
		if f := rep.Failed[u2.ID]; !strings.Contains(f, "BogusDirective") || !strings.Contains(f, u2.Login) {
			t.Errorf("u2's failure: %q", f)
		}
		if _, ok := rep.Failed[u1.ID]; ok {
			t.Errorf("u1 failed too: %v", rep.Failed[u1.ID])
		}
		if code, body := get(gamma, "/"); code != 200 || !strings.Contains(body, "Welcome to "+u1.Login) {
			t.Errorf("u1's new domain: %d %q", code, body)
		}
		if code, body := get(beta, "/"); code != 200 || !strings.Contains(body, "Welcome to "+u2.Login) {
			t.Errorf("u2's old site stopped serving: %d %q", code, body)
		}
		msgs, _, err := st.Messages(ctx, ra, store.MessageFilter{Kind: panel.MsgError})
		must(t, err)
		found := false
		for _, m := range msgs {
			found = found || (m.Subject == u2.Login && strings.Contains(strings.Join(m.Args, " "), "BogusDirective"))
		}
		if !found {
			t.Errorf("no message for the reseller naming %s and Apache's text: %+v", u2.Login, msgs)
		}
	})

	t.Run("delete", func(t *testing.T) {
		must(t, a.DeleteUser(ctx, ra, u2.ID))
		must(t, a.DeleteUser(ctx, ra, u1.ID))
		step("delete")
		for _, u := range []panel.User{u1, u2} {
			if exec.Command("id", u.Login).Run() == nil {
				t.Errorf("account %s still exists", u.Login)
			}
			if _, err := os.Stat(filepath.Join(dir, "home", u.Login)); !os.IsNotExist(err) {
				t.Errorf("home of %s: %v", u.Login, err)
			}
			if _, err := os.Stat(filepath.Join(opt.SitesDir, u.Login+".conf")); !os.IsNotExist(err) {
				t.Errorf("vhost of %s: %v", u.Login, err)
			}
		}
		if got := dig(t, dnsPort, alpha, "A"); got != "" {
			t.Errorf("zone of a deleted user still answers: %q", got)
		}
		db, err := sql.Open("mysql", maria.TCPDSN(u1.Login, "userpw-one1", ""))
		must(t, err)
		defer db.Close()
		if err := db.PingContext(ctx); err == nil {
			t.Error("the deleted user's database login still works")
		}
	})
}

// faultFS appends an invalid directive to the writes of one path whose
// content has the marker (the new version; restoring the old one is not
// corrupted).
type faultFS struct {
	agent.FS
	corrupt, marker string
}

func (f *faultFS) WriteFile(p string, data []byte, mode os.FileMode, uid, gid int) (bool, error) {
	if f.corrupt != "" && strings.HasSuffix(p, f.corrupt) && bytes.Contains(data, []byte(f.marker)) {
		data = append(bytes.Clone(data), "BogusDirective on\n"...)
	}
	return f.FS.WriteFile(p, data, mode, uid, gid)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func randInt(t testing.TB, n int64) int {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	must(t, err)
	return int(v.Int64())
}

func patch(t testing.TB, path, old, new string) {
	b, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644))
}

func openWorldStore(t *testing.T, dir string) (*store.Store, *app.App) {
	st, err := store.Open(context.Background(), filepath.Join(dir, "k.db"), store.Options{})
	must(t, err)
	t.Cleanup(func() { st.Close() })
	must(t, st.Migrate(context.Background()))
	a := app.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.Hasher = auth.Params{Memory: 1024, Time: 1, Threads: 1, BcryptCost: 4}
	return st, a
}

// setCounters starts the user and reseller numbers at n.
func setCounters(t *testing.T, dbPath string, n int) {
	db, err := sql.Open("sqlite", dbPath)
	must(t, err)
	defer db.Close()
	_, err = db.Exec(`UPDATE counters SET value = ? WHERE name IN ('user', 'reseller')`, n)
	must(t, err)
}

func mustSettings(t *testing.T, a *app.App, f func(*app.Settings)) app.Settings {
	s, err := a.Settings(context.Background())
	must(t, err)
	f(&s)
	return s
}

// startNamed starts named with an rndc control channel; it returns the
// rndc configuration file.
func startNamed(t *testing.T, dir string, port, ctlPort int) string {
	secret := make([]byte, 32)
	rand.Read(secret)
	key := fmt.Sprintf("key \"kontor-test\" { algorithm hmac-sha256; secret \"%s\"; };\n", base64.StdEncoding.EncodeToString(secret))
	must(t, os.MkdirAll(dir+"/bind", 0o755))
	conf := dir + "/etc/named.conf"
	must(t, os.WriteFile(conf, []byte(key+fmt.Sprintf(`options {
	directory "%[1]s/bind";
	pid-file "%[1]s/run/named.pid";
	listen-on port %[2]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
};
controls { inet 127.0.0.1 port %[3]d allow { 127.0.0.1; } keys { "kontor-test"; }; };
include "%[1]s/etc/named-kontor.conf";
`, dir, port, ctlPort)), 0o644))
	// The agent's fragment does not exist before its first run.
	must(t, os.WriteFile(dir+"/etc/named-kontor.conf", []byte(fmt.Sprintf("include \"%s/bind/%s\";\n", dir, bind.NamedConfFile)), 0o644))
	must(t, os.WriteFile(dir+"/bind/"+bind.NamedConfFile, nil, 0o644))
	rndc := dir + "/etc/rndc.conf"
	must(t, os.WriteFile(rndc, []byte(key+fmt.Sprintf("options { default-key \"kontor-test\"; default-server 127.0.0.1; default-port %d; };\n", ctlPort)), 0o644))
	exited := apachetest.StartDaemon(t, dir+"/log/named.out", "named", "-g", "-c", conf, "-p", strconv.Itoa(port), "-n", "1")
	apachetest.WaitPort(t, fmt.Sprintf("127.0.0.1:%d", ctlPort), exited, "named")
	return rndc
}

// dig asks the test named for name's records of type typ; "" when none.
func dig(t *testing.T, port int, name, typ string) string {
	t.Helper()
	out, err := exec.Command("dig", "@127.0.0.1", "-p", strconv.Itoa(port), "+short", "+time=2", "+tries=2", name, typ).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %s %s: %v %s", name, typ, err, out)
	}
	return strings.TrimSpace(string(out))
}

func serial(t *testing.T, port int, zone string) uint64 {
	t.Helper()
	f := strings.Fields(dig(t, port, zone, "SOA"))
	if len(f) < 3 {
		t.Fatalf("SOA of %s: %q", zone, f)
	}
	v, err := strconv.ParseUint(f[2], 10, 32)
	must(t, err)
	return v
}
