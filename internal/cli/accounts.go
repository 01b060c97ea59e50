package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"kontor/internal/app"
	"kontor/internal/panel"
	"kontor/internal/store"
)

func adminCreateCommand() *command {
	return &command{
		name:     "admin create",
		synopsis: "--login LOGIN [--password PASSWORD | --password-stdin] [--db DSN] [--config FILE]",
		summary:  "create an admin account",
		about: `Creates an admin account. The password is taken from --password, or from
the first line of standard input with --password-stdin; without either a
strong password is generated and printed. It must fit the password policy
of the server settings (6 to 12 characters by default).`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			login := fs.String("login", "", "`LOGIN` of the new admin (required)")
			pwFlag := fs.String("password", "", "the admin's `PASSWORD` (default: generated)")
			pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *login == "" {
					return usagef("--login is required")
				}
				pw, err := r.password(*pwFlag, *pwStdin)
				if err != nil {
					return err
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				given := pw
				if pw == "" {
					set, err := a.Settings(ctx)
					if err != nil {
						return err
					}
					if pw, err = set.Password.GeneratePassword(); err != nil {
						return err
					}
				}
				acct, err := a.CreateAdmin(ctx, *login, pw)
				if err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "login:    %s\n", acct.Login)
				r.reportPassword(given, pw)
				return nil
			}
		},
	}
}

func resellerCreateCommand() *command {
	return &command{
		name:     "reseller create",
		synopsis: "[--login LOGIN] [--password PASSWORD | --password-stdin] [--name NAME] [--company COMPANY] [--email EMAIL] [--lang en|de] [--limit RES=VALUE[:hard|:max][:unlimited]]... [--service NAME=LEVEL]...",
		summary:  "create a reseller with its limits and services",
		about: `Creates a reseller and its own default account (<login>web0), then prints
the login and the password (generated unless given).

A limit is RES=VALUE with optional modifiers: VALUE is a whole number, 0 for
"not available", -1 for unlimited. ":max" (the default) makes it a maximum
the reseller may pass (the overview highlights it); ":hard" refuses any
allocation beyond it; ":unlimited" lets the reseller grant unlimited (-1)
to its users. Traffic is never a hard limit. Resources not given are 0.
Resources: ` + resourceNames(panel.ResellerResources()) + `

A service is NAME=LEVEL (0/off, 1/on; shell: 0/none, 1/sftp, 2/full; backup:
0/no, 1/yes, 2/upload); "all" offers every service at its highest level and
later --service flags override it. Services not given are not offered.
Services: ` + serviceNames() + `

Example:
  kontor reseller create --name "Petra Schneider" --limit users=10:hard \
    --limit storage=20480 --limit pop3=-1:unlimited --service all --service coldfusion=0`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			login := fs.String("login", "", "`LOGIN` of the reseller (default: the next resN)")
			pwFlag := fs.String("password", "", "the reseller's `PASSWORD` (default: generated)")
			pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
			name := fs.String("name", "", "`NAME` of the contact person")
			company := fs.String("company", "", "`COMPANY` name")
			email := fs.String("email", "", "contact e-mail `ADDRESS`")
			lang := fs.String("lang", "en", "panel `LANGUAGE`: en or de")
			var limits, services listFlag
			fs.Var(&limits, "limit", "a limit `SPEC`: RES=VALUE[:hard|:max][:unlimited]; repeat for each resource")
			fs.Var(&services, "service", "an offered service `SPEC`: NAME=LEVEL, or all; repeat for each service")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				lim, err := parseResellerLimits("--limit", limits)
				if err != nil {
					return err
				}
				svc, err := parseServices("--service", services, true)
				if err != nil {
					return err
				}
				pw, err := r.password(*pwFlag, *pwStdin)
				if err != nil {
					return err
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				res, pw2, err := a.CreateReseller(ctx, cliActor, app.ResellerInput{Login: *login, Password: pw,
					Name: *name, Company: *company, Email: *email, Language: *lang, Limits: lim, Services: svc})
				if err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "login:    %s\n", res.Login)
				r.reportPassword(pw, pw2)
				fmt.Fprintf(r.stdout, "account:  %s (the reseller's own account, opened with the reseller's password)\n",
					panel.DefaultUserLogin(res.Login))
				return nil
			}
		},
	}
}

