// Package cli is the kontor command line: it parses arguments, loads the
// configuration, builds the store and the app and calls them. It acts as
// the admin; every rule is applied by the app and the store, as for the
// web panel.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/config"
	"kontor/internal/i18n"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// cliActor is who the CLI is to the store: an admin.
var cliActor = panel.Actor{Role: panel.RoleAdmin, Login: "cli"}

// Run runs the kontor command line with args (without the program name)
// and returns the exit status: 0 success, 1 failure, 2 bad usage.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	r := &runner{stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	return r.run(ctx, args)
}

// runner is one invocation. Tests build it directly to lower the password
// hashing cost; nothing is global.
type runner struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) string
	cat            *i18n.Catalog

	// hasher overrides the argon2id cost of the app (tests only).
	hasher *auth.Params
	// global --config and --db given before the command.
	globalConfig, globalDB string
}

// command is one leaf of the command tree.
type command struct {
	name     string // "reseller create"
	synopsis string // what follows "kontor <name> "
	summary  string // one line for the command list
	about    string // the help text's description
	// setup defines the command's flags on fs and returns the function
	// that runs it with the positional arguments.
	setup func(r *runner, fs *flag.FlagSet) func(ctx context.Context, args []string) error
}

// commands returns the command tree in the order the help lists it.
func commands() []*command {
	return []*command{
		serveCommand(), migrateCommand(), demoCommand(), agentCommand(), applyCommand(),
		adminCreateCommand(),
		resellerCreateCommand(), resellerListCommand(), resellerSetLimitCommand(),
		userCreateCommand(), userListCommand(),
		userShowCommand(), userSetLimitCommand(), userStatusCommand(panel.StatusLocked), userStatusCommand(panel.StatusEnabled), userDeleteCommand(), userPasswdCommand(),
		templateCreateCommand(), templateListCommand(), templateDeleteCommand(),
		statsCollectCommand(), statsDuCommand(),
		circularSendCommand(), circularStatusCommand(),
		userFrontPageCommand(), userSSLCommand(), userMySQLExternalCommand(),
		cronAddCommand(), cronListCommand(), cronDeleteCommand(),
		mailTestCommand(),
	}
}

// groups are the first words of two-word commands.
var groups = map[string]string{
	"admin":    "manage admin accounts",
	"reseller": "create, list and limit resellers",
	"user":     "create, list, show and change users",
	"template": "create, list and delete templates of a reseller",
	"stats":    "collect traffic from the logs and measure storage",
	"circular": "send circulars to a reseller's users and follow them",
	"mail":     "check outgoing mail",
	"cron":     "add, list and delete a user's cron jobs",
}

func (r *runner) run(ctx context.Context, args []string) int {
	if r.env == nil {
		r.env = func(string) string { return "" }
	}
	if r.stdin == nil {
		r.stdin = strings.NewReader("")
	}
	cat, err := i18n.Load()
	if err != nil {
		fmt.Fprintf(r.stderr, "kontor: %v\n", err)
		return 1
	}
	r.cat = cat

	root := flag.NewFlagSet("kontor", flag.ContinueOnError)
	root.SetOutput(io.Discard)
	root.StringVar(&r.globalConfig, "config", "", "read settings from the TOML `FILE`")
	root.StringVar(&r.globalDB, "db", "", "the store: a SQLite file or a postgres:// `DSN`")
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			r.mainUsage(r.stdout, root)
			return 0
		}
		fmt.Fprintf(r.stderr, "kontor: %v\n", err)
		r.mainUsage(r.stderr, root)
		return 2
	}
	args = root.Args()
	if len(args) == 0 {
		r.mainUsage(r.stderr, root)
		return 2
	}
	if args[0] == "help" {
		return r.help(args[1:], root)
	}
	cmd, rest, group := findCommand(args)
	if cmd == nil {
		if group != "" {
			if len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help") {
				r.groupUsage(r.stdout, group)
				return 0
			}
			if len(rest) > 0 {
				fmt.Fprintf(r.stderr, "kontor: unknown command %q\n", group+" "+rest[0])
			} else {
				fmt.Fprintf(r.stderr, "kontor: %s needs a subcommand\n", group)
			}
			r.groupUsage(r.stderr, group)
			return 2
		}
		fmt.Fprintf(r.stderr, "kontor: unknown command %q\n", args[0])
		r.mainUsage(r.stderr, root)
		return 2
	}
	return r.runCommand(ctx, cmd, rest)
}

