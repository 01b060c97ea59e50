// Package apache renders the Apache 2.4 side of a hosting server (SYS-1,
// SVC-1, USR-3, USR-5, USR-6): one file of <VirtualHost> blocks per user,
// one PHP-FPM pool per user with PHP, the user's certificate files, the
// WebDAV password file of FrontPage publishing, and one global file that
// ties them together.
//
// The functions here are pure: desired state in, file contents out. They
// write nothing, run nothing and read no global state, so the reconcile
// loop can stage, validate (apache2ctl -t, php-fpm -t) and swap the result,
// and a dry run can diff it. Every value that reaches a file is checked
// again here against a strict pattern, even though the store already
// refused bad input: a renderer that trusts its input turns one bad row
// into a config injection for the whole server.
package apache

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// File is one generated file: its content, its permission bits and the
// group that owns it ("" for root). The owner is always root.
type File struct {
	Data []byte
	Mode fs.FileMode
	// Group is the owning group; "" means root. The WebDAV password file
	// is read by the Apache workers at request time (they run as the web
	// server group, not root), so it needs the group as well as the mode.
	Group string
}

// Files maps absolute target paths to their content.
type Files map[string]File

// Paths returns the target paths in sorted order, for deterministic output.
func (f Files) Paths() []string {
	p := make([]string, 0, len(f))
	for k := range f {
		p = append(p, k)
	}
	sort.Strings(p)
	return p
}

// Options says where the generated files go and which names the system
// uses. The zero value of a field means its default (see DefaultOptions);
// production uses the defaults, tests and the demo sandbox may move them.
type Options struct {
	// HomeBase is the directory every user's home must be inside.
	HomeBase string // "/home"
	// GlobalFile is the file of RenderGlobal, included from the main config.
	GlobalFile string // "/etc/apache2/kontor/kontor.conf"
	// SitesDir holds one <login>.conf of vhosts per user.
	SitesDir string // "/etc/apache2/kontor/sites"
	// FPMDir holds one <login>.conf PHP-FPM pool per user with PHP; the
	// php-fpm main config includes FPMDir/*.conf.
	FPMDir string // "/etc/php/kontor/fpm"
	// SocketDir holds the pools' sockets, kontor-<login>.sock.
	SocketDir string // "/run/php"
	// SSLDir holds <login>/cert.pem and <login>/key.pem.
	SSLDir string // "/etc/kontor/ssl"
	// WebDAVDir holds <login>.htpasswd for FrontPage publishing.
	WebDAVDir string // "/etc/kontor/webdav"
	// WebalizerAuthDir holds <login>.htpasswd that opens a user's
	// Webalizer pages (STA-4) to the user and its reseller. The webalizer
	// daemon package writes these files; Apache only refers to them.
	WebalizerAuthDir string // "/etc/kontor/webalizer-auth"
	// LogDir holds the access log <login>.log and the error log
	// <login>.error.log of every user. Central rather than in the home so
	// that the stats collector finds all of them under one directory
	// (ROOT/var/log/apache2) and a user cannot delete or forge its own
	// traffic record. A login never contains a dot, so "<login>.error.log"
	// can never be another user's "<login>.log".
	LogDir string // "/var/log/apache2/kontor"
	// LockedRoot is the neutral page every site of a locked user serves.
	LockedRoot string // "/var/www/kontor-locked"
	// WebUser and WebGroup are the web server's account: they own the
	// PHP-FPM sockets so that only Apache (and root) can talk to a pool.
	WebUser  string // "www-data"
	WebGroup string // "www-data"
	// PHPMaxChildren caps the PHP processes of one user.
	PHPMaxChildren int // 5
	// Port and SSLPort are the ports of the plain and the SSL vhosts. The
	// main config's Listen directives must match; tests move them to free
	// high ports.
	Port    int // 80
	SSLPort int // 443
}

// DefaultOptions returns the production paths.
func DefaultOptions() Options {
	return Options{
		HomeBase:         "/home",
		GlobalFile:       "/etc/apache2/kontor/kontor.conf",
		SitesDir:         "/etc/apache2/kontor/sites",
		FPMDir:           "/etc/php/kontor/fpm",
		SocketDir:        "/run/php",
		SSLDir:           "/etc/kontor/ssl",
		WebDAVDir:        "/etc/kontor/webdav",
		WebalizerAuthDir: "/etc/kontor/webalizer-auth",
		LogDir:           "/var/log/apache2/kontor",
		LockedRoot:       "/var/www/kontor-locked",
		WebUser:          "www-data",
		WebGroup:         "www-data",
		PHPMaxChildren:   5,
		Port:             80,
		SSLPort:          443,
	}
}

