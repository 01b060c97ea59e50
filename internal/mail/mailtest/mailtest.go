// Package mailtest runs a real SMTP server on 127.0.0.1 for tests: it
// receives what Kontor sends, records envelope and message, and can refuse
// chosen recipients the way a relay does ("550 no such user"). It is
// imported by tests only.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// Received is one message as the server accepted it.
type Received struct {
	From   string   // envelope sender (MAIL FROM)
	To     []string // envelope recipients (RCPT TO) that were accepted
	Data   []byte   // the message as transmitted
	TLS    bool     // the session had switched to TLS (STARTTLS)
	Header mail.Header
	Body   string // decoded (quoted-printable or base64) body
}

// Subject is the decoded Subject header.
func (r Received) Subject() string { return decodeWords(r.Header.Get("Subject")) }

// Decoded returns a header with encoded words (RFC 2047) decoded.
func (r Received) Decoded(key string) string { return decodeWords(r.Header.Get(key)) }

func decodeWords(s string) string {
	d := mime.WordDecoder{}
	out, err := d.DecodeHeader(s)
	if err != nil {
		return s
	}
	return out
}

// Server is a running test SMTP server.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string

	srv      *smtp.Server
	mu       sync.Mutex
	cond     *sync.Cond
	msgs     []Received
	sessions int
	rcpts    []string // every RCPT TO, accepted or not
	reject   map[string]string
}

// Options tune Start.
type Options struct {
	// STARTTLS makes the server offer STARTTLS with a self-signed
	// certificate, as a local Postfix with its snakeoil certificate does.
	STARTTLS bool
}

// Start runs a server until the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	s := &Server{reject: map[string]string{}}
	s.cond = sync.NewCond(&s.mu)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Addr = ln.Addr().String()
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "mailtest.localhost"
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.MaxRecipients = 50
	s.srv.ErrorLog = discardLog{}
	if opt.STARTTLS {
		cert, err := selfSigned()
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		// Close the listener too: Close alone misses it when Serve has not
		// registered it yet.
		ln.Close()
		s.srv.Close()
		<-done
	})
	return s
}

type discardLog struct{}

func (discardLog) Printf(string, ...interface{}) {}
func (discardLog) Println(...interface{})        {}

// Reject makes the server refuse RCPT TO:<addr> with "550 5.1.1 <text>".
func (s *Server) Reject(addr, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject[strings.ToLower(addr)] = text
}

// Messages returns what was received so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Sessions is the number of SMTP sessions opened so far: zero means
// nothing at all reached the server.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Recipients is every RCPT TO the server was given, refused ones included.
func (s *Server) Recipients() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rcpts...)
}

// Wait blocks until n messages arrived or the timeout passed, and returns
// what arrived.
func (s *Server) Wait(n int, timeout time.Duration) []Received {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	defer t.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.msgs) < n && time.Now().Before(deadline) {
		s.cond.Wait()
	}
	return append([]Received(nil), s.msgs...)
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	return &session{s: s, c: c}, nil
}

type session struct {
	s    *Server
	c    *smtp.Conn
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.rcpts = append(x.s.rcpts, to)
	if text, ok := x.s.reject[strings.ToLower(to)]; ok {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: text}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec := Received{From: x.from, To: x.to, Data: data}
	_, rec.TLS = x.c.TLSConnectionState()
	if m, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		rec.Header = m.Header
		body, _ := io.ReadAll(m.Body)
		rec.Body = decodeBody(m.Header.Get("Content-Transfer-Encoding"), body)
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, rec)
	x.s.cond.Broadcast()
	x.s.mu.Unlock()
	return nil
}

func decodeBody(cte string, body []byte) string {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err == nil {
			return strings.ReplaceAll(string(b), "\r\n", "\n")
		}
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), ""))
		if err == nil {
			return strings.ReplaceAll(string(b), "\r\n", "\n")
		}
	}
	return strings.ReplaceAll(string(body), "\r\n", "\n")
}

// selfSigned makes a throw-away certificate for 127.0.0.1.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest.localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if len(der) == 0 {
		return tls.Certificate{}, errors.New("empty certificate")
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
