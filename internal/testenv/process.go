package testenv

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// startOwned starts a private server for the test binary: in its own
// process group (a ^C aimed at `go test` reaches us, and we shut the
// server down ourselves), with deathSig sent to it if the test binary
// dies without cleaning up. The kernel sends that signal when the thread
// that forked exits, hence the locked OS thread. Other SysProcAttr fields
// the caller set (a Credential) are kept. The returned channel closes
// when the process has exited; *waitErr then holds Wait's result.
func startOwned(cmd *exec.Cmd, deathSig syscall.Signal, waitErr *error) (<-chan struct{}, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = deathSig
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		*waitErr = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return exited, nil
}

// stopOwned sends sig to a server started by startOwned and waits for it
// to exit, escalating to SIGKILL after grace.
func stopOwned(proc *os.Process, exited <-chan struct{}, sig syscall.Signal, grace time.Duration) {
	_ = proc.Signal(sig)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = proc.Kill()
		<-exited
	}
}
