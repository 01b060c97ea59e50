package bind

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
)

// fakeBind records commands; named-checkzone fails for zones in bad.
type fakeBind struct {
	bad  map[string]bool
	cmds []string
}

func (f *fakeBind) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	f.cmds = append(f.cmds, name+" "+strings.Join(args, " "))
	if name == "named-checkzone" && f.bad[args[len(args)-2]] {
		return []byte("zone " + args[len(args)-2] + "/IN: NS 'ns1.example.net' has no address records (A or AAAA)\nzone " + args[len(args)-2] + "/IN: not loaded due to errors."), errors.New("exit status 1")
	}
	return nil, nil
}

func (f *fakeBind) take() []string { c := f.cmds; f.cmds = nil; return c }

func TestDaemonZonesReloadsOnlyChanged(t *testing.T) {
	root, err := fsys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := &fakeBind{bad: map[string]bool{}}
	day := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	env := agent.Env{FS: root, Run: run, Now: func() time.Time { return day }, Plan: func(string) {}}
	d := DefaultDaemon()
	srv := agent.Server{Hostname: "server1.example.net", SharedIPv4: []string{"192.0.2.10"},
		NameServers: []string{"ns1.example.net", "ns2.example.net"}, MailHost: "mail.example.net"}
	u1 := agent.User{ID: 1, Login: "web1", Domains: []agent.Domain{{Name: "one.example", DNS: true}, {Name: "nodns.example"}}}
	u2 := agent.User{ID: 2, Login: "web2", Domains: []agent.Domain{{Name: "two.example", DNS: true}}}
	ctx := context.Background()

	r := d.Apply(ctx, env, agent.Batch{Server: srv, Users: []agent.User{u1, u2}, Full: true})
	if r.Err != nil || len(r.Failed) > 0 {
		t.Fatalf("%v %v", r.Err, r.Failed)
	}
	conf, _ := root.ReadFile("/var/lib/bind/kontor/named.conf.kontor")
	if !strings.Contains(string(conf), `zone "one.example"`) || strings.Contains(string(conf), "nodns") {
		t.Errorf("fragment:\n%s", conf)
	}
	if got := strings.Join(run.take(), "\n"); !strings.Contains(got, "rndc reconfig") || strings.Contains(got, "rndc reload") {
		t.Errorf("new zones: commands\n%s", got)
	}
	z1, _ := root.ReadFile("/var/lib/bind/kontor/one.example.zone")
	st1, _ := StateOf(z1)

	// Nothing changed: no command but the (skipped) checks.
	r = d.Apply(ctx, env, agent.Batch{Server: srv, Users: []agent.User{u1}})
	if r.Changed || len(run.take()) != 0 {
		t.Errorf("unchanged user re-applied")
	}

	// web1 gets an exclusive address: its zone changes, serial goes up,
	// only that zone is reloaded; web2's zone is not touched.
	u1.Domains[0].IP = "192.0.2.99"
	r = d.Apply(ctx, env, agent.Batch{Server: srv, Users: []agent.User{u1}})
	if r.Err != nil || len(r.Failed) > 0 {
		t.Fatalf("%v %v", r.Err, r.Failed)
	}
	z1b, _ := root.ReadFile("/var/lib/bind/kontor/one.example.zone")
	st1b, _ := StateOf(z1b)
	if st1b.Serial <= st1.Serial || !strings.Contains(string(z1b), "192.0.2.99") {
		t.Errorf("serial %d -> %d", st1.Serial, st1b.Serial)
	}
	if got := run.take(); len(got) != 2 || got[0] != "named-checkzone one.example "+hostPath(root, "/var/lib/kontor/stage/bind/one.example.zone") || got[1] != "rndc reload one.example" {
		t.Errorf("commands %q", got)
	}

	// A zone the checker refuses keeps the last good file.
	run.bad["one.example"] = true
	u1.Domains[0].IP = "192.0.2.100"
	r = d.Apply(ctx, env, agent.Batch{Server: srv, Users: []agent.User{u1}})
	if e := r.Failed[1]; e == nil || !strings.Contains(e.Error(), "not loaded due to errors") {
		t.Errorf("web1's failure = %v", e)
	}
	if z, _ := root.ReadFile("/var/lib/bind/kontor/one.example.zone"); string(z) != string(z1b) {
		t.Error("refused zone replaced the last good one")
	}
	run.take()

	// Deleting web2 removes its zone and declaration.
	r = d.Apply(ctx, env, agent.Batch{Server: srv, Gone: []agent.Gone{{ID: 2, Login: "web2"}}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if _, err := root.ReadFile("/var/lib/bind/kontor/two.example.zone"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("zone of deleted user: %v", err)
	}
	conf, _ = root.ReadFile("/var/lib/bind/kontor/named.conf.kontor")
	if strings.Contains(string(conf), "two.example") || !strings.Contains(string(conf), "one.example") {
		t.Errorf("fragment after delete:\n%s", conf)
	}
}

// The daemon keeps the fragment it rendered between batches and renders
// again only when an owner changes, but a fragment on disk that differs
// from what it rendered (an admin's edit) is rendered again and replaced
// at the next batch, with a reconfig.
func TestFragmentMemoRepairsAnEditedFragment(t *testing.T) {
	root, err := fsys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := &fakeBind{bad: map[string]bool{}}
	env := agent.Env{FS: root, Run: run, Now: time.Now, Plan: func(string) {}}
	d := DefaultDaemon()
	srv := agent.Server{Hostname: "server1.example.net", SharedIPv4: []string{"192.0.2.10"},
		NameServers: []string{"ns1.example.net", "ns2.example.net"}, MailHost: "mail.example.net"}
	u1 := agent.User{ID: 1, Login: "web1", Domains: []agent.Domain{{Name: "one.example", DNS: true}}}
	u2 := agent.User{ID: 2, Login: "web2", Domains: []agent.Domain{{Name: "two.example", DNS: true}}}
	ctx := context.Background()
	if r := d.Apply(ctx, env, agent.Batch{Server: srv, Users: []agent.User{u1, u2}, Full: true}); r.Err != nil || len(r.Failed) > 0 {
		t.Fatalf("%v %v", r.Err, r.Failed)
	}
	const path = "/var/lib/bind/kontor/named.conf.kontor"
	good, _ := root.ReadFile(path)
	run.take()
	if r := d.Apply(ctx, env, agent.Batch{Server: srv, Users: []agent.User{u1}}); r.Changed || len(run.take()) != 0 {
		t.Fatalf("unchanged batch: %+v", r)
	}
	edited := strings.Replace(string(good), `zone "two.example"`, `zone "two.example" // edited`+"\n"+`zone "two.example"`, 1)
	if _, err := root.WriteFile(path, []byte(edited), 0o644, 0, 0); err != nil {
		t.Fatal(err)
	}
	r := d.Apply(ctx, env, agent.Batch{Server: srv, Users: []agent.User{u1}})
	if r.Err != nil || !r.Changed {
		t.Fatalf("edited fragment: %+v", r)
	}
	if conf, _ := root.ReadFile(path); string(conf) != string(good) {
		t.Errorf("fragment after the batch:\n%s\nwant\n%s", conf, good)
	}
	if got := strings.Join(run.take(), "\n"); !strings.Contains(got, "rndc reconfig") {
		t.Errorf("commands %q, want a reconfig", got)
	}
}
