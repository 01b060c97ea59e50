// Package agent is the privileged side of Kontor (SYS-1..3): it reads the
// desired state of the users placed on its server, renders each daemon's
// files, validates them with the daemon's own checker, swaps them in
// atomically and reloads. This file holds the desired state the renderers
// take; the reconcile loop and the daemon packages build on it.
package agent

import (
	"kontor/internal/panel"
)

// State is the desired state of one hosting server.
type State struct {
	Server Server
	Users  []User
}

// Server holds the server-wide facts the renderers need.
type Server struct {
	Hostname    string   // the server's own name, e.g. "server1.example.net"
	SharedIPv4  []string // shared addresses every non-exclusive vhost listens on
	SharedIPv6  []string
	NameServers []string // our name servers, for NS records (FQDNs)
	MailHost    string   // MX target for zones
	// ColdFusion is the address of the ColdFusion engine, "" when the admin
	// configured none (then the service has no effect).
	ColdFusion string
}

// User is the desired state of one hosting account (webN).
type User struct {
	ID       int64
	Login    string
	UID      int    // system uid/gid: the configured base plus the user's number
	Home     string // absolute path on the target system, e.g. "/home/web1"
	Locked   bool
	Services panel.ServiceSet
	Limits   panel.Limits
	Domains  []Domain
	// SSL is the user's certificate, nil when none (USR-6).
	SSL *Certificate
	// FrontPage is the publishing login (USR-5), nil when off.
	FrontPage *FrontPage
	// IndexHTML is the reseller's start page with ##user## replaced, and
	// IndexName its file name (SET-2); empty when the reseller set none.
	IndexHTML string
	IndexName string

	// ResellerID and ResellerLogin name the user's reseller: its errors go
	// to the reseller's Messages, and its login may open the user's
	// Webalizer pages (STA-4).
	ResellerID    int64
	ResellerLogin string
	// Databases are the user's MySQL database names (USR-7); DBHash is the
	// mysql_native_password hash ("*" + 40 hex digits) of the database
	// login named like the user; DBExternal lets that login in from any
	// host ("%") instead of only "localhost".
	Databases  []string
	DBHash     string
	DBExternal bool
	// Cron are the user's enabled cron jobs, run as the user.
	Cron []CronJob
	// WebAuth are the htpasswd lines ("login:bcrypt") that open the
	// user's Webalizer pages: the user's own and its reseller's (STA-4).
	WebAuth []string
}

// CronJob is one line of a user's crontab.
type CronJob struct {
	ID       int64
	Schedule string // five fields or a descriptor such as "@daily"
	Command  string
}

// Domain is one of a user's domains, in punycode.
type Domain struct {
	Name string
	DNS  bool   // our name servers serve the zone
	IP   string // the exclusive address, "" for the shared ones
}

// Certificate is a PEM key pair with an optional chain.
type Certificate struct {
	CertPEM  string
	KeyPEM   string
	ChainPEM string
}

// FrontPage is the WebDAV publishing login and its password hash.
type FrontPage struct {
	Login string
	Hash  string // as the WebDAV server verifies it
}
