package reconcile_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/apache"
	"kontor/internal/agent/bind"
	"kontor/internal/agent/fsys"
	"kontor/internal/agent/reconcile"
	"kontor/internal/agent/unix"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// The agent's performance figures (issue 4):
//
//	go test -run '^$' -bench 'Agent' -benchtime 1x ./internal/agent/reconcile/
//
// BenchmarkAgentRender renders the full desired state of 10,000 users with
// 30,000 domains (Apache vhosts and pools, BIND zones and the fragment) in
// memory, and reports the time and the peak RSS of the process.
// BenchmarkAgentFull runs a full reconcile of those users through the
// loop onto a sandbox root (loading the store, rendering, staging,
// writing Apache's and BIND's files), first from nothing and then with
// nothing to change.
// BenchmarkAgentLatency measures panel change → applied on disk for one
// user while 10,000 exist: the loop runs as in production (0.5 s poll),
// a reseller locks and unlocks a user, and the time until the store says
// applied is taken; p50 and p99 are reported. With KONTOR_BENCH_APACHE=1
// the staged set is also checked by the real `apache2 -t` (which parses all
// 10,000 vhosts on every batch).

const benchUsers = 10000

// benchState is a synthetic state: benchUsers users with three domains.
func benchState() agent.State {
	st := agent.State{Server: agent.Server{Hostname: "server1.example.net", SharedIPv4: []string{"192.0.2.10"},
		SharedIPv6: []string{"2001:db8::10"}, NameServers: []string{"ns1.example.net", "ns2.example.net"}, MailHost: "mail.example.net"}}
	for i := 1; i <= benchUsers; i++ {
		u := agent.User{ID: int64(i), Login: fmt.Sprintf("web%d", i), UID: 10000 + i, Home: fmt.Sprintf("/home/web%d", i),
			Services: panel.ServiceSet{panel.SvcPHP: 1, panel.SvcSSI: i % 2, panel.SvcCGI: i % 3 / 2}}
		for j := 0; j < 3; j++ {
			u.Domains = append(u.Domains, agent.Domain{Name: fmt.Sprintf("site%d-%d.example", i, j), DNS: true})
		}
		st.Users = append(st.Users, u)
	}
	return st
}

func maxRSSMB() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

func BenchmarkAgentRender(b *testing.B) {
	st := benchState()
	runtime.GC()
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for range b.N {
		files, errs := apache.RenderAll(st, apache.Options{})
		if len(errs) > 0 || len(files) < 2*benchUsers {
			b.Fatalf("apache: %d files, %v", len(files), errs)
		}
		zones, _, zerrs := bind.RenderAll(st, nil, day, bind.DefaultZoneDir)
		if len(zerrs) > 0 || len(zones) != 3*benchUsers+1 {
			b.Fatalf("bind: %d files, %v", len(zones), zerrs)
		}
	}
	b.ReportMetric(maxRSSMB(), "peak-RSS-MB")
}