// findCommand matches the first one or two words of args.
func findCommand(args []string) (cmd *command, rest []string, group string) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], ""
		}
	}
	if _, ok := groups[args[0]]; ok {
		return nil, args[1:], args[0]
	}
	return nil, nil, ""
}

func (r *runner) runCommand(ctx context.Context, c *command, args []string) int {
	fs := flag.NewFlagSet("kontor "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	run := c.setup(r, fs)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		r.commandUsage(r.stdout, c, fs)
		return 0
	}
	if err != nil {
		fmt.Fprintf(r.stderr, "kontor %s: %v\n", c.name, err)
		fmt.Fprintf(r.stderr, "Run 'kontor %s --help' for usage.\n", c.name)
		return 2
	}
	if err := run(ctx, pos); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(r.stderr, "kontor %s: %s\n", c.name, ue.msg)
			fmt.Fprintf(r.stderr, "Run 'kontor %s --help' for usage.\n", c.name)
			return 2
		}
		fmt.Fprintf(r.stderr, "kontor: %s\n", r.describe(err))
		return 1
	}
	return 0
}

// parseInterspersed parses flags anywhere among the positional arguments,
// so that "set-limit res1 storage=5 --db x.db" works; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		before := args
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if consumed := len(before) - len(args); consumed > 0 && before[consumed-1] == "--" {
			return append(pos, args...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// describe renders err for the person at the terminal: panel errors
// through the catalogue with the field they concern, internal errors with
// their cause (the operator is the one who needs it).
func (r *runner) describe(err error) string {
	var pe *panel.Error
	if errors.As(err, &pe) {
		msg := r.cat.Error("en", pe)
		if pe.Kind == panel.KindInternal && pe.Err != nil {
			msg = "internal error: " + pe.Err.Error()
		}
		if pe.Field != "" {
			msg = pe.Field + ": " + msg
		}
		return msg
	}
	return err.Error()
}

func (r *runner) help(args []string, root *flag.FlagSet) int {
	if len(args) == 0 {
		r.mainUsage(r.stdout, root)
		return 0
	}
	cmd, rest, group := findCommand(args)
	switch {
	case cmd != nil && len(rest) == 0:
		fs := flag.NewFlagSet("kontor "+cmd.name, flag.ContinueOnError)
		cmd.setup(r, fs)
		r.commandUsage(r.stdout, cmd, fs)
		return 0
	case group != "" && len(rest) == 0:
		r.groupUsage(r.stdout, group)
		return 0
	}
	fmt.Fprintf(r.stderr, "kontor help: unknown command %q\n", strings.Join(args, " "))
	r.mainUsage(r.stderr, root)
	return 2
}

func (r *runner) mainUsage(w io.Writer, root *flag.FlagSet) {
	fmt.Fprintf(w, `Kontor is a web hosting control panel: admin, resellers and their users.

Usage: kontor [--config FILE] [--db DSN] COMMAND [flags] [arguments]

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	fmt.Fprintf(tw, "  help [COMMAND]\tshow this list or a command's help\n")
	tw.Flush()
	fmt.Fprintf(w, "\nGlobal flags (each command also accepts them after its name):\n")
	printFlags(w, root)
	fmt.Fprint(w, `
The store is chosen by --db, else by KONTOR_DB, else by "db" in the --config
file, else it is kontor.db in the working directory. The other settings
(listen, secure_cookies, root, log_level) come from the same places, as
KONTOR_LISTEN, KONTOR_SECURE_COOKIES, KONTOR_ROOT and KONTOR_LOG_LEVEL.

Run 'kontor COMMAND --help' for the flags of a command.
`)
}

func (r *runner) groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "kontor %s: %s\n\nCommands:\n", group, groups[group])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		if strings.HasPrefix(c.name, group+" ") {
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun 'kontor %s COMMAND --help' for the flags of a command.\n", group)
}

func (r *runner) commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: kontor %s %s\n\n%s\n", c.name, c.synopsis, strings.TrimSpace(c.about))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		printFlags(w, fs)
	}
}

// printFlags lists the flags of fs as --name VALUE, with their defaults.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if name != "" {
			left += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", left, usage)
	})
	tw.Flush()
}

// dbFlags are the store selection every store command takes.
type dbFlags struct {
	config, db string
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.config, "config", "", "read settings from the TOML `FILE`")
	fs.StringVar(&d.db, "db", "", "the store: a SQLite file or a postgres:// `DSN` (overrides KONTOR_DB and the config file)")
}

// loadConfig applies defaults, the config file, the environment and then
// the flags, in that order.
func (r *runner) loadConfig(d dbFlags) (config.Config, error) {
	path := d.config
	if path == "" {
		path = r.globalConfig
	}
	cfg, err := config.Load(path, r.env)
	if err != nil {
		return cfg, err
	}
	switch {
	case d.db != "":
		err = cfg.Set("db", d.db, "--db")
	case r.globalDB != "":
		err = cfg.Set("db", r.globalDB, "--db")
	}
	return cfg, err
}

func (r *runner) logger(level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(r.stderr, &slog.HandlerOptions{Level: lv}))
}

// sqlitePath returns the file of a SQLite DSN, "" for PostgreSQL.
func sqlitePath(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return ""
	}
	return strings.TrimPrefix(dsn, "sqlite:")
}

// displayDB shows a DSN without its password.
func displayDB(dsn string) string {
	if sqlitePath(dsn) != "" {
		return sqlitePath(dsn)
	}
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(postgres)"
}

// openStore opens and migrates the store. With mustExist a SQLite file
// that is not there is an error instead of a new, empty store: a mistyped
// path should not look like a panel without accounts.
func (r *runner) openStore(ctx context.Context, cfg config.Config, mustExist bool) (*store.Store, error) {
	if p := sqlitePath(cfg.DB); mustExist && p != "" {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("db: %s does not exist; create it with 'kontor migrate --db %s'", p, p)
		}
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("db %s: %w", displayDB(cfg.DB), err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("db %s: %w", displayDB(cfg.DB), err)
	}
	return st, nil
}

// newApp builds the service layer the way every command does; the
// runner's hasher (tests) lowers the argon2id cost.
func (r *runner) newApp(st *store.Store, log *slog.Logger) *app.App {
	a := app.New(st, log)
	if r.hasher != nil {
		a.Hasher = *r.hasher
	}
	return a
}

// openApp loads the configuration, opens the store and builds the app.
func (r *runner) openApp(ctx context.Context, d dbFlags) (*app.App, func(), error) {
	cfg, err := r.loadConfig(d)
	if err != nil {
		return nil, nil, err
	}
	st, err := r.openStore(ctx, cfg, true)
	if err != nil {
		return nil, nil, err
	}
	return r.newApp(st, r.logger(cfg.LogLevel)), func() { st.Close() }, nil
}

// password returns the password from --password or, with --password-stdin,
// the first line of standard input; "" means "generate one".
func (r *runner) password(flagValue string, fromStdin bool) (string, error) {
	if flagValue != "" && fromStdin {
		return "", usagef("give either --password or --password-stdin, not both")
	}
	if !fromStdin {
		return flagValue, nil
	}
	line, err := bufio.NewReader(r.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("--password-stdin: standard input holds no password")
	}
	return line, nil
}

// reportPassword prints the password line of a new account: a generated
// password in full, a given one not again.
func (r *runner) reportPassword(given, pw string) {
	if given != "" {
		fmt.Fprintf(r.stdout, "password: (as given)\n")
		return
	}
	fmt.Fprintf(r.stdout, "password: %s\n", pw)
}

// resellerID resolves a reseller login.
func resellerID(ctx context.Context, a *app.App, field, login string) (int64, error) {
	notFound := &panel.Error{Kind: panel.KindNotFound, Field: field, Key: "err.notfound", Args: []any{"reseller " + login}}
	if login == "" {
		return 0, panel.Invalid(field, "err.required")
	}
	cred, err := a.Store.CredentialsByLogin(ctx, login)
	if panel.ErrorKind(err) == panel.KindNotFound {
		return 0, notFound
	}
	if err != nil {
		return 0, err
	}
	if cred.Account.Role != panel.RoleReseller {
		return 0, notFound
	}
	return cred.Account.ID, nil
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
