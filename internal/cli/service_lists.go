package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"kontor/internal/app"
	"kontor/internal/panel"
)

// The per-user services of the Users menu (USR-5..7) from the command line:
// the same app and store calls as the panel, acting as the admin.

// onOff reads the on|off argument of a toggle.
func onOff(args []string, what string) (string, bool, error) {
	if len(args) != 2 {
		return "", false, usagef("want LOGIN on|off")
	}
	switch args[1] {
	case "on":
		return args[0], true, nil
	case "off":
		return args[0], false, nil
	}
	return "", false, usagef("%s must be on or off, not %q", what, args[1])
}

func userFrontPageCommand() *command {
	return &command{
		name:     "user frontpage",
		synopsis: "LOGIN on|off [--db DSN] [--config FILE]",
		summary:  "switch FrontPage (WebDAV publishing) on or off for a user",
		about: `Switches FrontPage publishing (USR-5) on or off for the user LOGIN. On prints
the publishing login and a generated password, once: only its hash is
stored. FrontPage is refused while the user's custom error files or
password-protected directories are on.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				login, on, err := onOff(args, "the state")
				if err != nil {
					return err
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				u, err := a.Store.UserByLogin(ctx, cliActor, login)
				if err != nil {
					return err
				}
				res, err := a.SetFrontPage(ctx, cliActor, u.ID, on)
				if err != nil {
					return err
				}
				if on {
					fmt.Fprintf(r.stdout, "frontpage: on\nlogin:     %s\npassword:  %s\n", res.Login, res.Password)
				} else {
					fmt.Fprintf(r.stdout, "frontpage: off\n")
				}
				return nil
			}
		},
	}
}

func userMySQLExternalCommand() *command {
	return &command{
		name:     "user mysql-external",
		synopsis: "LOGIN on|off [--db DSN] [--config FILE]",
		summary:  "open or close a user's MySQL databases to external hosts",
		about: `Switches external access to the MySQL databases of the user LOGIN (USR-7).
On needs databases (a MySQL limit other than 0) and the admin's permission
for the user's reseller; off always works.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				login, on, err := onOff(args, "the state")
				if err != nil {
					return err
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				u, err := a.Store.UserByLogin(ctx, cliActor, login)
				if err != nil {
					return err
				}
				if err := a.Store.SetMySQLExternal(ctx, cliActor, u.ID, on); err != nil {
					return err
				}
				state := "off"
				if on {
					state = "on"
				}
				fmt.Fprintf(r.stdout, "mysql-external: %s\n", state)
				return nil
			}
		},
	}
}

// readPEMFile reads a key or certificate file, refusing more than the panel
// accepts before reading it all.
func readPEMFile(flagName, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, panel.MaxPEMLen+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	if len(b) > panel.MaxPEMLen {
		return "", usagef("%s: %s is larger than %d KiB", flagName, path, panel.MaxPEMLen>>10)
	}
	return string(b), nil
}

func userSSLCommand() *command {
	return &command{
		name: "user ssl",
		synopsis: "LOGIN [--key FILE --cert FILE [--chain FILE] | --self-signed --company NAME [--department D] [--city C] [--state S] [--country CC] [--email E] | --delete] " +
			"[--db DSN] [--config FILE]",
		summary: "show, set or delete a user's SSL certificate",
		about: `Shows the SSL certificate of the user LOGIN (USR-6), or stores one: a private
key and certificate from PEM files (optionally with the chain), checked as in
the panel (they match, valid now, the chain leads to the certificate, at least
one of the user's domains covered), or a self-signed certificate made from
company details for all the user's domains and their www. names. The user
needs a domain on an exclusive IP address and the SSL service. The private
key is never printed.`,
		setup: func(r *runner, fs *flag.FlagSet) func(context.Context, []string) error {
			var d dbFlags
			d.register(fs)
			keyFile := fs.String("key", "", "PEM `FILE` with the private key")
			certFile := fs.String("cert", "", "PEM `FILE` with the certificate")
			chainFile := fs.String("chain", "", "PEM `FILE` with the chain (intermediate certificates)")
			self := fs.Bool("self-signed", false, "create a self-signed certificate from the company details")
			var subj panel.CertSubject
			fs.StringVar(&subj.Company, "company", "", "company `NAME` (self-signed)")
			fs.StringVar(&subj.Department, "department", "", "`DEPARTMENT` (self-signed)")
			fs.StringVar(&subj.City, "city", "", "`CITY` (self-signed)")
			fs.StringVar(&subj.State, "state", "", "`STATE` or region (self-signed)")
			fs.StringVar(&subj.Country, "country", "", "two-letter `CODE` of the country (self-signed)")
			fs.StringVar(&subj.Email, "email", "", "e-mail `ADDRESS` (self-signed)")
			del := fs.Bool("delete", false, "delete the user's certificate")
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return usagef("want exactly one LOGIN")
				}
				paste := *keyFile != "" || *certFile != "" || *chainFile != ""
				n := 0
				for _, b := range []bool{paste, *self, *del} {
					if b {
						n++
					}
				}
				if n > 1 {
					return usagef("give either --key/--cert, --self-signed or --delete")
				}
				var req app.CertRequest
				if paste {
					var in panel.CertInput
					var err error
					if in.Key, err = readPEMFile("--key", *keyFile); err != nil {
						return err
					}
					if in.Cert, err = readPEMFile("--cert", *certFile); err != nil {
						return err
					}
					if in.Chain, err = readPEMFile("--chain", *chainFile); err != nil {
						return err
					}
					req.Paste = &in
				}
				if *self {
					req.SelfSigned = &subj
				}
				a, done, err := r.openApp(ctx, d)
				if err != nil {
					return err
				}
				defer done()
				u, err := a.Store.UserByLogin(ctx, cliActor, args[0])
				if err != nil {
					return err
				}
				switch {
				case *del:
					if err := a.DeleteCertificate(ctx, cliActor, u.ID); err != nil {
						return err
					}
					fmt.Fprintln(r.stdout, "certificate: deleted")
					return nil
				case n == 1:
					res, err := a.SetCertificate(ctx, cliActor, u.ID, req)
					if err != nil {
						return err
					}
					for _, un := range res.Uncovered {
						fmt.Fprintf(r.stderr, "kontor: note: the certificate does not cover %s\n", panel.DisplayDomain(un))
					}
				}
				su, err := a.Store.SSLUser(ctx, cliActor, u.ID)
				if err != nil {
					return err
				}
				if su.Cert == nil {
					fmt.Fprintln(r.stdout, "certificate: none")
					return nil
				}
				i := su.Cert.Info
				fmt.Fprintf(r.stdout, "subject:     %s\nissuer:      %s\nnames:       %s\nvalid:       %s – %s\nkey:         %s\nself-signed: %v\nsha256:      %s\n",
					i.Subject, i.Issuer, strings.Join(i.DNSNames, ", "), i.NotBefore.UTC().Format("2006-01-02 15:04 MST"),
					i.NotAfter.UTC().Format("2006-01-02 15:04 MST"), i.KeyType, i.SelfSigned, i.Fingerprint)
				return nil
			}
		},
	}
}