func resellerListCommand() *command {
	return &command{
		name:     "reseller list",
		synopsis: "[--db DSN] [--config FILE]",
		summary:  "list resellers with their number of users",
		about:    `Lists every reseller: login, name (or company), status and number of users.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				rows, err := a.Store.Resellers(ctx, cliActor)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "LOGIN\tNAME\tSTATUS\tUSERS")
				for _, row := range rows {
					name := row.Name
					if name == "" {
						name = row.Company
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", row.Login, orDash(name), row.Status, row.Users)
				}
				tw.Flush()
				fmt.Fprintf(r.stdout, "%d %s\n", len(rows), plural(len(rows), "reseller", "resellers"))
				return nil
			}
		},
	}
}

func resellerSetLimitCommand() *command {
	return &command{
		name:     "reseller set-limit",
		synopsis: "RESELLER RES=VALUE[:hard|:max][:unlimited]... [--db DSN] [--config FILE]",
		summary:  "change limits of a reseller",
		about: `Sets one or more limits of the reseller with login RESELLER; other limits
stay as they are. The spec is the one of 'reseller create --limit': VALUE is
a whole number (0 not available, -1 unlimited), ":max" (default) or ":hard",
and ":unlimited" to let the reseller grant unlimited. Lowering a limit below
what is already allocated is allowed: the overview shows it and further
grants beyond a hard limit are refused.
Resources: ` + resourceNames(panel.ResellerResources()),
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) < 2 {
					return usagef("need a reseller login and at least one RES=VALUE")
				}
				lim, err := parseResellerLimits("limit", args[1:])
				if err != nil {
					return err
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				id, err := resellerID(ctx, a, "reseller", args[0])
				if err != nil {
					return err
				}
				if err := a.Store.SetResellerLimits(ctx, cliActor, id, lim); err != nil {
					return err
				}
				for _, res := range panel.ResellerResources() {
					if l, ok := lim[res]; ok {
						fmt.Fprintf(r.stdout, "%s %s: %s\n", args[0], res, formatLimit(l))
					}
				}
				return nil
			}
		},
	}
}

func userCreateCommand() *command {
	return &command{
		name:     "user create",
		synopsis: "--reseller LOGIN [--password PASSWORD | --password-stdin] [--name NAME] [--company COMPANY] [--email EMAIL] [--lang en|de] [--domain DOMAIN]... [--limit RES=VALUE]... [--service NAME=LEVEL]...",
		summary:  "create a user (webN) for a reseller",
		about: `Creates the next user webN under the reseller --reseller and prints its login
and password (generated unless given). The reseller's limits apply as in the
panel: a grant beyond a hard limit is refused, a grant beyond a maximum is
allowed and reported. Resources not given are 0 (not available); services
not given are off.

A limit is RES=VALUE: a whole number, 0 for not available, -1 for unlimited
(only where the reseller may grant unlimited).
Resources: ` + resourceNames(panel.Resources()) + `
A service is NAME=LEVEL (0/off, 1/on; shell: 0/none, 1/sftp, 2/full; backup:
0/no, 1/yes, 2/upload), only services the reseller offers.
Services: ` + serviceNames() + `
Domains may be given in Unicode (müller-bäckerei.de); they are stored in
punycode and served by our name servers.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			reseller := fs.String("reseller", "", "`LOGIN` of the user's reseller (required)")
			pwFlag := fs.String("password", "", "the user's `PASSWORD` (default: generated)")
			pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
			name := fs.String("name", "", "the user's `NAME`")
			company := fs.String("company", "", "the user's `COMPANY`")
			email := fs.String("email", "", "the user's e-mail `ADDRESS`")
			lang := fs.String("lang", "", "panel `LANGUAGE`: en or de (default: the reseller's)")
			var domains, limits, services listFlag
			fs.Var(&domains, "domain", "a `DOMAIN` of the user; repeat for more")
			fs.Var(&limits, "limit", "a limit `SPEC`: RES=VALUE; repeat for each resource")
			fs.Var(&services, "service", "a service `SPEC`: NAME=LEVEL; repeat for each service")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *reseller == "" {
					return usagef("--reseller is required")
				}
				lim, err := parseUserLimits("--limit", limits)
				if err != nil {
					return err
				}
				svc, err := parseServices("--service", services, false)
				if err != nil {
					return err
				}
				pw, err := r.password(*pwFlag, *pwStdin)
				if err != nil {
					return err
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				rid, err := resellerID(ctx, a, "--reseller", *reseller)
				if err != nil {
					return err
				}
				doms := make([]store.NewDomain, len(domains))
				for i, dn := range domains {
					doms[i] = store.NewDomain{Name: dn, DNS: true}
				}
				res, pw2, err := a.CreateUser(ctx, cliActor, app.UserInput{ResellerID: rid, Password: pw, Language: *lang,
					Profile:  panel.Profile{Name: *name, Company: *company, Email: *email},
					Limits:   lim,
					Services: svc, Domains: doms})
				if err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "login:    %s\n", res.User.Login)
				r.reportPassword(pw, pw2)
				for _, dm := range res.User.Domains {
					if disp := dm.Display(); disp != dm.Name {
						fmt.Fprintf(r.stdout, "domain:   %s (%s)\n", disp, dm.Name)
					} else {
						fmt.Fprintf(r.stdout, "domain:   %s\n", dm.Name)
					}
				}
				for _, o := range res.Over {
					fmt.Fprintf(r.stderr, "kontor: note: %s: this grant passes %s's maximum (allowed; highlighted in the overview)\n",
						r.cat.T("en", "res."+string(o)), *reseller)
				}
				return nil
			}
		},
	}
}

