// Command kontor is the Kontor hosting control panel: web panel, CLI and
// demo in one binary. All logic lives in internal/cli; this only wires the
// process to it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"kontor/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
