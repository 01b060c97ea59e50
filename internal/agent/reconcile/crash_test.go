package reconcile_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/apache"
	"kontor/internal/agent/bind"
	"kontor/internal/agent/cron"
	"kontor/internal/agent/fsys"
	"kontor/internal/agent/reconcile"
	"kontor/internal/agent/unix"
	"kontor/internal/store"
)

// killFS stops the agent after n writes, the way a kill -9 would: the
// write that hits the limit cancels the run's context and fails, and
// nothing after it happens.
type killFS struct {
	agent.FS
	left   atomic.Int64
	cancel context.CancelFunc
}

var errKilled = errors.New("killed")

func (k *killFS) hit() error {
	if k.left.Add(-1) < 0 {
		k.cancel()
		return errKilled
	}
	return nil
}

func (k *killFS) WriteFile(p string, data []byte, mode fs.FileMode, uid, gid int) (bool, error) {
	if err := k.hit(); err != nil {
		return false, err
	}
	return k.FS.WriteFile(p, data, mode, uid, gid)
}

func (k *killFS) Remove(p string) error {
	if err := k.hit(); err != nil {
		return err
	}
	return k.FS.Remove(p)
}

// sandboxDaemons are the file-writing daemons of the demo's sandbox mode.
func sandboxDaemons() []agent.Daemon {
	acc := unix.DefaultOptions()
	acc.Sandbox, acc.SSHDCheck, acc.SSHDReload = true, nil, nil
	acc.UIDMax = 10000 + store.DefaultUIDOffset + 9999
	ap := apache.DefaultDaemon()
	ap.Check, ap.Reload, ap.FPMBin, ap.FPMReload = nil, nil, "", nil
	dns := bind.DefaultDaemon()
	dns.CheckZone, dns.CheckConf, dns.ReloadZone, dns.Reconfig = nil, nil, nil, nil
	return []agent.Daemon{unix.Accounts{Opt: acc}, ap, dns, cron.Daemon{Opt: cron.DefaultOptions()}, unix.Removal{Opt: acc}}
}

// tree reads every regular file under dir: relative path → content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".kontor-tmp-") {
			t.Errorf("temp file left behind: %s", p)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKilledMidApplyConverges kills the agent after every possible number
// of writes of a full run (sampled), starts a new one, and checks that the
// files end up exactly as after one uninterrupted run.
func TestKilledMidApplyConverges(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	u := w.users[0]
	if _, err := w.st.AddCronJob(ctx, w.resA, u.ID, "*/5 * * * *", "php html/cron.php"); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	run := func(dir string, fsys agent.FS) (reconcile.Report, error) {
		l := &reconcile.Loop{Store: w.st, Daemons: sandboxDaemons(), Desired: w.loop.Desired,
			Env: agent.Env{FS: fsys, Run: &fsysDry{}, Now: func() time.Time { return day }}}
		return l.Full(ctx)
	}
	cleanDir := t.TempDir()
	clean, _ := fsys.Open(cleanDir)
	if rep, err := run(cleanDir, clean); err != nil || len(rep.Failed) > 0 {
		t.Fatalf("clean run: %v %v", err, rep.Failed)
	}
	want := tree(t, cleanDir)
	if len(want) < 20 {
		t.Fatalf("the clean run wrote only %d files", len(want))
	}
	for _, n := range []int64{0, 1, 3, 7, 12, 20, 33, 50} {
		dir := t.TempDir()
		root, _ := fsys.Open(dir)
		kctx, cancel := context.WithCancel(ctx)
		k := &killFS{FS: root, cancel: cancel}
		k.left.Store(n)
		l := &reconcile.Loop{Store: w.st, Daemons: sandboxDaemons(), Desired: w.loop.Desired,
			Env: agent.Env{FS: k, Run: &fsysDry{}, Now: func() time.Time { return day }}}
		l.Full(kctx) // killed somewhere inside
		cancel()
		if rep, err := run(dir, root); err != nil || len(rep.Failed) > 0 {
			t.Fatalf("killed after %d writes, restart: %v %v", n, err, rep.Failed)
		}
		got := tree(t, dir)
		for p, c := range want {
			if got[p] != c {
				t.Errorf("killed after %d writes: %s differs after the restart:\n%s", n, p, fsys.Diff(p, []byte(c), []byte(got[p])))
			}
		}
		for p := range got {
			if _, ok := want[p]; !ok {
				t.Errorf("killed after %d writes: extra file %s after the restart", n, p)
			}
		}
	}
}

// fsysDry is a runner that runs nothing.
type fsysDry struct{}

func (fsysDry) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return nil, ctx.Err()
}