// seedBench creates benchUsers users with three domains each in a store.
func seedBench(b *testing.B, st *store.Store) (panel.Actor, []int64) {
	ctx := context.Background()
	admin := panel.Actor{Role: panel.RoleAdmin}
	r, err := st.CreateReseller(ctx, admin, store.NewReseller{PasswordHash: "h", DefaultHash: "d",
		Limits:   panel.ResellerLimits{panel.ResUsers: {Value: -1, Mode: panel.ModeMaximum}},
		Services: panel.ServiceSet{panel.SvcPHP: 1}})
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for done := 0; done < benchUsers; {
		var batch []store.NewUser
		for i := 0; i < 1000 && done < benchUsers; i++ {
			done++
			nu := store.NewUser{ResellerID: r.ID, PasswordHash: "h", Services: panel.ServiceSet{panel.SvcPHP: 1}}
			for j := 0; j < 3; j++ {
				nu.Domains = append(nu.Domains, store.NewDomain{Name: fmt.Sprintf("site%d-%d.example", done, j), DNS: true})
			}
			batch = append(batch, nu)
		}
		res, err := st.CreateUsers(ctx, admin, r.ID, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range res {
			ids = append(ids, c.User.ID)
		}
	}
	return panel.Actor{ID: r.ID, Role: panel.RoleReseller, ResellerID: r.ID}, ids
}

// benchLoop builds a loop with the sandbox daemons (files only, no
// command) onto a fresh root; with KONTOR_BENCH_APACHE=1 the Apache daemon
// checks the staged set with the real apache2 -t.
func benchLoop(b *testing.B, st *store.Store) *reconcile.Loop {
	dir := b.TempDir()
	root, err := fsys.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	acc := unix.DefaultOptions()
	acc.Sandbox, acc.SSHDCheck, acc.SSHDReload = true, nil, nil
	acc.UIDMax = 10000 + store.DefaultUIDOffset + 9999
	ap := apache.DefaultDaemon()
	ap.Check, ap.Reload, ap.FPMBin, ap.FPMReload = nil, nil, "", nil
	if os.Getenv("KONTOR_BENCH_APACHE") == "1" {
		if _, err := exec.LookPath("apache2"); err != nil {
			b.Skip("apache2 not installed")
		}
		// The real checker on the staged set: a main config in the
		// sandbox that loads the modules and includes the entry file,
		// whose paths are target paths, i.e. under the sandbox root.
		ap.Opt = apache.Options{HomeBase: dir + "/home", GlobalFile: dir + "/etc/apache2/kontor/kontor.conf",
			SitesDir: dir + "/etc/apache2/kontor/sites", FPMDir: dir + "/etc/php/kontor/fpm", SocketDir: dir + "/run",
			SSLDir: dir + "/etc/kontor/ssl", WebDAVDir: dir + "/etc/kontor/webdav", LogDir: dir + "/log", LockedRoot: dir + "/locked"}
		ap.Entry, ap.StageDir = dir+"/etc/apache2/entry.conf", dir+"/stage/apache"
		main := dir + "/apache2.conf"
		conf := fmt.Sprintf("ServerRoot %s\nPidFile %[1]s/pid\nErrorLog %[1]s/error.log\nServerName localhost\nListen 127.0.0.1:1\n", dir)
		for _, m := range []string{"mpm_event", "authz_core", "authn_core", "authn_file", "auth_basic", "mime", "dir", "autoindex",
			"alias", "include", "cgid", "proxy", "proxy_fcgi", "ssl", "dav", "dav_fs", "setenvif"} {
			conf += fmt.Sprintf("LoadModule %s_module /usr/lib/apache2/modules/mod_%[1]s.so\n", m)
		}
		conf += "IncludeOptional " + ap.Entry + "\n"
		if err := os.WriteFile(main, []byte(conf), 0o644); err != nil {
			b.Fatal(err)
		}
		ap.Check = []string{"apache2", "-f", main, "-t", "-D", "KONTOR_STAGE"}
		root, _ = fsys.Open("/")
	}
	dns := bind.DefaultDaemon()
	dns.CheckZone, dns.CheckConf, dns.ReloadZone, dns.Reconfig = nil, nil, nil, nil
	if root.Dir() == "/" {
		dns.ZoneDir, dns.StageDir = dir+"/bind", dir+"/stage/bind"
		acc.HomeBase = dir + "/home"
	}
	// The accounts are left out: in the sandbox they are an emulation of
	// useradd that rewrites passwd per account (like the real one), which
	// measures the emulation, not the agent.
	_ = acc
	return &reconcile.Loop{Store: st, Daemons: []agent.Daemon{ap, dns},
		Env:     agent.Env{FS: root.Deferred(), Run: &fsys.DryRun{}, Now: time.Now},
		Desired: store.DesiredOptions{UIDBase: 10000, HomeBase: acc.HomeBase},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func openBench(b *testing.B) (*store.Store, *sql.DB) {
	path := filepath.Join(b.TempDir(), "k.db")
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	// A second, read-only handle for what the store has no method for
	// (the journal row an agent result covers).
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	return st, raw
}

func BenchmarkAgentFull(b *testing.B) {
	st, _ := openBench(b)
	seedBench(b, st)
	ctx := context.Background()
	for range b.N {
		loop := benchLoop(b, st)
		t0 := time.Now()
		rep, err := loop.Full(ctx)
		if err != nil || len(rep.Failed) > 0 {
			for id, f := range rep.Failed {
				b.Fatalf("%v: %d failed, e.g. #%d: %s", err, len(rep.Failed), id, f)
			}
			b.Fatal(err)
		}
		first := time.Since(t0)
		b.Logf("first full run: %v", rep.Took)
		t0 = time.Now()
		rep, err = loop.Full(ctx)
		if err != nil || len(rep.Failed) > 0 || slices.Contains(rep.Changed, "apache") {
			b.Fatalf("second run: %v %v %v", err, len(rep.Failed), rep.Changed)
		}
		b.Logf("unchanged full run: %v", rep.Took)
		b.ReportMetric(first.Seconds(), "first-full-s")
		b.ReportMetric(time.Since(t0).Seconds(), "unchanged-full-s")
	}
	b.ReportMetric(maxRSSMB(), "peak-RSS-MB")
}

func BenchmarkAgentLatency(b *testing.B) {
	st, raw := openBench(b)
	ra, ids := seedBench(b, st)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loop := benchLoop(b, st)
	if _, err := loop.Full(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := loop.Step(ctx); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	u := ids[len(ids)/2]
	var lat []time.Duration
	status := panel.StatusLocked
	const changes = 40
	for range b.N {
		for range changes {
			// Changes come at random moments relative to the poll.
			time.Sleep(time.Duration(time.Now().UnixNano()%300) * time.Millisecond)
			t0 := time.Now()
			if err := st.SetStatus(ctx, ra, u, status); err != nil {
				b.Fatal(err)
			}
			last, _ := st.LastChangeID(ctx)
			for {
				var state string
				var upTo int64
				if err := raw.QueryRowContext(ctx, `SELECT state, change_id FROM agent_status WHERE account_id = ?`, u).Scan(&state, &upTo); err != nil {
					b.Fatal(err)
				}
				if state == store.AgentApplied && upTo >= last {
					break
				}
				if time.Since(t0) > 30*time.Second {
					b.Fatal("not applied within 30 s")
				}
				time.Sleep(2 * time.Millisecond)
			}
			lat = append(lat, time.Since(t0))
			if status == panel.StatusLocked {
				status = panel.StatusEnabled
			} else {
				status = panel.StatusLocked
			}
		}
	}
	cancel()
	<-done
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
}
