package app

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	"kontor/internal/mail"
	"kontor/internal/panel"
)

// SMTPMailer is the production mail.Sender: go-mail through the relay of
// the admin's settings, read at every send, so that a changed relay
// applies to the next mail without a restart.
func (a *App) SMTPMailer() *mail.SMTP {
	return &mail.SMTP{
		Relay: func(ctx context.Context) (string, error) {
			set, err := a.Settings(ctx)
			if err != nil {
				return "", err
			}
			return set.MailRelay, nil
		},
		Timeout: mail.DefaultTimeout,
		Now:     a.Now,
	}
}

// cleanRelay checks the relay setting; empty means the default.
func cleanRelay(relay string) (string, error) {
	if strings.TrimSpace(relay) == "" {
		return mail.DefaultRelay, nil
	}
	host, port, err := mail.ParseRelay("mail_relay", relay)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// errNoMailer is a panel started without a mail sender (a CLI command, a
// test): nothing can be sent.
var errNoMailer = errors.New("no mail sender configured")

// deliver checks every field of m (nothing goes out when one is bad) and
// hands it to the Mailer. Errors are as the sender returns them: a
// panel.Error for bad input, a *mail.SendError with the relay's reply.
func (a *App) deliver(ctx context.Context, m mail.Message) error {
	m, err := m.Clean()
	if err != nil {
		return err
	}
	if a.Mailer == nil {
		return panel.Internal(errNoMailer)
	}
	return a.Mailer.Send(ctx, m)
}

// sendFailure is what a person sees when a delivery failed: the relay's
// reply (it names the reason, e.g. an unknown recipient), on one line.
func sendFailure(err error) error {
	var pe *panel.Error
	if errors.As(err, &pe) {
		return err
	}
	return &panel.Error{Kind: panel.KindInternal, Key: "err.mail.send", Args: []any{failureText(err)}, Err: err}
}

// failureText is a delivery error as one line of text for the reseller.
func failureText(err error) string {
	if errors.Is(err, errNoMailer) {
		return errNoMailer.Error()
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		err = errors.New(se.Reply())
	}
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, err.Error())), " ")
}
