// Package mail sends Kontor's outgoing mail (registration mails, circulars)
// through an SMTP relay.
package mail

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"kontor/internal/panel"
)

// Message is one plain-text mail in UTF-8. Addresses are plain
// (name@domain); names are display names. Every field is checked for
// header injection before sending.
type Message struct {
	FromName string
	From     string
	ToName   string
	To       string
	ReplyTo  string
	Subject  string
	Body     string
}

// Sender delivers a message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Limits of a message, generous for a circular and small enough that a
// stored draft or a queued mail stays a few kilobytes.
const (
	MaxSubjectLen = 200    // characters
	MaxBodyLen    = 100000 // bytes
)

// CheckHeader refuses a value that would end or extend a header line: CR,
// LF, NUL and every other control character, and invalid UTF-8. It is the
// one check that stands between a form field and a "Bcc:" line in the
// mail, so it runs on every header value, however it was built.
func CheckHeader(field, v string) error {
	if !utf8.ValidString(v) {
		return panel.Invalid(field, "err.mail.header")
	}
	for _, r := range v {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return panel.Invalid(field, "err.mail.header")
		}
	}
	return nil
}

// CheckBody refuses a body that is not UTF-8 text: NUL and control
// characters other than tab and line breaks, or more than MaxBodyLen bytes.
// Empty is refused when required.
func CheckBody(field, v string, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return panel.Invalid(field, "err.required")
	}
	if len(v) > MaxBodyLen {
		return panel.Invalid(field, "err.mail.body_long", MaxBodyLen/1000)
	}
	if !utf8.ValidString(v) {
		return panel.Invalid(field, "err.mail.body_chars")
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return panel.Invalid(field, "err.mail.body_chars")
		}
	}
	return nil
}

// CheckName checks a display name (optional) or a subject.
func CheckName(field, v string, required bool, maxLen int) (string, error) {
	if err := CheckHeader(field, v); err != nil {
		return "", err
	}
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", panel.Invalid(field, "err.required")
	}
	if utf8.RuneCountInString(v) > maxLen {
		return "", panel.Invalid(field, "err.text.long", maxLen)
	}
	return v, nil
}

// Clean checks every field of m and returns it trimmed, with the body's
// line ends normalised to LF. From, To and Subject are required; FromName,
// ToName and ReplyTo are optional. The error names the first bad field
// ("from_name", "from", "to_name", "to", "reply_to", "subject", "body").
func (m Message) Clean() (Message, error) {
	// The raw values are checked before anything is trimmed, so that a
	// trailing "\r\n" is refused rather than silently dropped.
	for _, f := range []struct{ field, v string }{
		{"from_name", m.FromName}, {"from", m.From}, {"to_name", m.ToName},
		{"to", m.To}, {"reply_to", m.ReplyTo}, {"subject", m.Subject},
	} {
		if err := CheckHeader(f.field, f.v); err != nil {
			return Message{}, err
		}
	}
	var err error
	out := Message{}
	if out.FromName, err = CheckName("from_name", m.FromName, false, panel.MaxTextLen); err != nil {
		return Message{}, err
	}
	if out.From, err = panel.ValidateEmail("from", m.From, true); err != nil {
		return Message{}, err
	}
	if out.ToName, err = CheckName("to_name", m.ToName, false, panel.MaxTextLen); err != nil {
		return Message{}, err
	}
	if out.To, err = panel.ValidateEmail("to", m.To, true); err != nil {
		return Message{}, err
	}
	if out.ReplyTo, err = panel.ValidateEmail("reply_to", m.ReplyTo, false); err != nil {
		return Message{}, err
	}
	if out.Subject, err = CheckName("subject", m.Subject, true, MaxSubjectLen); err != nil {
		return Message{}, err
	}
	if err := CheckBody("body", m.Body, false); err != nil {
		return Message{}, err
	}
	out.Body = strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\r", "\n")
	return out, nil
}
