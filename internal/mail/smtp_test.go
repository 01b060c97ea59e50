package mail_test

import (
	"context"
	"errors"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	kmail "kontor/internal/mail"
	"kontor/internal/mail/mailtest"
	"kontor/internal/panel"
)

// sender returns an SMTP sender whose relay is whatever *relay holds at
// send time.
func sender(relay *string) *kmail.SMTP {
	return &kmail.SMTP{Relay: func(context.Context) (string, error) { return *relay, nil }, Timeout: 5 * time.Second, HELO: "kontor.test"}
}

func welcome(to string) kmail.Message {
	return kmail.Message{FromName: "Müller & Söhne", From: "info@mueller.example", ToName: "Anna Älpha", To: to,
		ReplyTo: "support@mueller.example", Subject: "Willkommen bei Müller & Söhne",
		Body: "Guten Tag Anna Älpha,\r\n\r\nIhr Login lautet web1.\r\nGrüße aus Köln – Ihr Team\r\n"}
}

func TestSendPlainTextUTF8(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	relay := srv.Addr
	before := time.Now().Add(-time.Second)
	if err := sender(&relay).Send(t.Context(), welcome("anna@example.com")); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.Wait(1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("received %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != "info@mueller.example" || strings.Join(m.To, ",") != "anna@example.com" {
		t.Errorf("envelope %q -> %v", m.From, m.To)
	}
	if s := m.Subject(); s != "Willkommen bei Müller & Söhne" {
		t.Errorf("subject %q", s)
	}
	// Non-ASCII never travels raw in a header: it is an encoded word.
	raw := m.Header.Get("Subject")
	if !strings.HasPrefix(strings.ToLower(raw), "=?utf-8?") {
		t.Errorf("subject header not RFC 2047 encoded: %q", raw)
	}
	from, err := mail.ParseAddress(m.Decoded("From"))
	if err != nil || from.Name != "Müller & Söhne" || from.Address != "info@mueller.example" {
		t.Errorf("From %q: %+v %v", m.Header.Get("From"), from, err)
	}
	to, err := mail.ParseAddress(m.Decoded("To"))
	if err != nil || to.Name != "Anna Älpha" || to.Address != "anna@example.com" {
		t.Errorf("To %q: %+v %v", m.Header.Get("To"), to, err)
	}
	if rt := m.Header.Get("Reply-To"); !strings.Contains(rt, "support@mueller.example") {
		t.Errorf("Reply-To %q", rt)
	}
	date, err := m.Header.Date()
	if err != nil || date.Before(before) || date.After(time.Now().Add(time.Second)) {
		t.Errorf("Date %q: %v %v", m.Header.Get("Date"), date, err)
	}
	if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || !strings.Contains(id, "@") {
		t.Errorf("Message-ID %q", id)
	}
	if ct := strings.ToLower(m.Header.Get("Content-Type")); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(ct, "charset=utf-8") {
		t.Errorf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	if cte := strings.ToLower(m.Header.Get("Content-Transfer-Encoding")); cte != "quoted-printable" && cte != "base64" {
		t.Errorf("Content-Transfer-Encoding %q", cte)
	}
	if want := "Guten Tag Anna Älpha,\n\nIhr Login lautet web1.\nGrüße aus Köln – Ihr Team\n"; m.Body != want {
		t.Errorf("body %q, want %q", m.Body, want)
	}
	// No 8-bit byte travels unencoded.
	for _, b := range m.Data {
		if b >= 0x80 {
			t.Fatalf("raw message contains 8-bit data:\n%s", m.Data)
		}
	}
}

// A local Postfix offers STARTTLS with a self-signed certificate: the
// sender encrypts anyway (opportunistic TLS) instead of failing.
func TestSendUsesSTARTTLSWhenOffered(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{STARTTLS: true})
	relay := srv.Addr
	if err := sender(&relay).Send(t.Context(), welcome("anna@example.com")); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.Wait(1, 5*time.Second)
	if len(got) != 1 || !got[0].TLS {
		t.Fatalf("received %d, TLS %v; want 1 over TLS", len(got), len(got) == 1 && got[0].TLS)
	}
}

func TestHeaderInjectionIsRefusedBeforeConnecting(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	relay := srv.Addr
	s := sender(&relay)
	bad := []struct {
		name  string
		edit  func(m *kmail.Message)
		field string
	}{
		{"subject CRLF Bcc", func(m *kmail.Message) { m.Subject = "Hi\r\nBcc: victim@example.com" }, "subject"},
		{"subject LF", func(m *kmail.Message) { m.Subject = "Hi\nX-Evil: 1" }, "subject"},
		{"subject trailing CRLF", func(m *kmail.Message) { m.Subject = "Hi\r\n" }, "subject"},
		{"subject NUL", func(m *kmail.Message) { m.Subject = "Hi\x00there" }, "subject"},
		{"from name LF", func(m *kmail.Message) { m.FromName = "Shop\nBcc: victim@example.com" }, "from_name"},
		{"from name CR", func(m *kmail.Message) { m.FromName = "Shop\r" }, "from_name"},
		{"to name LF", func(m *kmail.Message) { m.ToName = "Anna\nBcc: victim@example.com" }, "to_name"},
		{"from CRLF", func(m *kmail.Message) { m.From = "info@mueller.example\r\nBcc: victim@example.com" }, "from"},
		{"to CRLF", func(m *kmail.Message) { m.To = "anna@example.com\r\nBcc: victim@example.com" }, "to"},
		{"to list", func(m *kmail.Message) { m.To = "anna@example.com, victim@example.com" }, "to"},
		{"to with name", func(m *kmail.Message) { m.To = "Victim <victim@example.com>" }, "to"},
		{"reply-to LF", func(m *kmail.Message) { m.ReplyTo = "a@example.com\nBcc: victim@example.com" }, "reply_to"},
		{"reply-to bad", func(m *kmail.Message) { m.ReplyTo = "not an address" }, "reply_to"},
		{"from missing", func(m *kmail.Message) { m.From = "" }, "from"},
		{"to missing", func(m *kmail.Message) { m.To = "" }, "to"},
		{"subject missing", func(m *kmail.Message) { m.Subject = "  " }, "subject"},
		{"subject too long", func(m *kmail.Message) { m.Subject = strings.Repeat("ü", kmail.MaxSubjectLen+1) }, "subject"},
		{"body NUL", func(m *kmail.Message) { m.Body = "a\x00b" }, "body"},
		{"body escape", func(m *kmail.Message) { m.Body = "a\x1b[31mb" }, "body"},
		{"body invalid UTF-8", func(m *kmail.Message) { m.Body = "a\xffb" }, "body"},
		{"body too long", func(m *kmail.Message) { m.Body = strings.Repeat("x", kmail.MaxBodyLen+1) }, "body"},
		{"subject invalid UTF-8", func(m *kmail.Message) { m.Subject = "\xff" }, "subject"},
		{"subject line separator", func(m *kmail.Message) { m.Subject = "Hi\u2028Bcc: x@example.com" }, "subject"},
	}
	for _, b := range bad {
		m := welcome("anna@example.com")
		b.edit(&m)
		err := s.Send(t.Context(), m)
		var pe *panel.Error
		if !errors.As(err, &pe) || pe.Kind != panel.KindInvalid || pe.Field != b.field {
			t.Errorf("%s: got %v, want invalid %s", b.name, err, b.field)
		}
	}
	if n := srv.Sessions(); n != 0 {
		t.Fatalf("the server saw %d sessions; nothing may reach it", n)
	}
}

func TestRelayRefusal(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.Reject("ghost@example.com", "<ghost@example.com>: Recipient address rejected: User unknown")
	relay := srv.Addr
	err := sender(&relay).Send(t.Context(), welcome("ghost@example.com"))
	var se *kmail.SendError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "550") || !strings.Contains(err.Error(), "User unknown") {
		t.Fatalf("got %v, want the relay's 550 reply", err)
	}
	if want := "550 5.1.1 <ghost@example.com>: Recipient address rejected: User unknown"; se.Reply() != want {
		t.Errorf("Reply() = %q, want %q", se.Reply(), want)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a refused recipient got the message")
	}
}

