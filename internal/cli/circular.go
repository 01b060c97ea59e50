package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"kontor/internal/app"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// resellerActor is the CLI acting for one reseller: circulars belong to a
// reseller, and the store checks every recipient against that reseller.
func resellerActor(ctx context.Context, a *app.App, login string) (panel.Actor, error) {
	id, err := resellerID(ctx, a, "--reseller", login)
	if err != nil {
		return panel.Actor{}, err
	}
	return panel.Actor{ID: id, Role: panel.RoleReseller, Login: login, ResellerID: id}, nil
}

func circularSendCommand() *command {
	return &command{
		name:     "circular send",
		synopsis: "--reseller LOGIN --subject TEXT (--body TEXT | --body-file FILE) [--to LOGIN]... [--from ADDR] [--from-name NAME] [--wait]",
		summary:  "send a circular to a reseller's users",
		about: `Queues a circular (USR-4) from a reseller to its users that have an e-mail
address: all of them, or only the --to logins. The tags ##login##, ##name##,
##company## and ##email## are filled in per recipient; any other tag is
refused. The panel's runner (kontor serve) sends the queue; with --wait this
command sends it itself through the configured relay and prints the result
per recipient. The sender defaults to the reseller's name and address.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			reseller := fs.String("reseller", "", "the reseller `LOGIN` who sends")
			subject := fs.String("subject", "", "the `TEXT` of the subject")
			body := fs.String("body", "", "the `TEXT` of the mail")
			bodyFile := fs.String("body-file", "", "read the text from `FILE` (- for standard input)")
			from := fs.String("from", "", "sender `ADDR` (default: the reseller's)")
			fromName := fs.String("from-name", "", "sender `NAME` (default: the reseller's)")
			wait := fs.Bool("wait", false, "send now and print the result per recipient")
			var to listFlag
			fs.Var(&to, "to", "a recipient's user `LOGIN`; repeat for more (default: every user with an address)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *reseller == "" {
					return usagef("--reseller is required")
				}
				if (*body == "") == (*bodyFile == "") {
					return usagef("give either --body or --body-file")
				}
				text := *body
				if *bodyFile != "" {
					b, err := readBody(r.stdin, *bodyFile)
					if err != nil {
						return err
					}
					text = b
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				actor, err := resellerActor(ctx, a, *reseller)
				if err != nil {
					return err
				}
				in, err := a.CircularDefaults(ctx, actor)
				if err != nil {
					return err
				}
				in.Subject, in.Body = *subject, text
				if *from != "" {
					in.From = *from
				}
				if *fromName != "" {
					in.FromName = *fromName
				}
				var ids []int64
				for _, login := range to {
					u, err := a.Store.UserByLogin(ctx, actor, strings.ToLower(strings.TrimSpace(login)))
					if panel.ErrorKind(err) == panel.KindNotFound {
						return &panel.Error{Kind: panel.KindNotFound, Field: "--to", Key: "err.notfound", Args: []any{"user " + login}}
					}
					if err != nil {
						return err
					}
					ids = append(ids, u.ID)
				}
				id, n, err := a.SendCircular(ctx, actor, in, len(ids) == 0, ids)
				if err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "circular %d queued for %d recipients\n", id, n)
				if !*wait {
					fmt.Fprintln(r.stdout, "kontor serve sends it; see 'kontor circular status'")
					return nil
				}
				a.Mailer = a.SMTPMailer()
				if _, err := a.SendQueuedCirculars(ctx, app.RunnerOptions{}); err != nil {
					return err
				}
				return printCircular(ctx, r.stdout, a, actor, id)
			}
		},
	}
}

func circularStatusCommand() *command {
	return &command{
		name:     "circular status",
		synopsis: "--reseller LOGIN [ID]",
		summary:  "show a reseller's circulars, or one with its recipients",
		about: `Without an ID, lists the reseller's circulars with sent, failed and left
counts. With an ID, shows that circular and the result per recipient.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			reseller := fs.String("reseller", "", "the reseller `LOGIN`")
			return func(ctx context.Context, args []string) error {
				if *reseller == "" {
					return usagef("--reseller is required")
				}
				if len(args) > 1 {
					return usagef("unexpected argument %q", args[1])
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				actor, err := resellerActor(ctx, a, *reseller)
				if err != nil {
					return err
				}
				if len(args) == 1 {
					id, err := strconv.ParseInt(args[0], 10, 64)
					if err != nil {
						return usagef("ID must be a number, not %q", args[0])
					}
					return printCircular(ctx, r.stdout, a, actor, id)
				}
				cs, total, err := a.Store.Circulars(ctx, actor, 0, 100)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tSENT\tFAILED\tLEFT\tSUBJECT")
				for _, c := range cs {
					fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%s\n", c.ID, c.Status, c.Counts.Sent, c.Counts.Failed, c.Counts.Left(), c.Subject)
				}
				tw.Flush()
				fmt.Fprintf(r.stdout, "%d circulars\n", total)
				return nil
			}
		},
	}
}

func printCircular(ctx context.Context, w io.Writer, a *app.App, actor panel.Actor, id int64) error {
	c, err := a.Store.Circular(ctx, actor, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "circular %d: %s\nsent %d, failed %d, left %d of %d\n", c.ID, c.Status, c.Counts.Sent, c.Counts.Failed, c.Counts.Left(), c.Counts.Total)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tADDRESS\tSTATUS\tRESULT")
	for off := 0; ; off += 100 {
		rs, total, err := a.Store.CircularRecipients(ctx, actor, id, store.RecipientFilter{Offset: off, Limit: 100})
		if err != nil {
			return err
		}
		for _, x := range rs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Login, x.Email, x.Status, orDash(x.Error))
		}
		if off+100 >= total {
			break
		}
	}
	return tw.Flush()
}

func readBody(stdin io.Reader, path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("--body-file: %w", err)
	}
	return string(b), nil
}
