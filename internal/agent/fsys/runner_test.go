package fsys

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestExecRunnerNoShell(t *testing.T) {
	echo, err := exec.LookPath("echo")
	if err != nil {
		t.Skip("no echo")
	}
	// Shell syntax in an argument arrives as plain text.
	out, err := ExecRunner{}.Run(context.Background(), echo, "a b", "$(id)", "`id`;", "x\"y")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "a b $(id) `id`; x\"y\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestExecRunnerError(t *testing.T) {
	ls, err := exec.LookPath("ls")
	if err != nil {
		t.Skip("no ls")
	}
	_, err = ExecRunner{}.Run(context.Background(), ls, "/nonexistent dir\n")
	var ce *CmdError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CmdError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, `"`+ls+`" "/nonexistent dir\n"`) || !strings.Contains(msg, "exit status 2") || !strings.Contains(msg, "No such file") {
		t.Errorf("message lacks quoted argv, status or output: %s", msg)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Error("exit error not unwrappable")
	}
	if _, err := (ExecRunner{}).Run(context.Background(), "/nonexistent/kontor-cmd"); err == nil || !strings.Contains(err.Error(), `"/nonexistent/kontor-cmd"`) {
		t.Errorf("missing program: %v", err)
	}
}

func TestTrimOutput(t *testing.T) {
	long := "HEAD" + strings.Repeat("x", 100000) + "TAIL"
	got := trimOutput([]byte(long))
	if len(got) > maxErrOutput+100 || !strings.HasPrefix(got, "HEAD") || !strings.HasSuffix(got, "TAIL") || !strings.Contains(got, "bytes omitted") {
		t.Errorf("trimmed to %d bytes: %.40q…", len(got), got)
	}
	if got := trimOutput([]byte("  short\n")); got != "short" {
		t.Errorf("%q", got)
	}
}

func TestDryRun(t *testing.T) {
	var d DryRun
	var r Runner = &d
	if out, err := r.Run(context.Background(), "/usr/sbin/apache2ctl", "graceful"); out != nil || err != nil {
		t.Fatal(out, err)
	}
	if _, err := r.Run(context.Background(), "/usr/sbin/rndc", "reload", "web1.example"); err != nil {
		t.Fatal(err)
	}
	want := "\"/usr/sbin/apache2ctl\" \"graceful\"\n\"/usr/sbin/rndc\" \"reload\" \"web1.example\"\n"
	if got := d.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	cmds := d.Commands()
	cmds[0][0] = "changed"
	if d.Commands()[0][0] != "/usr/sbin/apache2ctl" {
		t.Error("Commands shares memory with the recorder")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Run(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}
