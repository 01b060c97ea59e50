package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"kontor/internal/app"
	"kontor/internal/panel"
)

// Commands that change an existing user (USR-3): limits, lock, unlock,
// delete, password, and a look at everything stored about one user. They
// act as the admin through the same app calls as the reseller's change
// page, so the reseller's hard limits hold here too.

// userByLogin resolves a user's login (webN, or a reseller's own resNweb0).
// openUser opens the app and finds the user named login; done closes the
// store.
func (r *runner) openUser(ctx context.Context, d dbFlags, login string) (*app.App, panel.User, func(), error) {
	a, done, err := r.openApp(ctx, d)
	if err != nil {
		return nil, panel.User{}, nil, err
	}
	u, err := userByLogin(ctx, a, login)
	if err != nil {
		done()
		return nil, panel.User{}, nil, err
	}
	return a, u, done, nil
}

func userByLogin(ctx context.Context, a *app.App, login string) (panel.User, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	notFound := &panel.Error{Kind: panel.KindNotFound, Field: "login", Key: "err.notfound", Args: []any{"user " + login}}
	if err := panel.ValidateLogin("login", login); err != nil {
		return panel.User{}, notFound
	}
	u, err := a.Store.UserByLogin(ctx, cliActor, login)
	if panel.ErrorKind(err) == panel.KindNotFound {
		return u, notFound
	}
	return u, err
}

// oneLogin checks that args is exactly one login.
// loginCommand is a command whose one argument is a user's LOGIN: it opens
// the store, finds the user and runs run with it.
func loginCommand(name, summary, about string, run func(ctx context.Context, r *runner, a *app.App, u panel.User) error) *command {
	return &command{
		name:     name,
		synopsis: "LOGIN [--db DSN] [--config FILE]",
		summary:  summary,
		about:    about,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				if err := oneLogin(args); err != nil {
					return err
				}
				a, u, done, err := r.openUser(ctx, d, args[0])
				if err != nil {
					return err
				}
				defer done()
				return run(ctx, r, a, u)
			}
		},
	}
}

func oneLogin(args []string) error {
	switch {
	case len(args) == 0:
		return usagef("need the user's login")
	case len(args) > 1:
		return usagef("unexpected argument %q", args[1])
	}
	return nil
}

func formatUserLimit(v int64) string {
	if v == panel.Unlimited {
		return "unlimited"
	}
	return fmt.Sprint(v)
}

func userSetLimitCommand() *command {
	return &command{
		name:     "user set-limit",
		synopsis: "LOGIN RES=VALUE... [--db DSN] [--config FILE]",
		summary:  "change limits of a user",
		about: `Sets one or more limits of the user LOGIN; other limits stay as they are.
VALUE is a whole number, 0 for not available, -1 for unlimited (only where the
reseller may grant unlimited). The reseller's limits apply as in the panel:
the user's old value is given back first, a raise beyond a hard limit is
refused, a raise beyond a maximum is allowed and reported. Lowering is
always allowed.
Resources: ` + resourceNames(panel.Resources()) + `

Example:
  kontor user set-limit web7 storage=2048 pop3=10`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) < 2 {
					return usagef("need a user login and at least one RES=VALUE")
				}
				lim, err := parseUserLimits("limit", args[1:])
				if err != nil {
					return err
				}
				a, u, done, err := r.openUser(ctx, d, args[0])
				if err != nil {
					return err
				}
				defer done()
				over, err := a.ChangePlan(ctx, cliActor, u.ID, lim, nil)
				if err != nil {
					return err
				}
				for _, res := range panel.Resources() {
					if v, ok := lim[res]; ok {
						fmt.Fprintf(r.stdout, "%s %s: %s\n", u.Login, res, formatUserLimit(v))
					}
				}
				for _, o := range over {
					fmt.Fprintf(r.stderr, "kontor: note: %s: this grant passes %s's maximum (allowed; highlighted in the overview)\n",
						r.cat.T("en", "res."+string(o)), u.ResellerLogin)
				}
				return nil
			}
		},
	}
}

