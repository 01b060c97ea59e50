package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/agent/reconcile"
	"kontor/internal/agent/setup"
	"kontor/internal/config"
	"kontor/internal/i18n"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// agentFlags are the settings the agent commands take on top of the store.
type agentFlags struct {
	db   dbFlags
	root string
	mode string
}

func (f *agentFlags) register(fs *flag.FlagSet) {
	f.db.register(fs)
	fs.StringVar(&f.root, "root", "", "the `DIR` standing in for \"/\" (overrides KONTOR_ROOT and the config file)")
	fs.StringVar(&f.mode, "mode", "", "`MODE` system or sandbox (overrides KONTOR_AGENT_MODE and the config file)")
}

func (r *runner) agentConfig(f agentFlags) (config.Config, error) {
	cfg, err := r.loadConfig(f.db)
	if err != nil {
		return cfg, err
	}
	if f.root != "" {
		if err := cfg.Set("root", f.root, "--root"); err != nil {
			return cfg, err
		}
	}
	if f.mode != "" {
		if err := cfg.Set("agent_mode", f.mode, "--mode"); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// dryLog collects the steps of a dry run that are neither files nor
// commands (SQL statements).
type dryLog struct {
	mu    sync.Mutex
	steps []string
}

func (d *dryLog) add(s string) { d.mu.Lock(); d.steps = append(d.steps, s); d.mu.Unlock() }

// newLoop builds the reconcile loop for cfg. With dry, nothing changes:
// files go to a Recorder, commands to a DryRun, other steps to the log.
func newLoop(cfg config.Config, st *store.Store, cat *i18n.Catalog, log *slog.Logger, dry bool) (*reconcile.Loop, *fsys.Recorder, *fsys.DryRun, *dryLog, func() error, error) {
	root, err := fsys.Open(cfg.Root)
	if err != nil {
		return nil, nil, nil, nil, nil, fmt.Errorf("root: %w", err)
	}
	daemons, closeFn, err := setup.Daemons(setup.Options{Mode: cfg.AgentMode, MySQLDSN: cfg.MySQLDSN, UIDBase: cfg.UIDBase})
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	steps := &dryLog{}
	// Writes are synced once per daemon and batch (before its reload),
	// not file by file: see fsys.Root.Deferred.
	env := agent.Env{FS: root.Deferred(), Run: fsys.ExecRunner{}, Now: time.Now, Plan: func(s string) {
		log.Debug("planned", "step", s)
	}}
	var rec *fsys.Recorder
	var cmds *fsys.DryRun
	switch {
	case dry:
		rec, cmds = fsys.NewRecorder(root), &fsys.DryRun{}
		env.FS, env.Run, env.DryRun, env.Plan = rec, cmds, true, steps.add
	case cfg.AgentMode == "sandbox":
		// The sandbox writes its files for real but runs no command: the
		// commands a server would run are logged.
		env.Run = loggingRunner{log: log}
	}
	l := &reconcile.Loop{Store: st, Daemons: daemons, Env: env, Log: log,
		Desired: store.DesiredOptions{UIDBase: cfg.UIDBase, HomeBase: setup.HomeBase},
		Explain: func(err error) string { return explainAgentError(cat, err) }}
	return l, rec, cmds, steps, closeFn, nil
}

// explainAgentError renders a daemon's error for the reseller's Messages:
// a panel.Error (a value the renderer refused) in English words with its
// field, anything else (a checker's or a command's own output) as it is.
// The stored text is English because one message serves every reader.
func explainAgentError(cat *i18n.Catalog, err error) string {
	var pe *panel.Error
	if !errors.As(err, &pe) || pe.Kind == panel.KindInternal {
		return err.Error()
	}
	text := cat.Error("en", pe)
	if pe.Field != "" {
		text = pe.Field + ": " + text
	}
	if pe.Err != nil {
		text += " (" + pe.Err.Error() + ")"
	}
	return text
}

// loggingRunner is the sandbox's runner: it logs what a server would run.
type loggingRunner struct{ log *slog.Logger }

func (l loggingRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	l.log.Debug("sandbox: not running", "command", fsys.CommandLine(name, args...))
	return nil, ctx.Err()
}

// agentRun is an opened agent: its configuration, store and loop.
type agentRun struct {
	cfg   config.Config
	log   *slog.Logger
	loop  *reconcile.Loop
	rec   *fsys.Recorder // dry run only
	cmds  *fsys.DryRun   // dry run only
	steps *dryLog        // dry run only
	close func()
}

// openAgent loads the configuration, opens the store and builds the loop.
// A real run in system mode needs root; a dry run only reads.
func (r *runner) openAgent(ctx context.Context, f agentFlags, dry bool) (*agentRun, error) {
	cfg, err := r.agentConfig(f)
	if err != nil {
		return nil, err
	}
	if !dry && cfg.AgentMode == "system" && os.Geteuid() != 0 {
		return nil, fmt.Errorf("agent: system mode needs root (it creates accounts and reloads daemons); use --mode sandbox to try it")
	}
	log := r.logger(cfg.LogLevel)
	st, err := r.openStore(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	l, rec, cmds, steps, closeFn, err := newLoop(cfg, st, r.cat, log, dry)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &agentRun{cfg: cfg, log: log, loop: l, rec: rec, cmds: cmds, steps: steps,
		close: func() { closeFn(); st.Close() }}, nil
}

func agentCommand() *command {
	return &command{
		name:     "agent",
		synopsis: "[--config FILE] [--db DSN] [--root DIR] [--mode system|sandbox] [--once]",
		summary:  "apply the panel's changes to this server (runs as root)",
		about: `The privileged half of Kontor. It reconciles everything once, then follows
the change journal the panel writes (checked every 0.1 s) and applies each
batch of changes: Unix accounts and homes, Apache vhosts and PHP-FPM pools,
BIND zones, MariaDB databases and logins, crontabs, Webalizer. Every file is
rendered into a staging directory, checked with the daemon's own checker
(apache2ctl -t, php-fpm -t, named-checkzone, named-checkconf, sshd -t) and
only then swapped in; each daemon is reloaded at most once per batch. A user
whose files are refused keeps the last good ones, and the reason appears in
the reseller's Messages. A full reconcile every 10 minutes repairs drift.

In sandbox mode (kontor demo) files are written under --root and no
command runs. --once reconciles everything once and exits.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var f agentFlags
			f.register(fs)
			once := fs.Bool("once", false, "reconcile everything once and exit")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				a, err := r.openAgent(ctx, f, false)
				if err != nil {
					return err
				}
				defer a.close()
				l := a.loop
				if *once {
					rep, err := l.Full(ctx)
					if err != nil {
						return err
					}
					printReport(r, rep)
					return nil
				}
				a.log.Info("kontor agent running", "root", a.cfg.Root, "mode", a.cfg.AgentMode, "db", displayDB(a.cfg.DB))
				return l.Run(ctx)
			}
		},
	}
}

func printReport(r *runner, rep reconcile.Report) {
	fmt.Fprintf(r.stdout, "users: %d, failed: %d, changed: %s\n", rep.Users, len(rep.Failed), orNone(strings.Join(rep.Changed, ", ")))
	ids := make([]int64, 0, len(rep.Failed))
	for id := range rep.Failed {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		fmt.Fprintf(r.stdout, "  user #%d failed: %s\n", id, strings.ReplaceAll(rep.Failed[id], "\n", "\n    "))
	}
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

func applyCommand() *command {
	return &command{
		name:     "apply",
		synopsis: "--dry-run [--config FILE] [--db DSN] [--root DIR] [--mode system|sandbox]",
		summary:  "show what the agent would change, as a diff",
		about: `Renders the desired state of every user the way the agent does and prints
a unified diff of every file it would change, then the commands it would
run and the database statements it would execute. Nothing is written, run
or executed. Without --dry-run it applies once, like 'kontor agent --once'.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var f agentFlags
			f.register(fs)
			dry := fs.Bool("dry-run", false, "change nothing; print the diff and the commands")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				a, err := r.openAgent(ctx, f, *dry)
				if err != nil {
					return err
				}
				defer a.close()
				l, rec, cmds, steps := a.loop, a.rec, a.cmds, a.steps
				rep, err := l.Full(ctx)
				if err != nil {
					return err
				}
				if !*dry {
					printReport(r, rep)
					return nil
				}
				diff := rec.Diff()
				fmt.Fprint(r.stdout, diff)
				if c := cmds.String(); c != "" {
					fmt.Fprintf(r.stdout, "# commands the agent would run:\n%s", c)
				}
				for _, s := range steps.steps {
					fmt.Fprintf(r.stdout, "# would execute: %s\n", s)
				}
				if diff == "" && cmds.String() == "" && len(steps.steps) == 0 {
					fmt.Fprintln(r.stdout, "# nothing to change")
				}
				for id, f := range rep.Failed {
					fmt.Fprintf(r.stderr, "user #%d would fail: %s\n", id, f)
				}
				return nil
			}
		},
	}
}
