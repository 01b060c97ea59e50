package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"kontor/internal/app"
	"kontor/internal/config"
	"kontor/internal/demo"
	"kontor/internal/i18n"
	"kontor/internal/store"
	"kontor/internal/web"
)

func serveCommand() *command {
	return &command{
		name:     "serve",
		synopsis: "[--config FILE] [--db DSN] [--listen ADDR]",
		summary:  "run the web panel",
		about: `Opens the store, applies pending migrations and serves the web panel on
--listen until interrupted (SIGINT or SIGTERM), then shuts down gracefully.
Logs go to standard error at the configured log_level.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			listen := fs.String("listen", "", "listen on `ADDR` (host:port; overrides KONTOR_LISTEN and the config file; default 127.0.0.1:8080)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				cfg, err := r.loadConfig(d)
				if err != nil {
					return err
				}
				if *listen != "" {
					if err := cfg.Set("listen", *listen, "--listen"); err != nil {
						return err
					}
				}
				log := r.logger(cfg.LogLevel)
				st, err := r.openStore(ctx, cfg, false)
				if err != nil {
					return err
				}
				defer st.Close()
				a := r.newApp(st, log)
				defer r.startMail(ctx, a, log)()
				defer startStats(ctx, a, cfg.Root)()
				srv, err := web.New(web.Options{App: a, Catalog: r.cat, Log: log, SecureCookies: cfg.SecureCookies})
				if err != nil {
					return err
				}
				ln, err := net.Listen("tcp", cfg.Listen)
				if err != nil {
					return fmt.Errorf("listen: %w", err)
				}
				log.Info("kontor serving", "url", "http://"+ln.Addr().String()+"/", "db", displayDB(cfg.DB), "engine", st.Engine())
				if err := web.Serve(ctx, ln, srv.Handler()); err != nil {
					return fmt.Errorf("serve: %w", err)
				}
				log.Info("kontor stopped")
				return nil
			}
		},
	}
}

func migrateCommand() *command {
	return &command{
		name:     "migrate",
		synopsis: "[--config FILE] [--db DSN]",
		summary:  "create or upgrade the store's tables",
		about: `Creates the store if needed (a SQLite file, or the tables in a PostgreSQL
database) and applies every migration not yet applied. Running it again
does nothing.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				cfg, err := r.loadConfig(d)
				if err != nil {
					return err
				}
				st, err := r.openStore(ctx, cfg, false)
				if err != nil {
					return err
				}
				defer st.Close()
				fmt.Fprintf(r.stdout, "migrated %s (%s)\n", displayDB(cfg.DB), st.Engine())
				return nil
			}
		},
	}
}

// sandboxDirs are created under the demo's root, standing in for "/".
var sandboxDirs = []string{"etc", "home", "var/www", "var/log"}

