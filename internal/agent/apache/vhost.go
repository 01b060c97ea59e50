package apache

import (
	"strconv"
	"strings"
)

// renderSites writes the vhosts of one user: for every domain one
// <VirtualHost> on Options.Port (80) and, with SSL, one on
// Options.SSLPort (443). Every value written
// here was checked by checkUser/checkServer/Options.check.
//
// Why the directives are there (the generated file stays short because a
// server has tens of thousands of these blocks; the reasons live here):
//
//   - ServerName/ServerAlias: name-based hosting; "www." always, "*." only
//     when the user's wildcard limit is not 0 (LIM-2).
//   - CustomLog/ErrorLog: one central access log per user in the fixed
//     kontor_vhost format (defined in the global file), so the stats
//     collector reads every user's traffic under LogDir and the first
//     field tells the vhost; one error log per user next to it.
//   - <Directory html>: /home is denied by the distribution's main config,
//     so every document root is granted explicitly. Options is an absolute
//     list, not +/- changes, so nothing inherited from the main config
//     (FollowSymLinks, MultiViews, full Includes) leaks in:
//     SymLinksIfOwnerMatch keeps a user's symlink from publishing another
//     user's files; Indexes only with directory listing; IncludesNOEXEC
//     (not Includes) for SSI, because "#exec" would run commands as the
//     web server, outside the user's account; ExecCGI only for Python.
//   - AllowOverride: None unless a service needs .htaccess, and then only
//     the class it needs: AuthConfig for protected directories, and for
//     custom error files AllowOverrideList ErrorDocument, which is
//     narrower than the FileInfo class (FileInfo would also allow
//     SetHandler/AddHandler, i.e. switching handlers on that are off).
//     None also spares Apache the .htaccess lookups.
//   - PHP: the user's own PHP-FPM pool (running as the user) through
//     proxy_fcgi over its unix socket. The handler is not wrapped in
//     <If "-f ...">: <If> is merged after <Location>, so it would defeat
//     the SetHandler None of the WebDAV location; a missing script gets
//     FPM's own 404 instead. Old PHP extensions (.phtml, .php5, .phar) and,
//     without PHP, .php itself are denied (403) rather than served as
//     source, because PHP source holds database passwords.
//   - SSI: .shtml through the INCLUDES output filter.
//   - CGI/Perl: ScriptAlias /cgi-bin/ to the home's cgi-bin (outside the
//     document root, so scripts are never downloadable); only with CGI.
//   - Python: .py as CGI scripts in the document root; only with Python.
//   - SuexecUserGroup (with CGI or Python): CGI scripts run as the user,
//     not as the web server. Wrapped in <IfModule> so a server without
//     mod_suexec still starts (scripts then run as the web server).
//   - WAP: the WML MIME types, so phones render .wml instead of
//     downloading it.
//   - ColdFusion: .cfm/.cfc/.cf proxied to the engine only when the admin
//     configured one and the user has the service; otherwise denied like
//     PHP without PHP, for the same reason. ProxyPreserveHost lets the
//     engine map the request to the site.
//   - FrontPage (USR-5): WebDAV on /webdav, an alias of the document root,
//     with Basic auth against the user's own password file. SetHandler None
//     and Options None make GET return the files as they are (PHP is
//     edited, not executed, through the publishing endpoint) and keep
//     CGI/SSI off there; RemoveHandler/RemoveOutputFilter undo the
//     extension mappings of Python and SSI, which SetHandler None does not
//     reset. Not wrapped in <IfModule>: without mod_dav the
//     config must fail the check rather than publish the sources.
//   - Webalizer (STA-4): html/webalizer, where the agent runs Webalizer
//     as the user, asks for Basic auth against a password file that holds
//     the user's and its reseller's panel logins. AllowOverride None there,
//     because with the protected-directories service a .htaccess in the
//     stats folder could otherwise add a Require that merges with or
//     replaces ours. Options None: the output is plain HTML and images,
//     nothing there needs SSI, CGI, listings or symlinks. The owner can
//     still publish its own statistics by other means (copying them, or
//     <If>/<Files> in html/.htaccess, which merge after <Directory>); the
//     block keeps strangers out, it does not restrict the owner.
//   - Locked (USR-3): the same names, but every URL maps to the neutral
//     page with AliasMatch; no handler, no WebDAV, and the user's files
//     are not touched. Logging stays, so traffic is still counted.
func renderSites(s server, u *user, opt Options) []byte {
	var b strings.Builder
	b.Grow(256 + len(u.domains)*1400)
	b.WriteString(header)
	b.WriteString("# Apache sites of user ")
	b.WriteString(u.login)
	if u.locked {
		b.WriteString(" (locked: every site serves the neutral page)")
	}
	b.WriteString("\n")

	shared := "*:" + strconv.Itoa(opt.Port)
	if len(s.shared) > 0 {
		shared = strings.Join(s.shared, " ")
	}
	for _, d := range u.domains {
		b.WriteString("\n# ")
		b.WriteString(d.name)
		if d.display != d.name {
			b.WriteString(" (")
			b.WriteString(d.display)
			b.WriteString(")")
		}
		b.WriteString("\n")
		addr := shared
		if d.ip != "" {
			addr = hostPort(d.ipAddr, uint16(opt.Port))
		}
		writeVHost(&b, s, u, d, addr, false, opt)
		if u.ssl && d.ip != "" {
			writeVHost(&b, s, u, d, hostPort(d.ipAddr, uint16(opt.SSLPort)), true, opt)
		}
	}
	return []byte(b.String())
}

