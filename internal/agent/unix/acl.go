package unix

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"kontor/internal/agent"
)

// FrontPage publishing (USR-5) through Apache's WebDAV endpoint writes into
// the user's document root as the web server (www-data), while the
// document root belongs to the user. POSIX ACLs bridge that: while the
// user has FrontPage and is not locked, html/ and everything in it carry
//
//	g:<WebGroup>:rwX   the web server may create and change files,
//	d:g:<WebGroup>:rwX new files and folders inherit that,
//	d:u:<uid>:rwX      what the web server creates stays writable for the
//	                   user (the file's owner is then www-data).
//
// The recursive setfacl never runs as root over the user's tree: a symlink
// or a rename race in a tree the user controls would let the user point it
// at /etc/shadow. It runs as the user (setpriv, no groups, no capabilities,
// no new privileges), who can only change the ACLs of the user's own files
// anyway; -P keeps it off symlinks. The files the web server created are
// not the user's, so setfacl reports "Operation not permitted" for them:
// they inherited the default ACL when they were made, and that is the one
// failure that is expected.
//
// Whether the ACL is in place is read from html/ itself (two getxattr
// calls on the directory, opened without following links), so a full run
// over thousands of users starts setfacl only for the users whose
// FrontPage or lock state changed.

// NoticeACLUnsupported is the notice of a filesystem without POSIX ACLs:
// FrontPage publishing cannot write there (the loop records it once in the
// admin's Messages).
const NoticeACLUnsupported = "acl.unsupported"

// The POSIX ACL extended attributes and their layout
// (linux/posix_acl_xattr.h): a little-endian u32 version, then entries of
// u16 tag, u16 permissions, u32 id.
const (
	xattrACLAccess  = "system.posix_acl_access"
	xattrACLDefault = "system.posix_acl_default"
	aclXattrVersion = 2
	aclTagUser      = 0x02
	aclTagGroup     = 0x08
	aclPermRWX      = 7
)

// aclEntry is one entry of a POSIX ACL.
type aclEntry struct {
	tag, perm uint16
	id        uint32
}

// parseACL decodes the value of a POSIX ACL extended attribute.
func parseACL(b []byte) ([]aclEntry, error) {
	if len(b) < 4 || (len(b)-4)%8 != 0 {
		return nil, fmt.Errorf("ACL attribute of %d bytes", len(b))
	}
	if v := binary.LittleEndian.Uint32(b); v != aclXattrVersion {
		return nil, fmt.Errorf("ACL attribute version %d", v)
	}
	var out []aclEntry
	for i := 4; i < len(b); i += 8 {
		out = append(out, aclEntry{
			tag:  binary.LittleEndian.Uint16(b[i:]),
			perm: binary.LittleEndian.Uint16(b[i+2:]),
			id:   binary.LittleEndian.Uint32(b[i+4:]),
		})
	}
	return out, nil
}

// webACL is what the agent sees of the ACL of a document root.
type webACL struct {
	// missing: there is no html/ (yet: a dry run of a new home).
	missing bool
	// unsupported: the filesystem has no POSIX ACLs.
	unsupported bool
	// granted: the web group's access and default entries and the
	// owner's default entry are all there with rwx.
	granted bool
	// web: some entry names the web group (access or default).
	web bool
}

// aclReader reads the ACL state of the document root of the home at
// host path home; Accounts uses readWebACL, tests a fake.
type aclReader func(home string, uid, webGID int) (webACL, error)

// errNotDir is a document root that is a symlink or not a directory.
var errNotDir = errors.New("html is not a directory (a symlink or a file is in its place)")

// readWebACL reads the access and default ACL of home/html without
// following a symlink in home or html (both are the user's to replace).
func readWebACL(home string, uid, webGID int) (webACL, error) {
	var st webACL
	fd, err := openDocRoot(home)
	if errors.Is(err, fs.ErrNotExist) {
		st.missing = true
		return st, nil
	}
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	var lists [2][]aclEntry
	for i, attr := range []string{xattrACLAccess, xattrACLDefault} {
		b, err := fgetxattr(fd, attr)
		switch {
		case errors.Is(err, unix.EOPNOTSUPP):
			st.unsupported = true
			return st, nil
		case errors.Is(err, unix.ENODATA):
			continue // no ACL beyond the mode bits
		case err != nil:
			return st, fmt.Errorf("%s/%s: reading the ACL: %w", home, dirHTML, err)
		}
		if lists[i], err = parseACL(b); err != nil {
			return st, fmt.Errorf("%s/%s: %w", home, dirHTML, err)
		}
	}
	return judgeACL(lists[0], lists[1], uid, webGID), nil
}

