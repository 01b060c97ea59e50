package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"kontor/internal/app"
	"kontor/internal/panel"
)

// Commands for a user's cron jobs (SYS-1). They act as the admin through
// the store, which checks the schedule, the command and the user's
// cron_jobs limit as for the panel.

func cronAddCommand() *command {
	return &command{
		name:     "cron add",
		synopsis: `LOGIN "SCHEDULE" "COMMAND" [--db DSN] [--config FILE]`,
		summary:  "add a cron job to a user",
		about: `Adds a cron job to the user LOGIN; the agent writes it into the user's
crontab and cron runs it as the user with /bin/sh.
SCHEDULE is five fields, minute hour day-of-month month day-of-week (such as
"30 2 * * *" or "*/15 * * * mon-fri"), or one of ` + strings.Join(panel.CronDescriptors(), " ") + `.
COMMAND is one line, passed to the shell as written: a % needs no backslash.
The user's cron_jobs limit applies (0: not available).

Example:
  kontor cron add web7 "*/5 * * * *" "php /home/web7/html/cron.php"`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) != 3 {
					return usagef("need the user's login, a schedule and a command (quote each)")
				}
				a, u, done, err := r.openUser(ctx, d, args[0])
				if err != nil {
					return err
				}
				defer done()
				job, err := a.Store.AddCronJob(ctx, cliActor, u.ID, args[1], args[2])
				if err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "%s: cron job %d: %s %s\n", u.Login, job.ID, job.Schedule, job.Command)
				return nil
			}
		},
	}
}

func cronListCommand() *command {
	return loginCommand("cron list", "list a user's cron jobs",
		`Lists the cron jobs of the user LOGIN: id, whether enabled, schedule, command.`,
		func(ctx context.Context, r *runner, a *app.App, u panel.User) error {
			jobs, err := a.Store.ListCronJobs(ctx, cliActor, u.ID)
			if err != nil {
				return err
			}
			if len(jobs) == 0 {
				fmt.Fprintf(r.stdout, "%s has no cron jobs\n", u.Login)
				return nil
			}
			tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "ID\tENABLED\tSCHEDULE\tCOMMAND\n")
			for _, j := range jobs {
				on := "yes"
				if !j.Enabled {
					on = "no"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", j.ID, on, j.Schedule, j.Command)
			}
			return tw.Flush()
		})
}

func cronDeleteCommand() *command {
	return &command{
		name:     "cron delete",
		synopsis: "LOGIN ID [--db DSN] [--config FILE]",
		summary:  "delete a cron job of a user",
		about: `Deletes the cron job ID (see 'kontor cron list') of the user LOGIN; the
agent removes it from the user's crontab.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) != 2 {
					return usagef("need the user's login and the job's id")
				}
				id, err := strconv.ParseInt(args[1], 10, 64)
				if err != nil || id <= 0 {
					return usagef("job id %q is not a number", args[1])
				}
				a, u, done, err := r.openUser(ctx, d, args[0])
				if err != nil {
					return err
				}
				defer done()
				if err := a.Store.DeleteCronJob(ctx, cliActor, u.ID, id); err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "%s: cron job %d deleted\n", u.Login, id)
				return nil
			}
		},
	}
}