// line writes one indented directive line.
func line(b *strings.Builder, indent int, parts ...string) {
	for i := 0; i < indent; i++ {
		b.WriteByte('\t')
	}
	for _, p := range parts {
		b.WriteString(p)
	}
	b.WriteByte('\n')
}

// writeVHost writes one <VirtualHost> block.
func writeVHost(b *strings.Builder, s server, u *user, d domain, addr string, ssl bool, opt Options) {
	line(b, 0, "<VirtualHost ", addr, ">")
	line(b, 1, "ServerName ", d.name)
	alias := "www." + d.name
	if strings.HasPrefix(d.name, "www.") {
		alias = ""
	}
	if u.wildcard {
		if alias != "" {
			alias += " "
		}
		alias += "*." + d.name
	}
	if alias != "" {
		line(b, 1, "ServerAlias ", alias)
	}
	line(b, 1, "CustomLog ", opt.LogDir, "/", u.login, ".log kontor_vhost")
	line(b, 1, "ErrorLog ", opt.LogDir, "/", u.login, ".error.log")
	if ssl {
		line(b, 1, "SSLEngine on")
		line(b, 1, "SSLCertificateFile ", opt.SSLDir, "/", u.login, "/cert.pem")
		line(b, 1, "SSLCertificateKeyFile ", opt.SSLDir, "/", u.login, "/key.pem")
	}
	if u.locked {
		line(b, 1, "DocumentRoot ", opt.LockedRoot)
		line(b, 1, "AliasMatch ^/ ", opt.LockedRoot, "/index.html")
		line(b, 0, "</VirtualHost>")
		return
	}

	html := u.home + "/html"
	line(b, 1, "DocumentRoot ", html)
	line(b, 1, "<Directory ", html, ">")
	opts := "SymLinksIfOwnerMatch"
	if u.listing {
		opts += " Indexes"
	}
	if u.ssi {
		opts += " IncludesNOEXEC"
	}
	if u.python {
		opts += " ExecCGI"
	}
	line(b, 2, "Options ", opts)
	// The index files this user's site can have. Naming index.php without
	// PHP would make every directory without an index.html answer 403
	// (mod_dir's lookup of index.php is refused by the deny below), which
	// also hides the directory listing.
	index := "index.html index.htm"
	if u.ssi {
		index += " index.shtml"
	}
	if u.php && !u.locked {
		index += " index.php"
	}
	line(b, 2, "DirectoryIndex ", index)
	if u.protect {
		line(b, 2, "AllowOverride AuthConfig")
	} else {
		line(b, 2, "AllowOverride None")
	}
	if u.errFiles {
		line(b, 2, "AllowOverrideList ErrorDocument")
	}
	line(b, 2, "Require all granted")
	if u.python {
		line(b, 2, "AddHandler cgi-script .py")
	}
	line(b, 1, "</Directory>")
	if u.stats {
		stats := html + "/webalizer"
		line(b, 1, "<Directory ", stats, ">")
		line(b, 2, "Options None")
		line(b, 2, "AllowOverride None")
		line(b, 2, "AuthType Basic")
		line(b, 2, `AuthName "Statistics"`)
		line(b, 2, "AuthBasicProvider file")
		line(b, 2, "AuthUserFile ", opt.WebalizerAuthDir, "/", u.login, ".htpasswd")
		line(b, 2, "Require valid-user")
		line(b, 1, "</Directory>")
	}

	if u.php {
		line(b, 1, `<FilesMatch "\.php$">`)
		line(b, 2, `SetHandler "proxy:unix:`, opt.SocketDir, "/kontor-", u.login, `.sock|fcgi://localhost"`)
		line(b, 1, "</FilesMatch>")
		line(b, 1, `<FilesMatch "\.(?:php[0-9]|phtml|phar)$">`)
	} else {
		line(b, 1, `<FilesMatch "\.(?:php[0-9]?|phtml|phar)$">`)
	}
	line(b, 2, "Require all denied")
	line(b, 1, "</FilesMatch>")

	if u.ssi {
		line(b, 1, "AddType text/html .shtml")
		line(b, 1, "AddOutputFilter INCLUDES .shtml")
	}
	if u.cgi {
		cgi := u.home + "/cgi-bin"
		line(b, 1, "ScriptAlias /cgi-bin/ ", cgi, "/")
		line(b, 1, "<Directory ", cgi, ">")
		line(b, 2, "Options None")
		line(b, 2, "AllowOverride None")
		line(b, 2, "Require all granted")
		line(b, 1, "</Directory>")
	}
	if u.cgi || u.python {
		line(b, 1, "<IfModule suexec_module>")
		line(b, 2, "SuexecUserGroup ", u.login, " ", u.login)
		line(b, 1, "</IfModule>")
	}
	if u.wap {
		line(b, 1, "AddType text/vnd.wap.wml .wml")
		line(b, 1, "AddType text/vnd.wap.wmlscript .wmls")
		line(b, 1, "AddType image/vnd.wap.wbmp .wbmp")
	}
	if u.cf && s.coldFusion != "" {
		line(b, 1, "ProxyPreserveHost On")
		line(b, 1, `ProxyPassMatch "^/(.+\.(?:cfm|cfc|cf)(?:/.*)?)$" "http://`, s.coldFusion, `/$1"`)
	} else {
		line(b, 1, `<FilesMatch "\.(?:cfm|cfc|cf)$">`)
		line(b, 2, "Require all denied")
		line(b, 1, "</FilesMatch>")
	}
	if u.fp != nil {
		line(b, 1, "Alias /webdav ", html)
		line(b, 1, "<Location /webdav>")
		line(b, 2, "Dav On")
		line(b, 2, "SetHandler None")
		line(b, 2, "Options None")
		if u.python {
			line(b, 2, "RemoveHandler .py")
		}
		if u.ssi {
			line(b, 2, "RemoveOutputFilter .shtml")
		}
		line(b, 2, "AuthType Basic")
		line(b, 2, `AuthName "Publishing `, u.login, `"`)
		line(b, 2, "AuthBasicProvider file")
		line(b, 2, "AuthUserFile ", opt.WebDAVDir, "/", u.login, ".htpasswd")
		line(b, 2, "Require valid-user")
		line(b, 1, "</Location>")
	}
	line(b, 0, "</VirtualHost>")
}