func userListCommand() *command {
	return &command{
		name:     "user list",
		synopsis: "[--reseller LOGIN] [--search TEXT] [--page N] [--per N] [--db DSN] [--config FILE]",
		summary:  "list users, paged and searched",
		about: `Lists users (all, or those of --reseller) with name, status and domains,
one page at a time. --search matches login, name, e-mail or domain (Unicode
domains match their punycode form). The last line reads "N of TOTAL users".`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			reseller := fs.String("reseller", "", "only users of the reseller with this `LOGIN`")
			search := fs.String("search", "", "only users whose login, name, e-mail or domain contains `TEXT`")
			page := fs.Int("page", 1, "page `N`, from 1")
			per := fs.Int("per", 25, "`N` users per page, 1 to 100")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *page < 1 {
					return usagef("--page must be 1 or more")
				}
				if *per < 1 || *per > 100 {
					return usagef("--per must be from 1 to 100")
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				f := store.UserFilter{Search: *search, Offset: (*page - 1) * *per, Limit: *per}
				if *reseller != "" {
					if f.ResellerID, err = resellerID(ctx, a, "--reseller", *reseller); err != nil {
						return err
					}
				}
				rows, total, err := a.Store.Users(ctx, cliActor, f)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "LOGIN\tNAME\tSTATUS\tDOMAINS")
				for _, row := range rows {
					doms := make([]string, len(row.Domains))
					for i, dn := range row.Domains {
						doms[i] = panel.DisplayDomain(dn)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row.Login, orDash(row.Name), row.Status, orDash(strings.Join(doms, ", ")))
				}
				tw.Flush()
				pages := (total + *per - 1) / *per
				if pages < 1 {
					pages = 1
				}
				fmt.Fprintf(r.stdout, "%d of %d %s (page %d of %d)\n", len(rows), total, plural(total, "user", "users"), *page, pages)
				return nil
			}
		},
	}
}