func demoCommand() *command {
	return &command{
		name:     "demo",
		synopsis: "[--dir DIR] [--listen ADDR]",
		summary:  "run a throw-away panel with demo accounts",
		about: `Creates a demo store in --dir (default: a new temporary directory) with an
admin, two resellers and their users, a sandbox root folder <dir>/root
standing in for "/" (etc, home, var/www, var/log), and serves the panel on
--listen until interrupted. It prints the URL and every login with its
password. If --dir already holds a seeded store, it is reused, not seeded
again. The passwords are fixed and public: never use a demo store for
anything real.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			dir := fs.String("dir", "", "keep the demo in `DIR` (default: a new temporary directory)")
			listen := fs.String("listen", "127.0.0.1:0", "listen on `ADDR` (host:port; port 0 picks a free one)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				return r.demo(ctx, *dir, *listen)
			}
		},
	}
}

func (r *runner) demo(ctx context.Context, dir, listen string) error {
	cfg := config.Default()
	if err := cfg.Set("listen", listen, "--listen"); err != nil {
		return err
	}
	fresh := ""
	if dir == "" {
		d, err := os.MkdirTemp("", "kontor-demo-")
		if err != nil {
			return fmt.Errorf("demo directory: %w", err)
		}
		dir, fresh = d, " (new)"
	} else {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
		dir = abs
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
	}
	root := filepath.Join(dir, "root")
	for _, sub := range sandboxDirs {
		if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(sub)), 0o755); err != nil {
			return fmt.Errorf("sandbox root: %w", err)
		}
	}
	cfg.DB = filepath.Join(dir, "kontor.db")
	cfg.Root = root
	log := r.logger(cfg.LogLevel)

	st, err := r.openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	a := r.newApp(st, log)
	seeded, err := demo.Seeded(ctx, st)
	if err != nil {
		return err
	}
	var logins demo.Logins
	state := "seeded with demo accounts"
	if seeded {
		state = "already seeded: reusing it, not seeding again"
		logins, err = demo.Existing(ctx, a)
	} else {
		logins, err = demo.Seed(ctx, a)
	}
	if err != nil {
		return err
	}
	defer r.startMail(ctx, a, log)()
	// The sandbox has var/log: logs put under <dir>/root/var/log/apache2
	// are read like on a server.
	defer startStats(ctx, a, root)()
	// The agent runs in the same process in sandbox mode: it writes the
	// configuration files under the sandbox root and runs no command.
	cfg.AgentMode = "sandbox"
	stopAgent, err := startAgent(ctx, cfg, st, r.cat, log)
	if err != nil {
		return err
	}
	defer stopAgent()
	srv, err := web.New(web.Options{App: a, Catalog: r.cat, Log: log, SandboxRoot: root})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	url := "http://" + ln.Addr().String() + "/"

	w := r.stdout
	fmt.Fprintf(w, "Kontor demo\n")
	fmt.Fprintf(w, "  directory:    %s%s\n", dir, fresh)
	fmt.Fprintf(w, "  store:        %s (%s)\n", cfg.DB, state)
	fmt.Fprintf(w, "  sandbox root: %s (stands in for /; the agent writes the generated\n", root)
	fmt.Fprintf(w, "                configuration there and runs no command: Admin → System files)\n")
	fmt.Fprintf(w, "  panel:        %s\n\n", url)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tPASSWORD\tROLE\tRESELLER\tNAME\tDOMAINS")
	for _, l := range logins {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Login, l.Password, l.Role, orDash(l.Reseller), orDash(l.Name),
			orDash(strings.Join(l.Domains, ", ")))
	}
	tw.Flush()
	if seeded {
		fmt.Fprintf(w, "(passwords as seeded; a password changed since is not shown)\n")
	}
	fmt.Fprintf(w, "\nA reseller's password also opens its users' panels (log in as web1 with res1-demo),\n"+
		"and its own account resNweb0 (log in as res1web0 with res1-demo).\n")
	fmt.Fprintf(w, "\nServing %s until interrupted (Ctrl+C).\n", url)

	if err := web.Serve(ctx, ln, srv.Handler()); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(w, "Demo stopped; its files stay in %s\n", dir)
	return nil
}

// startStats runs the traffic collector and the storage measurement in
// the background (STA-3) on the logs under root; the returned function
// stops them and waits for a running job, also when serve ends with an
// error while ctx is still live.
func startStats(ctx context.Context, a *app.App, root string) func() {
	sctx, cancel := context.WithCancel(ctx)
	wait := a.StartStats(sctx, a.StatsJobs(root))
	return func() { cancel(); wait() }
}

// startAgent runs the reconcile loop in the background; the returned
// function stops it and waits for the batch in progress.
func startAgent(ctx context.Context, cfg config.Config, st *store.Store, cat *i18n.Catalog, log *slog.Logger) (func(), error) {
	l, _, _, _, closeFn, err := newLoop(cfg, st, cat, log.With("part", "agent"), false)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := l.Run(actx); err != nil {
			log.Error("agent stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done; closeFn() }, nil
}
