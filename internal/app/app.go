// Package app is the service layer shared by the web UI, the JSON API and
// the CLI: it turns what a person asks for into store calls, hashing
// passwords, generating them and applying the panel's rules, so that the
// three front ends cannot drift apart.
package app

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"kontor/internal/auth"
	"kontor/internal/mail"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// App holds what the services need. Build it in main; nothing is global.
type App struct {
	Store  *store.Store
	Hasher auth.Params
	Now    func() time.Time
	Log    *slog.Logger
	// Throttle tunes login throttling.
	Throttle Throttle
	// SessionTTL is how long a session lives without a new login.
	SessionTTL time.Duration
	// Mailer sends registration mails and circulars.
	Mailer mail.Sender
}

// Throttle is the login throttling policy: after Max failures within
// Window, the account (or, with MaxPerIP, the address) is locked for Lock.
type Throttle struct {
	Max      int
	MaxPerIP int
	Window   time.Duration
	Lock     time.Duration
}

// New returns an App with production defaults.
func New(st *store.Store, log *slog.Logger) *App {
	if log == nil {
		log = slog.Default()
	}
	return &App{
		Store:      st,
		Hasher:     auth.DefaultParams(),
		Now:        time.Now,
		Log:        log,
		Throttle:   Throttle{Max: 5, MaxPerIP: 20, Window: 15 * time.Minute, Lock: 15 * time.Minute},
		SessionTTL: 12 * time.Hour,
	}
}

// Settings are the admin's server settings (ROLE-5).
type Settings struct {
	Password     panel.PasswordPolicy
	PanelURL     string
	ServerName   string
	ClassicSkins bool
	// MailRelay is the SMTP relay ("host:port") that registration mails
	// and circulars go through; mail.DefaultRelay when not set.
	MailRelay string
	// DNSNameServers are the FQDNs of our name servers for the zones' NS
	// records; empty means ns1. and ns2. of the server name.
	DNSNameServers []string
	// MailHost is the MX target of the zones; empty means the server name.
	MailHost string
	// ColdFusion is the ColdFusion engine's "host:port"; empty means none,
	// and the ColdFusion service has no effect.
	ColdFusion string
}

// The agent renders every user from these settings (store.ServerFacts).
// Saving them journals one "server" change, not one row per user: the
// agent then renders all users at once, and its periodic full reconcile
// would pick them up anyway.

// Settings returns the server settings with defaults filled in.
func (a *App) Settings(ctx context.Context) (Settings, error) {
	m, err := a.Store.Settings(ctx)
	if err != nil {
		return Settings{}, err
	}
	s := Settings{Password: panel.DefaultPasswordPolicy(), PanelURL: m["panel_url"], ServerName: m["server_name"]}
	if v, err := strconv.Atoi(m["password_min"]); err == nil {
		s.Password.Min = v
	}
	if v, err := strconv.Atoi(m["password_max"]); err == nil {
		s.Password.Max = v
	}
	s.ClassicSkins = m["classic_skins"] == "1"
	if s.MailRelay = m["mail_relay"]; s.MailRelay == "" {
		s.MailRelay = mail.DefaultRelay
	}
	s.DNSNameServers = strings.Fields(m["dns_nameservers"])
	s.MailHost, s.ColdFusion = m["mail_host"], m["coldfusion"]
	return s, nil
}

// SaveSettings validates and stores the server settings (admin only).
func (a *App) SaveSettings(ctx context.Context, actor panel.Actor, s Settings) error {
	if err := s.Password.Validate(); err != nil {
		return err
	}
	var err error
	if s.PanelURL, err = panel.CleanText("panel_url", s.PanelURL, false); err != nil {
		return err
	}
	if s.ServerName, err = panel.CleanText("server_name", s.ServerName, false); err != nil {
		return err
	}
	if s.MailRelay, err = cleanRelay(s.MailRelay); err != nil {
		return err
	}
	ns := make([]string, 0, len(s.DNSNameServers))
	for _, n := range s.DNSNameServers {
		if strings.TrimSpace(n) == "" {
			continue
		}
		d, err := panel.NormalizeDomain("dns_nameservers", n)
		if err != nil {
			return err
		}
		ns = append(ns, d)
	}
	if strings.TrimSpace(s.MailHost) != "" {
		if s.MailHost, err = panel.NormalizeDomain("mail_host", s.MailHost); err != nil {
			return err
		}
	} else {
		s.MailHost = ""
	}
	if s.ColdFusion, err = cleanColdFusion(s.ColdFusion); err != nil {
		return err
	}
	classic := "0"
	if s.ClassicSkins {
		classic = "1"
	}
	return a.Store.SetSettings(ctx, actor, map[string]string{
		"password_min": strconv.Itoa(s.Password.Min), "password_max": strconv.Itoa(s.Password.Max),
		"panel_url": s.PanelURL, "server_name": s.ServerName, "classic_skins": classic,
		"mail_relay": s.MailRelay, "dns_nameservers": strings.Join(ns, " "), "mail_host": s.MailHost,
		"coldfusion": s.ColdFusion,
	})
}

// cleanColdFusion checks the ColdFusion engine's address: "" for none, or
// "host:port" with a domain name or IP address and a port 1–65535. It
// reaches the web server's configuration, so nothing else passes.
func cleanColdFusion(in string) (string, error) {
	in = strings.TrimSpace(in)
	if in == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(in)
	if err != nil {
		return "", panel.Invalid("coldfusion", "err.coldfusion")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != port {
		return "", panel.Invalid("coldfusion", "err.coldfusion")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" || ip.IsUnspecified() {
			return "", panel.Invalid("coldfusion", "err.coldfusion")
		}
		return net.JoinHostPort(ip.String(), port), nil
	}
	h, err := panel.NormalizeDomain("coldfusion", host)
	if err != nil {
		return "", panel.Invalid("coldfusion", "err.coldfusion")
	}
	return net.JoinHostPort(h, port), nil
}

// hash hashes a password, as an internal error on failure.
func (a *App) hash(pw string) (string, error) {
	h, err := a.Hasher.Hash(pw)
	if err != nil {
		return "", panel.Internal(err)
	}
	return h, nil
}
