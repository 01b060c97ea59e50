package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"kontor/internal/panel"
)

// Templates (TPL-2) from the command line: the same store calls as the
// reseller's Templates menu, made as the admin for the reseller named by
// --reseller.

func templateCreateCommand() *command {
	return &command{
		name:     "template create",
		synopsis: "--reseller LOGIN --name NAME [--limit RES=VALUE]... [--service NAME=LEVEL]... [--db DSN] [--config FILE]",
		summary:  "create a template (a named set of user limits and services)",
		about: `Creates a template of the reseller --reseller: a named set of limits and
services that the create-user wizard copies into new users. Changing or
deleting a template later never changes users created from it.

The template may only give what the reseller has at all: -1 only where the
reseller may grant unlimited, nothing but 0 for a resource whose reseller
limit is 0, no more than a hard limit, and only services the reseller offers.
The name is unique per reseller (case does not count), 1 to 64 characters.

A limit is RES=VALUE: a whole number, 0 for not available, -1 for unlimited.
Resources not given are 0.
Resources: ` + resourceNames(panel.Resources()) + `
A service is NAME=LEVEL (0/off, 1/on; shell: 0/none, 1/sftp, 2/full; backup:
0/no, 1/yes, 2/upload). Services not given are off.
Services: ` + serviceNames() + `

Example:
  kontor template create --reseller res1 --name "Web S" --limit storage=1024 \
    --limit pop3=5 --limit email=20 --service php=1 --service ftp=on`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			reseller := fs.String("reseller", "", "`LOGIN` of the reseller the template belongs to (required)")
			name := fs.String("name", "", "the template's `NAME` (required)")
			var limits, services listFlag
			fs.Var(&limits, "limit", "a limit `SPEC`: RES=VALUE; repeat for each resource")
			fs.Var(&services, "service", "a service `SPEC`: NAME=LEVEL; repeat for each service")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *reseller == "" {
					return usagef("--reseller is required")
				}
				if *name == "" {
					return usagef("--name is required")
				}
				lim, err := parseUserLimits("--limit", limits)
				if err != nil {
					return err
				}
				svc, err := parseServices("--service", services, false)
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
				t, err := a.Store.CreateTemplate(ctx, cliActor, panel.Template{ResellerID: rid, Name: *name, Limits: lim, Services: svc})
				if err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "template: %s (id %d)\n", t.Name, t.ID)
				fmt.Fprintf(r.stdout, "limits:   %s\n", formatTemplateLimits(t.Limits))
				fmt.Fprintf(r.stdout, "services: %s\n", formatTemplateServices(t.Services))
				return nil
			}
		},
	}
}

func templateListCommand() *command {
	return &command{
		name:     "template list",
		synopsis: "--reseller LOGIN [--db DSN] [--config FILE]",
		summary:  "list a reseller's templates",
		about: `Lists the templates of the reseller --reseller by name: id, name, the
limits that are not 0 (-1 shows as unlimited) and the services that are on.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			reseller := fs.String("reseller", "", "`LOGIN` of the reseller (required)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *reseller == "" {
					return usagef("--reseller is required")
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
				ts, err := a.Store.TemplatesOf(ctx, cliActor, rid)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tLIMITS\tSERVICES")
				for _, t := range ts {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", t.ID, t.Name, formatTemplateLimits(t.Limits), formatTemplateServices(t.Services))
				}
				tw.Flush()
				fmt.Fprintf(r.stdout, "%d %s\n", len(ts), plural(len(ts), "template", "templates"))
				return nil
			}
		},
	}
}

func templateDeleteCommand() *command {
	return &command{
		name:     "template delete",
		synopsis: "--reseller LOGIN NAME... [--db DSN] [--config FILE]",
		summary:  "delete templates of a reseller",
		about: `Deletes the named templates of the reseller --reseller, with their
registration e-mails: all of them, or none when one name is not found.
Users created from them keep their limits and services.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			reseller := fs.String("reseller", "", "`LOGIN` of the reseller (required)")
			return func(ctx context.Context, args []string) error {
				if *reseller == "" {
					return usagef("--reseller is required")
				}
				if len(args) == 0 {
					return usagef("name at least one template to delete")
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
				ts, err := a.Store.TemplatesOf(ctx, cliActor, rid)
				if err != nil {
					return err
				}
				byKey := map[string]panel.Template{}
				for _, t := range ts {
					byKey[panel.TemplateNameKey(t.Name)] = t
				}
				var ids []int64
				var names []string
				for _, n := range args {
					t, ok := byKey[panel.TemplateNameKey(strings.TrimSpace(n))]
					if !ok {
						return &panel.Error{Kind: panel.KindNotFound, Field: "NAME", Key: "err.notfound",
							Args: []any{"template " + strconv.Quote(n) + " of " + *reseller}}
					}
					ids = append(ids, t.ID)
					names = append(names, t.Name)
				}
				if err := a.Store.DeleteTemplates(ctx, cliActor, ids); err != nil {
					return err
				}
				for _, n := range names {
					fmt.Fprintf(r.stdout, "deleted: %s\n", n)
				}
				return nil
			}
		},
	}
}

// formatTemplateLimits lists the limits that are not 0, in display order.
func formatTemplateLimits(l panel.Limits) string {
	var parts []string
	for _, r := range panel.Resources() {
		switch v := l[r]; v {
		case 0:
		case panel.Unlimited:
			parts = append(parts, string(r)+"=unlimited")
		default:
			parts = append(parts, string(r)+"="+strconv.FormatInt(v, 10))
		}
	}
	return orDash(strings.Join(parts, " "))
}

// formatTemplateServices lists the services that are on, with the level
// where a service has more than one.
func formatTemplateServices(ss panel.ServiceSet) string {
	var parts []string
	for _, s := range panel.Services() {
		lvl := ss[s]
		switch {
		case lvl == 0:
		case s.MaxLevel() == 1:
			parts = append(parts, string(s))
		default:
			parts = append(parts, string(s)+"="+strconv.Itoa(lvl))
		}
	}
	return orDash(strings.Join(parts, " "))
}
