// Package unix manages the Unix side of a hosting account (SYS-1 quota
// part, SVC-1, SVC-2, SET-2, USR-3): one system user and group per webN,
// the home with its fixed layout, the shell or SFTP-only access (through
// an sshd drop-in the agent writes), disk quotas, the reseller's index
// page in a new home, the standard CGI scripts, and the web server's write
// access to the document root while FrontPage publishing is on (USR-5,
// POSIX ACLs set by setfacl run as the user; see acl.go).
//
// The existing accounts are observed by reading /etc/passwd, /etc/group
// and /etc/shadow through env.FS (so a dry run and the sandbox see the
// same thing as production); they are changed only by the shadow-utils
// commands (groupadd, useradd, usermod, userdel, groupdel) and setquota,
// run as argument lists through env.Run. Every value that reaches one of
// those commands or a file is checked again here.
//
// Accounts runs first in a batch (it creates what the other daemons
// write into); Removal runs last (it deletes the home the others have
// stopped using).
package unix

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"kontor/internal/panel"
)

// Options says which names, paths and uid range the agent uses. The zero
// value of a field means its default (DefaultOptions), except SSHDCheck
// and SSHDReload, where nil means "do not run anything".
type Options struct {
	// HomeBase is the directory of the homes; a user's home must be
	// exactly HomeBase + "/" + login.
	HomeBase string // "/home"
	// UIDMin and UIDMax bound the agent's own uid range: an account
	// outside it is never changed nor deleted, whatever its name.
	UIDMin, UIDMax int // 10000, 59999
	// WebGroup owns the home (0750 user:WebGroup) so that the web server
	// can traverse it and nobody else can.
	WebGroup string // "www-data"
	// WebUser is the web server's user: what it creates through WebDAV
	// (FrontPage publishing) is given to the user (see reclaim.go).
	WebUser string // "www-data"
	// SFTPGroup holds the users with SFTP-only access (shell level 1):
	// the sshd drop-in forces internal-sftp on it.
	SFTPGroup string // "kontor-sftp"
	// NoSSHGroup holds the users without shell access (level 0) and the
	// locked ones: the sshd drop-in denies it.
	NoSSHGroup string // "kontor-nossh"
	// SSHDConf is the drop-in the agent writes; Debian's sshd_config
	// includes /etc/ssh/sshd_config.d/*.conf at its top.
	SSHDConf string // "/etc/ssh/sshd_config.d/kontor.conf"
	// SSHDCheck validates the configuration after the drop-in changed
	// (e.g. {"sshd", "-t"}); nil skips the check.
	SSHDCheck []string
	// SSHDReload reloads sshd after a change that passed the check (e.g.
	// {"systemctl", "reload", "ssh"}); nil reloads nothing.
	SSHDReload []string
	// Shell is the login shell of full shell access; NoLogin the shell
	// of everyone else (SFTP works with it: internal-sftp needs no shell).
	Shell   string // "/bin/bash"
	NoLogin string // "/usr/sbin/nologin"
	// QuotaFS is the mount point setquota acts on; "" means the mount
	// that holds HomeBase, found in Mounts.
	QuotaFS string
	// Mounts is the mount table read (through env.FS) to find QuotaFS and
	// whether it has user quotas on. "" means /proc/<agent pid>/mounts:
	// /proc/mounts and /proc/self are symlinks, which env.FS never follows.
	Mounts string
	// Sandbox (kontor demo) keeps the real system untouched: the account
	// commands are not run but written to env.Plan, and their effect is
	// applied to the passwd, group and shadow files under the FS root,
	// so the next run observes the accounts as it would in production.
	// setquota, setfacl, the sshd check and the reload are only planned
	// (setfacl when the batch may have changed FrontPage). Owners
	// are set only when the agent runs as root (a demo as an ordinary
	// user cannot chown).
	Sandbox bool
}

// DefaultOptions returns the production names and paths. SSHDCheck and
// SSHDReload are set: production validates and reloads; tests and the
// demo clear them.
func DefaultOptions() Options {
	return Options{
		HomeBase:   "/home",
		UIDMin:     10000,
		UIDMax:     59999,
		WebGroup:   "www-data",
		WebUser:    "www-data",
		SFTPGroup:  "kontor-sftp",
		NoSSHGroup: "kontor-nossh",
		SSHDConf:   "/etc/ssh/sshd_config.d/kontor.conf",
		SSHDCheck:  []string{"sshd", "-t"},
		SSHDReload: []string{"systemctl", "reload", "ssh"},
		Shell:      "/bin/bash",
		NoLogin:    "/usr/sbin/nologin",
	}
}

