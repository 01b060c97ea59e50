package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"kontor/internal/panel"
)

// DefaultRelay is the relay of a fresh installation: the local MTA.
const DefaultRelay = "localhost:25"

// DefaultTimeout bounds one delivery to the relay (connect, dialogue,
// data); a relay that hangs must not stall a circular for long.
const DefaultTimeout = 30 * time.Second

// SMTP sends through a relay with go-mail: no authentication and
// opportunistic STARTTLS, the setup of a panel that hands its mail to the
// local Postfix or to the provider's smarthost on a trusted network.
type SMTP struct {
	// Relay returns "host:port" at send time, so a change of the admin's
	// setting applies to the next mail without a restart.
	Relay func(ctx context.Context) (string, error)
	// Timeout of one delivery; DefaultTimeout when zero.
	Timeout time.Duration
	// HELO is the name given to the relay; the host name when empty.
	HELO string
	// Now stamps the Date header; time.Now when nil.
	Now func() time.Time
}

// SendError is a delivery the relay (or the way to it) refused; Error()
// carries the relay's own reply, e.g. "550 5.1.1 <x@example.com>: no such
// user", which is what a reseller needs to see.
type SendError struct {
	Relay string
	Err   error
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// smtpReply finds the relay's replies in go-mail's error text, where
// net/textproto writes each as code and quoted message: 550 "5.1.1 …".
var smtpReply = regexp.MustCompile(`\b([2-5]\d\d) ("(?:[^"\\]|\\.)*")`)

// Reply is what a person should read: the relay's own replies ("550 5.1.1
// <x@example.com>: Recipient address rejected: User unknown"), or, when
// the relay never answered, the reason without go-mail's internals.
func (e *SendError) Reply() string {
	text := e.Err.Error()
	var out []string
	for _, m := range smtpReply.FindAllStringSubmatch(text, -1) {
		if msg, err := strconv.Unquote(m[2]); err == nil {
			out = append(out, m[1]+" "+msg)
		}
	}
	if len(out) > 0 {
		return strings.Join(out, "; ")
	}
	if i := strings.Index(text, ", affected message ID"); i >= 0 {
		text = text[:i]
	}
	return e.Relay + ": " + text
}

// Send checks every field of m (nothing reaches the relay when one is bad)
// and delivers it.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	m, err := m.Clean()
	if err != nil {
		return err
	}
	if s.Relay == nil {
		return panel.Internal(errors.New("mail: no relay configured"))
	}
	relay, err := s.Relay(ctx)
	if err != nil {
		return err
	}
	host, port, err := ParseRelay("mail_relay", relay)
	if err != nil {
		return err
	}
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
		// Opportunistic TLS as Postfix's "may" level: encrypt when the
		// relay offers STARTTLS, without verifying its certificate (a
		// local MTA has the snakeoil one). Refusing an unverifiable
		// certificate would only make the mail go out in clear text, or
		// not at all.
		gomail.WithTLSConfig(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}), //nolint:gosec // see above
		// go-mail joins host and port with a bare colon, which breaks IPv6
		// addresses: dial the joined address ourselves.
		gomail.WithDialContextFunc(func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
	}
	if s.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.HELO))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return panel.Internal(fmt.Errorf("mail client for %s: %w", relay, err))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return &SendError{Relay: relay, Err: err}
	}
	return nil
}

// build turns a cleaned message into a go-mail message: UTF-8 plain text,
// quoted-printable, encoded words for non-ASCII names and subjects.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP), gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(m.FromName, m.From); err != nil {
		return nil, panel.Invalid("from", "err.email")
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return nil, panel.Invalid("to", "err.email")
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, panel.Invalid("reply_to", "err.email")
		}
	}
	msg.Subject(m.Subject)
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg.SetDateWithValue(now())
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	return msg, nil
}

// ParseRelay checks a relay address "host:port": host is a host name
// (letters, digits, '-', dots), an IPv4 address or a bracketed IPv6
// address; port is 1 to 65535. It never lets anything else through, as the
// value is dialled by the panel.
func ParseRelay(field, s string) (string, int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", 0, panel.Invalid(field, "err.required")
	}
	if CheckHeader(field, s) != nil || len(s) > 300 {
		return "", 0, panel.Invalid(field, "err.mail.relay")
	}
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, panel.Invalid(field, "err.mail.relay")
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != ps {
		return "", 0, panel.Invalid(field, "err.mail.relay")
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.To4() == nil && !strings.HasPrefix(s, "[") {
			return "", 0, panel.Invalid(field, "err.mail.relay")
		}
		return ip.String(), port, nil
	}
	if !validHostName(host) {
		return "", 0, panel.Invalid(field, "err.mail.relay")
	}
	return strings.ToLower(host), port, nil
}

// validHostName accepts an ASCII host name, single label ("localhost")
// included.
func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// An all-numeric name would be an IPv4 address ParseIP refused.
	return strings.Trim(strings.ReplaceAll(h, ".", ""), "0123456789") != ""
}