// userStatusCommand is "user lock" and "user unlock".
func userStatusCommand(st panel.Status) *command {
	verb, about := "unlock", `Unlocks the user LOGIN: it can log in again and its sites and mailboxes are
served as before.`
	if st == panel.StatusLocked {
		verb, about = "lock", `Locks the user LOGIN: it can no longer log in to the panel, FTP or POP3/IMAP,
and its open panel sessions end at once. Its sites show a neutral page; mail
keeps arriving and is there after unlocking.`
	}
	return loginCommand("user "+verb, verb+" a user", about, func(ctx context.Context, r *runner, a *app.App, u panel.User) error {
		if err := a.SetUserStatus(ctx, cliActor, u.ID, st); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "%s: %s\n", u.Login, st)
		return nil
	})
}

func userDeleteCommand() *command {
	return loginCommand("user delete", "delete a user and everything it has",
		`Deletes the user LOGIN with its domains, and the agent removes every trace
from the system (account, sites, zones, mail, databases, cron jobs). A
reseller's own account (resNweb0) goes only with the reseller. This cannot
be undone.`,
		func(ctx context.Context, r *runner, a *app.App, u panel.User) error {
			if err := a.DeleteUser(ctx, cliActor, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "%s: deleted\n", u.Login)
			return nil
		})
}

func userPasswdCommand() *command {
	return &command{
		name:     "user passwd",
		synopsis: "LOGIN [--password PASSWORD | --password-stdin] [--db DSN] [--config FILE]",
		summary:  "set or generate a user's password",
		about: `Sets the password of the user LOGIN, from --password or the first line of
standard input with --password-stdin; without either a strong password is
generated and printed. It must fit the server's password policy. The user's
open panel sessions end.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			pwFlag := fs.String("password", "", "the new `PASSWORD` (default: generated)")
			pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
			return func(ctx context.Context, args []string) error {
				if err := oneLogin(args); err != nil {
					return err
				}
				given, err := r.password(*pwFlag, *pwStdin)
				if err != nil {
					return err
				}
				a, u, done, err := r.openUser(ctx, d, args[0])
				if err != nil {
					return err
				}
				defer done()
				pw, err := a.ChangeUserPassword(ctx, cliActor, u.ID, given, given)
				if err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "login:    %s\n", u.Login)
				r.reportPassword(given, pw)
				return nil
			}
		},
	}
}

func userShowCommand() *command {
	return loginCommand("user show", "show a user's data, limits, services and domains",
		`Prints everything stored about the user LOGIN: personal data, status, limits, services and domains.`,
		func(ctx context.Context, r *runner, a *app.App, u panel.User) error {
			r.printUser(u)
			return nil
		})
}

func (r *runner) printUser(u panel.User) {
	p := u.Profile
	tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, orDash(v)) }
	row("login", u.Login)
	row("reseller", u.ResellerLogin)
	row("status", string(u.Status))
	if u.IsDefault {
		row("account", "the reseller's own account")
	}
	row("language", u.Language)
	row("design", u.Design)
	row("name", p.Name)
	row("company", p.Company)
	row("street", p.Street)
	row("zip", p.Zip)
	row("city", p.City)
	row("country", p.Country)
	row("email", p.Email)
	row("phone", p.Phone)
	for i, c := range p.Custom {
		if c != "" {
			row(fmt.Sprintf("custom%d", i+1), c)
		}
	}
	if len(p.Show) > 0 {
		row("shown", strings.Join(p.Show, ", "))
	}
	tw.Flush()
	fmt.Fprintln(r.stdout)
	tw = tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LIMIT\tVALUE")
	for _, res := range panel.Resources() {
		fmt.Fprintf(tw, "%s\t%s\n", res, formatUserLimit(u.Limits[res]))
	}
	tw.Flush()
	var on []string
	for _, sv := range panel.Services() {
		if lvl := u.Services[sv]; lvl > 0 {
			if sv.MaxLevel() > 1 {
				on = append(on, fmt.Sprintf("%s=%d", sv, lvl))
			} else {
				on = append(on, string(sv))
			}
		}
	}
	fmt.Fprintf(r.stdout, "\nservices: %s\n", orDash(strings.Join(on, ", ")))
	if len(u.Domains) == 0 {
		fmt.Fprintln(r.stdout, "domains:  -")
		return
	}
	fmt.Fprintln(r.stdout)
	tw = tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tDNS\tDNR")
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	for _, dm := range u.Domains {
		name := dm.Name
		if disp := dm.Display(); disp != dm.Name {
			name = disp + " (" + dm.Name + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, yn(dm.DNS), yn(dm.DNR))
	}
	tw.Flush()
}