// openDocRoot opens home/html without following a symlink in home or html
// (both are the user's to replace); the directory above home is the
// agent's (HomeBase) and trusted. Nothing there wraps fs.ErrNotExist; a
// symlink or file in place of either is errNotDir.
func openDocRoot(home string) (int, error) {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	base, err := unix.Open(filepath.Dir(home), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("%s: %w", filepath.Dir(home), err)
	}
	fd := base
	for _, name := range []string{filepath.Base(home), dirHTML} {
		next, err := unix.Openat(fd, name, flags, 0)
		unix.Close(fd)
		switch {
		case errors.Is(err, unix.ENOENT):
			return -1, fmt.Errorf("%s/%s: %w", home, dirHTML, fs.ErrNotExist)
		case errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR):
			return -1, errNotDir
		case err != nil:
			return -1, fmt.Errorf("%s/%s: %w", home, dirHTML, err)
		}
		fd = next
	}
	return fd, nil
}

// judgeACL derives the state from the access and default entries.
func judgeACL(access, def []aclEntry, uid, webGID int) webACL {
	has := func(l []aclEntry, tag uint16, id int, full bool) bool {
		return id >= 0 && slices.ContainsFunc(l, func(e aclEntry) bool {
			return e.tag == tag && int64(e.id) == int64(id) && (!full || e.perm&aclPermRWX == aclPermRWX)
		})
	}
	return webACL{
		granted: has(access, aclTagGroup, webGID, true) && has(def, aclTagGroup, webGID, true) &&
			has(def, aclTagUser, uid, true),
		web: has(access, aclTagGroup, webGID, false) || has(def, aclTagGroup, webGID, false),
	}
}

