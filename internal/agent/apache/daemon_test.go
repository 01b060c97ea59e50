package apache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/panel"
)

// fakeApache stands in for apache2ctl in the unit tests: the check fails,
// naming the staged file as Apache does, when a staged vhost mentions a
// domain in bad; every call is recorded.
type fakeApache struct {
	root *fsys.Root
	bad  []string
	mu   sync.Mutex
	cmds []string
}

func (f *fakeApache) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	f.cmds = append(f.cmds, name+" "+strings.Join(args, " "))
	f.mu.Unlock()
	if name != "apache2ctl" || len(args) == 0 || args[0] != "-t" {
		return nil, nil
	}
	dir := "/var/lib/kontor/stage/apache/etc/apache2/kontor/sites"
	names, _ := f.root.ReadDir(dir)
	for _, n := range names {
		b, _ := f.root.ReadFile(dir + "/" + n)
		for _, bad := range f.bad {
			if strings.Contains(string(b), bad) {
				return []byte("AH00526: Syntax error on line 7 of " + dir + "/" + n + ":\nInvalid command 'Bogus'\n"), errors.New("exit status 1")
			}
		}
	}
	return []byte("Syntax OK\n"), nil
}

func (f *fakeApache) calls(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.cmds {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func daemonUser(id int64, login, domain string) agent.User {
	return agent.User{ID: id, Login: login, UID: 10000 + int(id), Home: "/home/" + login,
		Services: panel.ServiceSet{panel.SvcPHP: 1},
		Domains:  []agent.Domain{{Name: domain, DNS: true}}}
}

func newDaemonEnv(t *testing.T) (*fsys.Root, *fakeApache, agent.Env, Daemon) {
	t.Helper()
	root, err := fsys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := &fakeApache{root: root}
	d := DefaultDaemon()
	d.FPMBin = "" // no php-fpm -t without real accounts
	env := agent.Env{FS: root, Run: run, Now: time.Now, Plan: func(string) {}}
	return root, run, env, d
}

var daemonServer = agent.Server{Hostname: "server1.example.net", SharedIPv4: []string{"192.0.2.10"},
	NameServers: []string{"ns1.example.net", "ns2.example.net"}, MailHost: "mail.example.net"}

func TestDaemonAppliesStagesAndReloadsOnce(t *testing.T) {
	root, run, env, d := newDaemonEnv(t)
	users := []agent.User{daemonUser(1, "web1", "one.example"), daemonUser(2, "web2", "two.example")}
	r := d.Apply(context.Background(), env, agent.Batch{Server: daemonServer, Users: users, Full: true})
	if r.Err != nil || len(r.Failed) > 0 {
		t.Fatalf("apply: %v %v", r.Err, r.Failed)
	}
	for _, p := range []string{"/etc/apache2/kontor/sites/web1.conf", "/etc/apache2/kontor/sites/web2.conf",
		"/etc/php/kontor/fpm/web1.conf", "/var/lib/kontor/stage/apache/etc/apache2/kontor/sites/web1.conf",
		"/etc/apache2/conf-enabled/kontor.conf", "/etc/apache2/kontor/kontor.conf"} {
		if _, err := root.ReadFile(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	entry, _ := root.ReadFile("/etc/apache2/conf-enabled/kontor.conf")
	if !strings.Contains(string(entry), "<IfDefine KONTOR_STAGE>\n\tInclude /var/lib/kontor/stage/apache/etc/apache2/kontor/kontor.conf") {
		t.Errorf("entry file:\n%s", entry)
	}
	if run.calls("apache2ctl -t") != 1 || run.calls("apache2ctl graceful") != 1 || run.calls("systemctl reload php8.2-fpm") != 1 {
		t.Errorf("commands: %q", run.cmds)
	}
	// Nothing changed: checked again, but no reload.
	r = d.Apply(context.Background(), env, agent.Batch{Server: daemonServer, Users: users, Full: true})
	if r.Changed || run.calls("apache2ctl graceful") != 1 {
		t.Errorf("second apply changed=%v, commands %q", r.Changed, run.cmds)
	}
}

func TestDaemonKeepsLastGoodForBadUser(t *testing.T) {
	root, run, env, d := newDaemonEnv(t)
	users := []agent.User{daemonUser(1, "web1", "one.example"), daemonUser(2, "web2", "two.example")}
	if r := d.Apply(context.Background(), env, agent.Batch{Server: daemonServer, Users: users}); r.Err != nil {
		t.Fatal(r.Err)
	}
	good2, _ := root.ReadFile("/etc/apache2/kontor/sites/web2.conf")

	// web2 gets a domain Apache refuses (as the fake says); web1 changes too.
	run.bad = []string{"broken.example"}
	users[0].Domains = append(users[0].Domains, agent.Domain{Name: "extra.example"})
	users[1].Domains = append(users[1].Domains, agent.Domain{Name: "broken.example"})
	r := d.Apply(context.Background(), env, agent.Batch{Server: daemonServer, Users: users})
	if r.Err != nil {
		t.Fatalf("one bad user failed the batch: %v", r.Err)
	}
	if err := r.Failed[2]; err == nil || !strings.Contains(err.Error(), "Invalid command 'Bogus'") || !strings.Contains(err.Error(), "web2.conf") {
		t.Errorf("web2's error = %v", err)
	}
	if r.Failed[1] != nil {
		t.Errorf("web1 failed: %v", r.Failed[1])
	}
	now2, _ := root.ReadFile("/etc/apache2/kontor/sites/web2.conf")
	if string(now2) != string(good2) {
		t.Error("web2's live vhost changed although its check failed")
	}
	staged2, _ := root.ReadFile("/var/lib/kontor/stage/apache/etc/apache2/kontor/sites/web2.conf")
	if strings.Contains(string(staged2), "broken.example") {
		t.Error("the bad staged vhost stayed in the staging set")
	}
	now1, _ := root.ReadFile("/etc/apache2/kontor/sites/web1.conf")
	if !strings.Contains(string(now1), "extra.example") {
		t.Error("web1's change was held back by web2")
	}
	if run.calls("apache2ctl -t") != 3 { // first batch, failing check, check without web2
		t.Errorf("checks: %q", run.cmds)
	}
}

func TestDaemonRemovesGoneAndStrays(t *testing.T) {
	root, run, env, d := newDaemonEnv(t)
	users := []agent.User{daemonUser(1, "web1", "one.example"), daemonUser(2, "web2", "two.example")}
	if r := d.Apply(context.Background(), env, agent.Batch{Server: daemonServer, Users: users}); r.Err != nil {
		t.Fatal(r.Err)
	}
	r := d.Apply(context.Background(), env, agent.Batch{Server: daemonServer, Gone: []agent.Gone{{ID: 2, Login: "web2"}}})
	if r.Err != nil || !r.Changed {
		t.Fatalf("gone: %v changed=%v", r.Err, r.Changed)
	}
	for _, p := range []string{"/etc/apache2/kontor/sites/web2.conf", "/etc/php/kontor/fpm/web2.conf",
		"/var/lib/kontor/stage/apache/etc/apache2/kontor/sites/web2.conf"} {
		if _, err := root.ReadFile(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	// A file left by a crash (or a user deleted while the agent was down)
	// goes on the next full run; a file that is not a login stays.
	host := func(p string) string { h, _ := root.HostPath(p); return h }
	os.WriteFile(host("/etc/apache2/kontor/sites/web9.conf"), []byte("# stray\n"), 0o644)
	os.WriteFile(host("/etc/apache2/kontor/sites/README"), []byte("x\n"), 0o644)
	r = d.Apply(context.Background(), env, agent.Batch{Server: daemonServer, Users: users[:1], Full: true})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if _, err := os.Stat(host("/etc/apache2/kontor/sites/web9.conf")); !errors.Is(err, os.ErrNotExist) {
		t.Error("stray vhost survived a full run")
	}
	if _, err := os.Stat(host("/etc/apache2/kontor/sites/README")); err != nil {
		t.Error("a file that is no login's was removed")
	}
	if run.calls("apache2ctl graceful") < 2 {
		t.Errorf("no reload after removal: %q", run.cmds)
	}
}

func TestCheckKeyPairRefusesBrokenCertificate(t *testing.T) {
	st := DefaultDaemon().stageOptions(DefaultOptions())
	files := Files{
		st.SSLDir + "/web1/cert.pem": {Data: []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")},
		st.SSLDir + "/web1/key.pem":  {Data: []byte("garbage")},
	}
	err := checkKeyPair(files, st, "web1")
	if err == nil || !strings.Contains(err.Error(), "web1") || !strings.Contains(err.Error(), "cert.pem") {
		t.Errorf("checkKeyPair = %v", err)
	}
	if err := checkKeyPair(Files{}, st, "web1"); err != nil {
		t.Errorf("no certificate: %v", err)
	}
}

func TestDaemonDryRunChangesNothing(t *testing.T) {
	root, _, _, d := newDaemonEnv(t)
	rec := fsys.NewRecorder(root)
	var dry fsys.DryRun
	env := agent.Env{FS: rec, Run: &dry, DryRun: true, Now: time.Now, Plan: func(string) {}}
	r := d.Apply(context.Background(), env, agent.Batch{Server: daemonServer, Users: []agent.User{daemonUser(1, "web1", "one.example")}, Full: true})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	diff := rec.Diff()
	if !strings.Contains(diff, "+++ b/etc/apache2/kontor/sites/web1.conf") || !strings.Contains(diff, "+\tServerName one.example") {
		t.Errorf("diff:\n%s", diff)
	}
	if !strings.Contains(dry.String(), `"apache2ctl" "graceful"`) {
		t.Errorf("commands:\n%s", dry.String())
	}
	entries, _ := os.ReadDir(root.Dir())
	if len(entries) != 0 {
		var names []string
		filepath.WalkDir(root.Dir(), func(p string, _ os.DirEntry, _ error) error { names = append(names, p); return nil })
		t.Errorf("dry run wrote: %v", names)
	}
}
