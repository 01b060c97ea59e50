package unix

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/panel"
)

// Fake account files of a sandbox: root, the web server's group, and
// whatever a test adds.
const (
	basePasswd = "root:x:0:0:root:/root:/bin/bash\n" +
		"www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
	baseGroup = "root:x:0:\nwww-data:x:33:\n"
	// mountsQuota has the homes on a filesystem with user quotas on.
	mountsQuota = "/dev/vda1 / ext4 rw,relatime 0 0\n" +
		"/dev/vdb1 /home ext4 rw,relatime,usrquota,grpquota 0 0\n"
	mountsPlain = "/dev/vda1 / ext4 rw,relatime 0 0\n"
)

// sandbox is a fake target system in a temp dir.
type sandbox struct {
	t    *testing.T
	dir  string
	root *fsys.Root
	plan []string
}

func newSandbox(t *testing.T, passwd, group, shadow, mounts string) *sandbox {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"etc/ssh/sshd_config.d", "home", "proc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/passwd", basePasswd+passwd)
	write("etc/group", baseGroup+group)
	if shadow != "" {
		write("etc/shadow", shadow)
	}
	write("proc/mounts", mounts)
	root, err := fsys.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &sandbox{t: t, dir: dir, root: root}
}

// host returns the host path of target path p.
func (s *sandbox) host(p string) string { return filepath.Join(s.dir, p) }

func (s *sandbox) env(fs agent.FS, run agent.Runner) agent.Env {
	return agent.Env{FS: fs, Run: run, Plan: func(step string) { s.plan = append(s.plan, step) },
		Now: func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }}
}

// testOptions are the defaults without sshd check or reload, reading the
// sandbox's mount table.
func testOptions() Options {
	o := DefaultOptions()
	o.SSHDCheck, o.SSHDReload = nil, nil
	o.Mounts = "/proc/mounts"
	return o
}

func svc(on ...panel.Service) panel.ServiceSet {
	s := panel.ServiceSet{}
	for _, x := range on {
		s[x] = 1
	}
	return s
}

func user(id int64, login string) agent.User {
	return agent.User{ID: id, Login: login, UID: 10000 + int(id), Home: "/home/" + login,
		Services: panel.ServiceSet{}, Limits: panel.Limits{}}
}

func batch(users ...agent.User) agent.Batch {
	return agent.Batch{Users: users, Created: map[int64]bool{}, What: map[int64][]string{}}
}

// failures renders Result.Failed in id order.
func failures(r agent.Result) string {
	ids := make([]int64, 0, len(r.Failed))
	for id := range r.Failed {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "%d: %v\n", id, r.Failed[id])
	}
	return b.String()
}

// dryRun applies d with a recording runner and a dry-run Recorder, and
// returns the commands, the notices and the file diff as one text.
func dryRun(t *testing.T, s *sandbox, d agent.Daemon, b agent.Batch) (string, agent.Result) {
	t.Helper()
	run := &fsys.DryRun{}
	rec := fsys.NewRecorder(s.root)
	env := s.env(rec, run)
	env.DryRun = true
	res := d.Apply(context.Background(), env, b)
	var out strings.Builder
	out.WriteString("# commands\n")
	out.WriteString(run.String())
	if len(res.Notices) > 0 {
		out.WriteString("# notices\n")
		for _, n := range res.Notices {
			fmt.Fprintf(&out, "%s %v\n", n.Key, n.Args)
		}
	}
	if len(res.Failed) > 0 || res.Err != nil {
		out.WriteString("# failures\n")
		out.WriteString(failures(res))
		if res.Err != nil {
			fmt.Fprintf(&out, "err: %v\n", res.Err)
		}
	}
	if len(b.Created) > 0 {
		ids := make([]string, 0)
		for id := range b.Created {
			ids = append(ids, fmt.Sprint(id))
		}
		sort.Strings(ids)
		fmt.Fprintf(&out, "# created %s\n", strings.Join(ids, " "))
	}
	out.WriteString("# files\n")
	out.WriteString(rec.Diff())
	return out.String(), res
}