// fgetxattr returns the value of attribute name of the open file fd.
func fgetxattr(fd int, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for range 3 {
		n, err := unix.Fgetxattr(fd, name, buf)
		if errors.Is(err, unix.ERANGE) {
			size, err := unix.Fgetxattr(fd, name, nil)
			if err != nil {
				return nil, err
			}
			buf = make([]byte, size+64)
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	return nil, unix.ERANGE // grew faster than it could be read
}

// asUser is the setpriv prefix that runs a command as uid with its own
// group only, no supplementary groups (not www-data's rights through some
// group), no capabilities and no way to gain privileges. --reset-env
// drops the agent's environment: the user's process gets none of it, and
// without LANG setfacl's complaints stay in the English that
// classifySetfacl reads.
func asUser(uid int) []string {
	id := strconv.Itoa(uid)
	return []string{"--reuid=" + id, "--regid=" + id, "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--reset-env", "--"}
}

// grantArgs is setpriv's argument list that gives the web group write
// access to html (the access and default entries) and keeps what it
// creates writable for the user.
func grantArgs(uid int, webGroup, html string) []string {
	spec := "g:" + webGroup + ":rwX,d:g:" + webGroup + ":rwX,d:u:" + strconv.Itoa(uid) + ":rwX"
	return append(asUser(uid), "setfacl", "-R", "-P", "-m", spec, "--", html)
}

// revokeArgs removes the web group's entries again. The user's default
// entry stays: it only grants the owner what the owner has anyway.
func revokeArgs(uid int, webGroup, html string) []string {
	return append(asUser(uid), "setfacl", "-R", "-P", "-x", "g:"+webGroup+",d:g:"+webGroup, "--", html)
}

// unmarkArgs removes the web group's access entry of html alone: after a
// grant that failed half-way it makes the next run see "not granted" and
// try again, instead of trusting a document root whose contents were not
// all done.
func unmarkArgs(uid int, webGroup, html string) []string {
	return append(asUser(uid), "setfacl", "-P", "-x", "g:"+webGroup, "--", html)
}

// setfaclOutcome classifies what a failed setfacl over html printed.
type setfaclOutcome int

const (
	setfaclFailed      setfaclOutcome = iota // anything else: report it
	setfaclTolerated                         // only files the user does not own
	setfaclUnsupported                       // the filesystem has no ACLs
)

// classifySetfacl reads setfacl's complaints, one "setfacl: PATH: REASON"
// per line. "Operation not permitted" is expected for the files below html
// that the web server created (they are not the user's and inherited the
// default ACL already); on html itself it means the document root is not
// the user's, which is reported. A name with a newline can fake a line,
// but only in the user's own tree and only to the user's own detriment.
func classifySetfacl(out []byte, html string) setfaclOutcome {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return setfaclFailed
	}
	if slices.Contains(lines, "setfacl: "+html+": Operation not supported") {
		return setfaclUnsupported
	}
	for _, l := range lines {
		p, ok := strings.CutPrefix(l, "setfacl: ")
		if !ok {
			return setfaclFailed
		}
		p, ok = strings.CutSuffix(p, ": Operation not permitted")
		if !ok || !strings.HasPrefix(p, html+"/") {
			return setfaclFailed
		}
	}
	return setfaclTolerated
}

// frontPageDue reports, in sandbox mode where the ACLs are only planned
// and so never observed, whether this batch may have changed the user's
// FrontPage or lock state.
func frontPageDue(b agent.Batch, id int64, created, on bool) bool {
	what := b.What[id]
	if slices.Contains(what, "frontpage") || slices.Contains(what, "status") {
		return true
	}
	// Switched on: also on the occasions a real run would notice a
	// missing grant. Switched off needs no sweep: nothing was granted.
	return on && (b.Full || created || len(what) == 0 || slices.Contains(what, "create"))
}

// webDAV brings the ACL of the user's document root in line with its
// FrontPage and lock state.
func (r *userRun) webDAV(u agent.User, d desired) error {
	want := u.FrontPage != nil && !d.locked
	html := d.home + "/" + dirHTML
	if r.o.Sandbox {
		if !frontPageDue(r.b, u.ID, r.created, want) {
			return nil
		}
		if want {
			return r.exec("setpriv", grantArgs(d.uid, r.o.WebGroup, html)...)
		}
		return r.exec("setpriv", revokeArgs(d.uid, r.o.WebGroup, html)...)
	}
	hostHome := hostPath(r.env.FS, d.home)
	hostHTML := hostHome + "/" + dirHTML
	if err := checkPath("html", hostHTML); err != nil {
		return fmt.Errorf("document root %q: %w", hostHTML, err)
	}
	read := r.readACL
	if read == nil {
		read = readWebACL
	}
	st, err := read(hostHome, d.uid, r.webGID)
	switch {
	case err != nil && want:
		return fmt.Errorf("FrontPage cannot publish: %w", err)
	case err != nil:
		return nil // no document root of ours: nothing granted to take back
	case st.unsupported && want:
		r.aclUnsupported = true
		return fmt.Errorf("FrontPage cannot publish: the filesystem of %s has no POSIX ACLs", html)
	case want && !st.granted:
		err = r.setfacl(hostHTML, grantArgs(d.uid, r.o.WebGroup, hostHTML), d.uid)
	case !want && st.web && !st.unsupported:
		err = r.setfacl(hostHTML, revokeArgs(d.uid, r.o.WebGroup, hostHTML), -1)
	}
	if err != nil || st.missing || !frontPageDue(r.b, u.ID, r.created, want) {
		return err
	}
	return r.reclaim(hostHome, d)
}

// reclaim gives the files the web server published into the document
// root to the user (see reclaim.go); a dry run says how many it would.
func (r *userRun) reclaim(hostHome string, d desired) error {
	n, err := reclaim(hostHome, r.webUID, r.owner(d.uid), r.owner(d.uid), r.env.DryRun)
	if n > 0 {
		r.changed = true
		if r.env.DryRun {
			r.env.Plan(fmt.Sprintf("give the %d files and folders the web server created in %s/%s to %s", n, d.home, dirHTML, d.login))
		}
	}
	if err != nil {
		return fmt.Errorf("giving the web server's files to the user: %w", err)
	}
	return nil
}

// setfacl runs setpriv with args and judges setfacl's complaints. After a
// failed grant (undoUID >= 0) it takes the web group's entry off html
// again, so the next run tries once more.
func (r *userRun) setfacl(html string, args []string, undoUID int) error {
	r.changed = true
	out, err := r.run.Run(r.ctx, "setpriv", args...)
	if err == nil {
		return nil
	}
	switch classifySetfacl(out, html) {
	case setfaclTolerated:
		return nil
	case setfaclUnsupported:
		r.aclUnsupported = true
		return fmt.Errorf("FrontPage cannot publish: the filesystem of %s has no POSIX ACLs", html)
	}
	if undoUID >= 0 {
		_, _ = r.run.Run(r.ctx, "setpriv", unmarkArgs(undoUID, r.o.WebGroup, html)...)
		return fmt.Errorf("FrontPage cannot publish: %w", err)
	}
	return fmt.Errorf("FrontPage switched off, taking back the web server's write access: %w", err)
}

// hostPath returns where target path p is on the host: the FS maps it
// under its root when it says how (fsys.Root), else it is p itself (the
// production root "/").
func hostPath(fsys agent.FS, p string) string {
	if r, ok := fsys.(interface{ HostPath(string) (string, error) }); ok {
		if hp, err := r.HostPath(p); err == nil {
			return hp
		}
	}
	return p
}
