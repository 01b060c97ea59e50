package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sync"

	"kontor/internal/app"
	"kontor/internal/mail"
)

// startMail gives the app its SMTP sender and starts the circular runner
// (USR-4) for serve and demo. The returned stop ends the runner and waits
// for it, so that the store is not closed under a delivery.
func (r *runner) startMail(ctx context.Context, a *app.App, log *slog.Logger) (stop func()) {
	a.Mailer = a.SMTPMailer()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.RunCirculars(ctx, app.RunnerOptions{})
	}()
	log.Debug("circular runner started")
	return func() {
		cancel()
		wg.Wait()
	}
}

func mailTestCommand() *command {
	return &command{
		name:     "mail test",
		synopsis: "--to ADDR [--from ADDR] [--db DSN] [--config FILE]",
		summary:  "send a test mail through the configured relay",
		about: `Sends a short plain-text mail to --to through the mail relay of the server
settings (mail_relay, default localhost:25), the way registration mails and
circulars go out: no login, STARTTLS when the relay offers it. The sender
is --from, or the recipient itself. A refusal prints the relay's reply.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			to := fs.String("to", "", "send to `ADDR`")
			from := fs.String("from", "", "send from `ADDR` (default: the --to address)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *to == "" {
					return usagef("--to is required")
				}
				if *from == "" {
					*from = *to
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				a.Mailer = a.SMTPMailer()
				set, err := a.Settings(ctx)
				if err != nil {
					return err
				}
				m := mail.Message{FromName: "Kontor", From: *from, To: *to, Subject: "Kontor test mail",
					Body: "This is a test mail from Kontor, sent through the relay " + set.MailRelay + ".\n"}
				if err := a.SendMail(ctx, cliActor, m); err != nil {
					return err
				}
				fmt.Fprintf(r.stdout, "sent to %s via %s\n", *to, set.MailRelay)
				return nil
			}
		},
	}
}