// withDefaults fills every zero field from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	fill := func(p *string, def string) {
		if *p == "" {
			*p = def
		}
	}
	fill(&o.HomeBase, d.HomeBase)
	fill(&o.GlobalFile, d.GlobalFile)
	fill(&o.SitesDir, d.SitesDir)
	fill(&o.FPMDir, d.FPMDir)
	fill(&o.SocketDir, d.SocketDir)
	fill(&o.SSLDir, d.SSLDir)
	fill(&o.WebDAVDir, d.WebDAVDir)
	fill(&o.WebalizerAuthDir, d.WebalizerAuthDir)
	fill(&o.LogDir, d.LogDir)
	fill(&o.LockedRoot, d.LockedRoot)
	fill(&o.WebUser, d.WebUser)
	fill(&o.WebGroup, d.WebGroup)
	if o.PHPMaxChildren == 0 {
		o.PHPMaxChildren = d.PHPMaxChildren
	}
	if o.Port == 0 {
		o.Port = d.Port
	}
	if o.SSLPort == 0 {
		o.SSLPort = d.SSLPort
	}
	return o
}

// check validates the options themselves: they come from the agent's
// configuration file, and end up in every generated file.
func (o Options) check() error {
	for _, p := range []struct{ field, v string }{
		{"options.home_base", o.HomeBase}, {"options.global_file", o.GlobalFile},
		{"options.sites_dir", o.SitesDir}, {"options.fpm_dir", o.FPMDir},
		{"options.socket_dir", o.SocketDir}, {"options.ssl_dir", o.SSLDir},
		{"options.webdav_dir", o.WebDAVDir}, {"options.log_dir", o.LogDir},
		{"options.webalizer_auth_dir", o.WebalizerAuthDir},
		{"options.locked_root", o.LockedRoot},
	} {
		if err := agent.CheckPath(p.field, p.v, "/"); err != nil {
			return err
		}
	}
	if err := panel.ValidateLogin("options.web_user", o.WebUser); err != nil {
		return err
	}
	if err := panel.ValidateLogin("options.web_group", o.WebGroup); err != nil {
		return err
	}
	if o.PHPMaxChildren < 1 || o.PHPMaxChildren > 1000 {
		return panel.Invalid("options.php_max_children", "err.apache.range")
	}
	if o.Port < 1 || o.Port > 65535 {
		return panel.Invalid("options.port", "err.apache.range")
	}
	if o.SSLPort < 1 || o.SSLPort > 65535 || o.SSLPort == o.Port {
		return panel.Invalid("options.ssl_port", "err.apache.range")
	}
	return nil
}

// Error is a failure to render one user's files. It names the user (by
// login, or by id when the login itself is bad) and the offending field.
type Error struct {
	Login string // as found in the state; may be the bad value itself
	ID    int64
	Err   error // a *panel.Error whose Field names the field
}

