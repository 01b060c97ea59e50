package fsys

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Runner runs a program with an argument list. The agent never builds a
// shell string (DESIGN rule 1), so there is no way to pass one.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// maxErrOutput bounds how much of a failed command's output goes into the
// error: enough for apache2ctl or named-checkzone to say what is wrong,
// not enough to flood the message list.
const maxErrOutput = 4 << 10

// CommandLine renders name and args with each word quoted by
// strconv.Quote, so spaces, quotes and control characters in an argument
// are visible and unambiguous in logs and messages.
func CommandLine(name string, args ...string) string {
	var b strings.Builder
	b.WriteString(strconv.Quote(name))
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(a))
	}
	return b.String()
}

// CmdError is the error of a command that could not start or failed.
type CmdError struct {
	Argv   []string // name followed by the arguments
	Output string   // combined output, trimmed to a few KB
	Err    error    // from os/exec (*exec.ExitError, not found, context)
}

func (e *CmdError) Error() string {
	s := "command " + CommandLine(e.Argv[0], e.Argv[1:]...) + ": " + e.Err.Error()
	if e.Output != "" {
		s += ": " + e.Output
	}
	return s
}

func (e *CmdError) Unwrap() error { return e.Err }

// trimOutput keeps the start and the end of long output: daemons print
// the cause at the start or the summary at the end.
func trimOutput(out []byte) string {
	s := strings.TrimSpace(string(out))
	if len(s) <= maxErrOutput {
		return s
	}
	half := maxErrOutput / 2
	return fmt.Sprintf("%s\n[… %d bytes omitted …]\n%s", s[:half], len(s)-2*half, s[len(s)-half:])
}

// ExecRunner runs commands with os/exec, argv only, never through a shell.
type ExecRunner struct {
	// Env replaces the environment when non-nil; nil inherits the agent's.
	Env []string
	// Dir is the working directory; "" means the agent's.
	Dir string
}

// Run starts name with args, waits, and returns the combined output. A
// failure is a *CmdError carrying the quoted command line and the trimmed
// output.
func (r ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = r.Env
	cmd.Dir = r.Dir
	// A child that forks a daemon keeping our pipe open must not hang the
	// agent after the command itself exited or the context ended.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return out, &CmdError{Argv: append([]string{name}, args...), Output: trimOutput(out), Err: err}
	}
	return out, nil
}

// DryRun records commands instead of running them, for
// `kontor apply --dry-run`. It returns no output and no error (unless the
// context has ended, as a real run would).
type DryRun struct {
	mu   sync.Mutex
	cmds [][]string
}

// Run records name and args.
func (d *DryRun) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	argv := append([]string{name}, args...)
	d.mu.Lock()
	d.cmds = append(d.cmds, argv)
	d.mu.Unlock()
	return nil, nil
}

// Commands returns a copy of the recorded commands, each as argv.
func (d *DryRun) Commands() [][]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([][]string, len(d.cmds))
	for i, c := range d.cmds {
		out[i] = append([]string(nil), c...)
	}
	return out
}

// String lists the recorded commands, one quoted command line per line.
func (d *DryRun) String() string {
	var b strings.Builder
	for _, c := range d.Commands() {
		b.WriteString(CommandLine(c[0], c[1:]...))
		b.WriteByte('\n')
	}
	return b.String()
}
