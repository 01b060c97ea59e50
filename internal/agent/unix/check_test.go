package unix

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kontor/internal/agent/fsys"
	"kontor/internal/testenv"
)

// The drop-in is checked and reloaded once when it changes, and not at
// all when it is already in place.
func TestSSHDReloadOnce(t *testing.T) {
	s := newSandbox(t, "", "", "", mountsPlain)
	o := testOptions()
	o.SSHDCheck = []string{"sshd", "-t"}
	o.SSHDReload = []string{"systemctl", "reload", "ssh"}
	for i, want := range []string{"\"sshd\" \"-t\"\n\"systemctl\" \"reload\" \"ssh\"\n", ""} {
		run2 := &fsys.DryRun{}
		changed, err := applySSHD(context.Background(), s.env(s.root, run2), run2, o.withDefaults())
		if err != nil {
			t.Fatal(err)
		}
		if got := run2.String(); got != want || changed != (want != "") {
			t.Errorf("run %d: commands %q changed %v", i, got, changed)
		}
	}
}

// A drop-in the check refuses is taken back: the previous one returns, or
// a new one is removed, so sshd still starts; the error carries the
// checker's words.
func TestSSHDCheckRefused(t *testing.T) {
	s := newSandbox(t, "", "", "", mountsPlain)
	o := testOptions()
	// A checker that fails with a message, without a shell string: the
	// test writes a tiny script and runs it by path.
	script := filepath.Join(t.TempDir(), "check")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'line 7: Bad configuration option' >&2\nexit 255\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	o.SSHDCheck = []string{script}
	env := s.env(s.root, fsys.ExecRunner{})
	conf := s.host(o.SSHDConf)

	if _, err := applySSHD(context.Background(), env, env.Run, o.withDefaults()); err == nil || !strings.Contains(err.Error(), "Bad configuration option") {
		t.Fatalf("want the checker's message, got %v", err)
	}
	if _, err := os.Stat(conf); !os.IsNotExist(err) {
		t.Errorf("refused new drop-in left in place: %v", err)
	}

	old := "# the previous, good drop-in\n"
	os.WriteFile(conf, []byte(old), 0o644)
	if _, err := applySSHD(context.Background(), env, env.Run, o.withDefaults()); err == nil {
		t.Fatal("no error")
	}
	if b, _ := os.ReadFile(conf); string(b) != old {
		t.Errorf("previous drop-in not restored: %q", b)
	}

	// Through Accounts the failure is the daemon's error; the users are
	// still handled.
	run := &failRunner{fail: script}
	res := Accounts{Opt: o}.Apply(context.Background(), s.env(fsys.NewRecorder(s.root), run), batch(user(1, "web1")))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "Bad configuration option") {
		t.Errorf("Accounts hid the sshd failure: %v", res.Err)
	}
	if !strings.Contains(run.String(), `"useradd"`) {
		t.Errorf("users not handled after the sshd failure:\n%s", run.String())
	}
}

// failRunner records commands like fsys.DryRun but runs the one named
// fail for real (a checker script).
type failRunner struct {
	fsys.DryRun
	fail string
}

func (r *failRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if name == r.fail {
		return fsys.ExecRunner{}.Run(ctx, name, args...)
	}
	return r.DryRun.Run(ctx, name, args...)
}

func haveSSHD() bool {
	_, err := exec.LookPath("sshd")
	return err == nil
}

// sshdConfig makes a copy of Debian's sshd_config whose Include points at
// dir, and a host key, and returns the argv prefix of sshd for them. The
// privilege separation directory sshd -t insists on is created when
// missing and removed again.
func sshdConfig(t *testing.T, dir string) []string {
	t.Helper()
	if !testenv.Integration() || !haveSSHD() {
		testenv.Need(t, "OpenSSH server (sshd, Debian package openssh-server)")
	}
	main, err := os.ReadFile("/etc/ssh/sshd_config")
	if err != nil {
		testenv.NeedReason(t, "OpenSSH server (sshd, Debian package openssh-server)", err.Error())
	}
	tmp := t.TempDir()
	cfg := strings.Replace(string(main), "Include /etc/ssh/sshd_config.d/*.conf", "Include "+dir+"/*.conf", 1)
	if cfg == string(main) {
		t.Fatal("/etc/ssh/sshd_config has no Include of sshd_config.d (not Debian's?)")
	}
	// Debian's file continues after the Include with directives that are
	// not allowed inside a Match block (Subsystem, PrintMotd): the check
	// fails if the drop-in's Match block ran on into them.
	if !strings.Contains(cfg[strings.Index(cfg, "Include "+dir):], "Subsystem") {
		cfg += "\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
	}
	mainPath := filepath.Join(tmp, "sshd_config")
	if err := os.WriteFile(mainPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(tmp, "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	if _, err := os.Stat("/run/sshd"); os.IsNotExist(err) {
		if err := os.Mkdir("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove("/run/sshd") })
	}
	return []string{"sshd", "-f", mainPath, "-h", key}
}

// The real sshd accepts the drop-in in Debian's layout: included at the
// top of sshd_config, with the drop-in's Match block ending at the end of
// the included file.
func TestSSHDRealCheck(t *testing.T) {
	dir := t.TempDir()
	sshd := sshdConfig(t, dir)
	o := testOptions()
	o.SSHDConf = dir + "/kontor.conf"
	o.SSHDCheck = append(append([]string{}, sshd...), "-t")
	root, err := fsys.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	env := (&sandbox{t: t}).env(root, fsys.ExecRunner{})
	changed, err := applySSHD(context.Background(), env, env.Run, o.withDefaults())
	if err != nil || !changed {
		t.Fatalf("sshd refused the drop-in: %v (changed %v)", err, changed)
	}
	// The effective configuration of a connection by root: the DenyGroups
	// is global, and the Match did not swallow what follows the Include.
	args := append(append([]string{}, sshd[1:]...), "-T", "-C", "user=root,host=client.example,addr=127.0.0.1")
	out, err := exec.Command(sshd[0], args...).CombinedOutput()
	if err != nil {
		t.Fatalf("sshd -T: %v: %s", err, out)
	}
	for _, want := range []string{"denygroups kontor-nossh\n", "forcecommand none\n", "subsystem sftp /usr/lib/openssh/sftp-server\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sshd -T lacks %q", want)
		}
	}
}
