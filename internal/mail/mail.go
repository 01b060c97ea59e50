// Package mail sends Kontor's outgoing mail (registration mails, circulars)
// through an SMTP relay.
package mail

import "context"

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