func (e *Error) Error() string {
	return fmt.Sprintf("apache: user %q (id %d): %v", e.Login, e.ID, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Field returns the name of the offending field, "" when unknown.
func (e *Error) Field() string {
	var pe *panel.Error
	if errors.As(e.Err, &pe) {
		return pe.Field
	}
	return ""
}

// ServerErrorKey is the key RenderAll uses for a failure that is not any
// one user's: bad options or bad server-wide facts.
const ServerErrorKey = ""

// RenderUser returns every file of one user: the vhosts, and as needed the
// PHP-FPM pool, the certificate pair and the WebDAV password file. Files
// the user no longer needs (e.g. the pool after PHP was switched off) are
// simply absent; the reconcile loop removes what it wrote before and no
// longer gets. On any bad value it returns no files at all and an *Error.
func RenderUser(srv agent.Server, u agent.User, opt Options) (Files, error) {
	opt = opt.withDefaults()
	if err := opt.check(); err != nil {
		return nil, &Error{Login: u.Login, ID: u.ID, Err: err}
	}
	s, err := checkServer(srv, uint16(opt.Port))
	if err != nil {
		return nil, &Error{Login: u.Login, ID: u.ID, Err: err}
	}
	return renderUser(s, u, opt)
}

// renderUser is RenderUser after the options and the server were checked.
func renderUser(s server, u agent.User, opt Options) (Files, error) {
	cu, err := checkUser(u, opt)
	if err != nil {
		return nil, &Error{Login: u.Login, ID: u.ID, Err: err}
	}
	files := make(Files, 4)
	files[opt.SitesDir+"/"+cu.login+".conf"] = File{Data: renderSites(s, cu, opt), Mode: 0o644}
	if cu.php && !cu.locked {
		files[opt.FPMDir+"/"+cu.login+".conf"] = File{Data: renderPool(cu, opt), Mode: 0o644}
	}
	if cu.sslFiles() {
		dir := opt.SSLDir + "/" + cu.login
		files[dir+"/cert.pem"] = File{Data: []byte(cu.certPEM), Mode: 0o644}
		// The key is read by Apache's parent process as root before it
		// drops privileges; nobody else needs it.
		files[dir+"/key.pem"] = File{Data: []byte(cu.keyPEM), Mode: 0o600}
	}
	if cu.fp != nil && !cu.locked {
		files[opt.WebDAVDir+"/"+cu.login+".htpasswd"] = File{
			Data:  []byte(cu.fp.login + ":" + cu.fp.hash + "\n"),
			Mode:  0o640,
			Group: opt.WebGroup,
		}
	}
	return files, nil
}

// RenderAll renders every user of the state. The good users' files are
// returned together; each bad user gets an entry in the error map (keyed
// by login, or "#<id>" when the login is unusable) and contributes no
// file at all, so one bad object never takes the others down. Bad options
// or bad server-wide facts make every user fail; they are also reported
// under ServerErrorKey.
//
// Conflicts between users are decided by id, so the outcome does not
// depend on the order of st.Users: of two users with the same login or
// the same domain, the one with the lower id (the older one) keeps it and
// the other fails.
func RenderAll(st agent.State, opt Options) (Files, map[string]error) {
	errs := make(map[string]error)
	opt = opt.withDefaults()
	err := opt.check()
	var s server
	if err == nil {
		s, err = checkServer(st.Server, uint16(opt.Port))
	}
	if err != nil {
		errs[ServerErrorKey] = err
		for _, u := range st.Users {
			errs[errKey(u)] = &Error{Login: u.Login, ID: u.ID, Err: err}
		}
		return Files{}, errs
	}

	users := make([]*agent.User, len(st.Users))
	for i := range st.Users {
		users[i] = &st.Users[i]
	}
	sort.SliceStable(users, func(i, j int) bool { return users[i].ID < users[j].ID })

	logins := make(map[string]bool, len(users))
	domains := make(map[string]bool, 3*len(users))
	files := make(Files, 2*len(users))
	for _, u := range users {
		if logins[u.Login] {
			errs[errKey(*u)] = &Error{Login: u.Login, ID: u.ID, Err: panel.Conflict("login", "err.login.taken")}
			continue
		}
		if err := claimDomains(u, domains); err != nil {
			errs[errKey(*u)] = &Error{Login: u.Login, ID: u.ID, Err: err}
			continue
		}
		uf, err := renderUser(s, *u, opt)
		if err != nil {
			errs[errKey(*u)] = err
			continue
		}
		logins[u.Login] = true
		for _, d := range u.Domains {
			domains[d.Name] = true
		}
		for p, f := range uf {
			files[p] = f
		}
	}
	return files, errs
}

// claimDomains refuses a user one of whose domains an older user already
// serves: Apache would silently give every request to the first vhost.
func claimDomains(u *agent.User, taken map[string]bool) error {
	for i, d := range u.Domains {
		if taken[d.Name] {
			return panel.Conflict(fmt.Sprintf("domains[%d].name", i), "err.domain.taken")
		}
	}
	return nil
}

// errKey is the error-map key of a user.
func errKey(u agent.User) string {
	if panel.ValidateLogin("login", u.Login) == nil {
		return u.Login
	}
	return fmt.Sprintf("#%d", u.ID)
}

// RenderGlobal returns the server-wide files: the global config file
// (included once from the main Apache config) and the neutral page of
// locked users. Listen directives and LoadModule lines are not here: the
// main config owns them, so that this file can be regenerated without
// touching which addresses and modules the server uses.
func RenderGlobal(opt Options) (Files, error) {
	opt = opt.withDefaults()
	if err := opt.check(); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(header)
	b.WriteString(`# The one access-log format of every Kontor vhost: the combined format with
# the vhost and port in front (Apache's "vhost_combined"), defined here under
# our own name so that it does not depend on the distribution's apache2.conf.
# The stats collector (STA-2) splits each user's log by the first field.
LogFormat "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" kontor_vhost

# The neutral page of locked users (USR-3): readable by everyone, nothing
# executes, no .htaccess is consulted.
`)
	fmt.Fprintf(&b, "<Directory %s>\n\tOptions None\n\tAllowOverride None\n\tRequire all granted\n</Directory>\n\n", opt.LockedRoot)
	b.WriteString("# One file of vhosts per user; Optional so that a server without users starts.\n")
	fmt.Fprintf(&b, "IncludeOptional %s/*.conf\n", opt.SitesDir)
	return Files{
		opt.GlobalFile:                 {Data: []byte(b.String()), Mode: 0o644},
		opt.LockedRoot + "/index.html": {Data: []byte(lockedPage), Mode: 0o644},
	}, nil
}

// header starts every generated file.
const header = "# Generated by the Kontor agent. Do not edit: changes are overwritten.\n\n"

// lockedPage is deliberately neutral: it says nothing about the customer
// or why the site is unavailable.
const lockedPage = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Site unavailable</title></head>
<body><h1>Site unavailable</h1><p>This site is currently not available.</p></body>
</html>
`