// withDefaults fills every zero field (but SSHDCheck and SSHDReload,
// where nil is meaningful) from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	fill := func(p *string, def string) {
		if *p == "" {
			*p = def
		}
	}
	fill(&o.HomeBase, d.HomeBase)
	fill(&o.WebGroup, d.WebGroup)
	fill(&o.WebUser, d.WebUser)
	fill(&o.SFTPGroup, d.SFTPGroup)
	fill(&o.NoSSHGroup, d.NoSSHGroup)
	fill(&o.SSHDConf, d.SSHDConf)
	fill(&o.Shell, d.Shell)
	fill(&o.NoLogin, d.NoLogin)
	if o.UIDMin == 0 && o.UIDMax == 0 {
		o.UIDMin, o.UIDMax = d.UIDMin, d.UIDMax
	}
	return o
}

// safePath allows the characters of ordinary system paths only: no
// space, quote, colon (passwd's separator), control character or shell
// metacharacter.
var safePath = regexp.MustCompile(`^/[A-Za-z0-9._/+-]*$`)

// checkPath validates an absolute, clean path from the options.
func checkPath(field, p string) error {
	if !safePath.MatchString(p) || path.Clean(p) != p || strings.Contains(p, "..") {
		return panel.Invalid(field, "err.unix.path")
	}
	return nil
}

// safeArg allows the words of a configured command (sshd -t, systemctl
// reload ssh): no whitespace, quote, control character or metacharacter.
var safeArg = regexp.MustCompile(`^[A-Za-z0-9._/=@:+,-]+$`)

// maxUID keeps uids clear of the kernel's (uid_t)-1 and of overflow.
const maxUID = 1<<31 - 1

// check validates the options: they come from the agent's configuration
// file and end up in commands and in the sshd configuration.
func (o Options) check() error {
	for _, p := range []struct{ field, v string }{
		{"options.home_base", o.HomeBase}, {"options.sshd_conf", o.SSHDConf},
		{"options.shell", o.Shell}, {"options.nologin", o.NoLogin},
	} {
		if err := checkPath(p.field, p.v); err != nil {
			return err
		}
	}
	if o.HomeBase == "/" {
		return panel.Invalid("options.home_base", "err.unix.path")
	}
	for _, p := range []struct{ field, v string }{{"options.quota_fs", o.QuotaFS}, {"options.mounts", o.Mounts}} {
		if p.v != "" {
			if err := checkPath(p.field, p.v); err != nil {
				return err
			}
		}
	}
	for _, g := range []struct{ field, v string }{
		{"options.web_group", o.WebGroup}, {"options.sftp_group", o.SFTPGroup},
		{"options.nossh_group", o.NoSSHGroup},
	} {
		if err := panel.ValidateLogin(g.field, g.v); err != nil {
			return err
		}
	}
	if o.SFTPGroup == o.NoSSHGroup || o.SFTPGroup == o.WebGroup || o.NoSSHGroup == o.WebGroup {
		return panel.Invalid("options.sftp_group", "err.unix.groups_distinct")
	}
	// Below 1000 live the system accounts (Debian's SYS_UID_MAX is 999).
	if o.UIDMin < 1000 || o.UIDMax < o.UIDMin || o.UIDMax > maxUID {
		return panel.Invalid("options.uid_range", "err.unix.uid_options", o.UIDMin, o.UIDMax)
	}
	for _, c := range []struct {
		field string
		argv  []string
	}{{"options.sshd_check", o.SSHDCheck}, {"options.sshd_reload", o.SSHDReload}} {
		for _, a := range c.argv {
			if !safeArg.MatchString(a) {
				return panel.Invalid(c.field, "err.unix.command")
			}
		}
	}
	return nil
}

// indexName is a plain file name in the web root (SET-2): no directory,
// no dot file (.htaccess would change the server's behaviour).
var indexName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)

// checkIndexName validates the reseller's index file name.
func checkIndexName(name string) error {
	if !indexName.MatchString(name) || strings.Contains(name, "..") {
		return panel.Invalid("index_name", "err.unix.index_name")
	}
	return nil
}

// uidError is a uid outside the agent's range.
func uidError(uid int, o Options) error {
	return fmt.Errorf("uid %d is outside the agent's range %d-%d", uid, o.UIDMin, o.UIDMax)
}