// The relay is read at send time: changing the setting applies to the
// next mail without a restart.
func TestRelayIsReadAtSendTime(t *testing.T) {
	a := mailtest.Start(t, mailtest.Options{})
	b := mailtest.Start(t, mailtest.Options{})
	relay := a.Addr
	s := sender(&relay)
	if err := s.Send(t.Context(), welcome("anna@example.com")); err != nil {
		t.Fatal(err)
	}
	relay = b.Addr
	if err := s.Send(t.Context(), welcome("anna@example.com")); err != nil {
		t.Fatal(err)
	}
	if len(a.Wait(1, 5*time.Second)) != 1 || len(b.Wait(1, 5*time.Second)) != 1 {
		t.Fatalf("a got %d, b got %d; want 1 each", len(a.Messages()), len(b.Messages()))
	}
}

func TestUnreachableRelay(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	relay := ln.Addr().String()
	ln.Close()
	start := time.Now()
	err = sender(&relay).Send(t.Context(), welcome("anna@example.com"))
	var se *kmail.SendError
	if !errors.As(err, &se) || se.Relay != relay {
		t.Fatalf("got %v, want a SendError naming %s", err, relay)
	}
	if r := se.Reply(); !strings.HasPrefix(r, relay+": ") || !strings.Contains(r, "refused") {
		t.Fatalf("Reply() = %q", r)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

func TestParseRelay(t *testing.T) {
	good := map[string]string{
		"localhost:25":         "localhost:25",
		"Mail.Example.COM:587": "mail.example.com:587",
		"127.0.0.1:2525":       "127.0.0.1:2525",
		"[::1]:25":             "::1:25",
		" smtp.example.de:25 ": "smtp.example.de:25",
	}
	for in, want := range good {
		h, p, err := kmail.ParseRelay("mail_relay", in)
		if err != nil || h+":"+itoa(p) != want {
			t.Errorf("ParseRelay(%q) = %s %d %v, want %s", in, h, p, err, want)
		}
	}
	for _, in := range []string{"", "localhost", "localhost:", ":25", "localhost:0", "localhost:65536", "localhost:+25",
		"localhost:025", "local host:25", "-mail.example:25", "mail..example:25", "mail.example:25\r\nX: y",
		"mail.example:smtp", "::1:25", "1.2.3:25", "user@mail.example:25", "mail_example:25", "mail.example:25/x"} {
		if _, _, err := kmail.ParseRelay("mail_relay", in); err == nil {
			t.Errorf("ParseRelay(%q) accepted", in)
		} else if pe := panel.AsError(err); pe.Field != "mail_relay" || pe.Kind != panel.KindInvalid {
			t.Errorf("ParseRelay(%q): %v", in, err)
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
