package unix

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"syscall"

	"kontor/internal/agent"
)

// stdCGI holds the standard CGI scripts (SVC-1 std_cgi). A form mailer is
// deliberately not among them: on a shared server it becomes a spam relay.
//
//go:embed stdcgi/*.cgi
var stdCGI embed.FS

// StdCGI returns the standard CGI scripts by file name.
func StdCGI() map[string][]byte {
	out := make(map[string][]byte)
	names, _ := fs.Glob(stdCGI, "stdcgi/*.cgi")
	for _, n := range names {
		b, _ := stdCGI.ReadFile(n)
		out[path.Base(n)] = b
	}
	return out
}

// stdCGINames returns the scripts' names in order.
func stdCGINames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// The home layout (SVC-1, SVC-2).
const (
	dirHTML   = "html"    // the document root
	dirFiles  = "files"   // private files, not served
	dirLog    = "log"     // the user's own logs and statistics output
	dirCGI    = "cgi-bin" // only with CGI: ScriptAlias /cgi-bin/, outside the web root
	dirPHPTmp = "phptmp"  // only with PHP upload: uploads and sessions, private
)

// homeSpec is what the layout of one home needs.
type homeSpec struct {
	home     string
	uid, gid int // owner of everything below the home (-1: unchanged)
	webGID   int // group of the home itself
	cgi      bool
	phpTmp   bool
}

// dirSpec is one directory of the layout; enforce keeps its mode and
// owner even after the user changed them.
type dirSpec struct {
	name    string
	mode    fs.FileMode
	enforce bool
}

// layoutResult says what ensureHome did.
type layoutResult struct {
	newHome bool // the home did not exist or was empty
	changed bool
}

// ensureHome creates the home and its directories. The home itself is
// always brought back to 0750 user:WebGroup: it is what keeps other users
// out. Below it, the agent creates what is missing and otherwise leaves the
// user's directories as the user set them, except phptmp, which is kept
// private (0700) because PHP keeps the sessions there. A name that exists
// but is not a directory (or is a symlink the user planted) is left alone;
// the agent never writes through it (fsys refuses to follow links).
//
// Switching CGI or PHP upload off (SVC-2) removes cgi-bin or phptmp only
// when nothing of the user's is in it: the standard CGI scripts the agent
// installed, unchanged, go; anything else keeps the directory (Apache no
// longer maps it, so it does nothing).
func ensureHome(fsys agent.FS, h homeSpec) (layoutResult, error) {
	var r layoutResult
	// One listing of the home itself, not of HomeBase: a full run over
	// thousands of users must not read /home once per user. A missing
	// home lists as empty, and an empty one counts as new too (a crash
	// between useradd and the layout).
	names, err := fsys.ReadDir(h.home)
	if err != nil {
		return r, fmt.Errorf("home: %w", err)
	}
	r.newHome = len(names) == 0
	if err := fsys.MkdirAll(h.home, 0o750, h.uid, h.webGID); err != nil {
		return r, err
	}
	want := []dirSpec{{dirHTML, 0o755, false}, {dirFiles, 0o750, false}, {dirLog, 0o750, false}}
	if h.cgi {
		want = append(want, dirSpec{dirCGI, 0o755, false})
	}
	if h.phpTmp {
		want = append(want, dirSpec{dirPHPTmp, 0o700, true})
	}
	for _, d := range want {
		if slices.Contains(names, d.name) && !d.enforce {
			continue
		}
		if err := fsys.MkdirAll(h.home+"/"+d.name, d.mode, h.uid, h.gid); err != nil {
			return r, err
		}
		if !slices.Contains(names, d.name) {
			r.changed = true
		}
	}
	if !h.cgi && slices.Contains(names, dirCGI) {
		removed, err := removeCGIDir(fsys, h.home+"/"+dirCGI)
		if err != nil {
			return r, err
		}
		r.changed = r.changed || removed
	}
	if !h.phpTmp && slices.Contains(names, dirPHPTmp) {
		removed, err := removeIfEmpty(fsys, h.home+"/"+dirPHPTmp)
		if err != nil {
			return r, err
		}
		r.changed = r.changed || removed
	}
	return r, nil
}

// removeCGIDir removes the standard scripts that are exactly as the agent
// installed them, then the directory if that left it empty. A symlink
// named cgi-bin is not entered (ReadDir refuses it) and stays.
func removeCGIDir(fsys agent.FS, dir string) (bool, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return false, nil // not a directory we can enter: the user's
	}
	std := StdCGI()
	changed := false
	for _, n := range names {
		want, ok := std[n]
		if !ok {
			continue
		}
		got, err := fsys.ReadFile(dir + "/" + n)
		if err != nil || string(got) != string(want) {
			continue // changed by the user, or not a regular file
		}
		if err := fsys.Remove(dir + "/" + n); err != nil {
			return changed, err
		}
		changed = true
	}
	removed, err := removeIfEmpty(fsys, dir)
	return changed || removed, err
}

// removeIfEmpty removes directory dir when it holds nothing. A file
// created in between makes the removal fail with ENOTEMPTY, which only
// means the directory is the user's now.
func removeIfEmpty(fsys agent.FS, dir string) (bool, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil || len(names) > 0 {
		return false, nil
	}
	if err := fsys.Remove(dir); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// installIndex writes the reseller's start page into a new home's web
// root (SET-2), never over an existing file.
func installIndex(fsys agent.FS, home, name, html string, uid, gid int) (bool, error) {
	if name == "" || html == "" {
		return false, nil
	}
	return fsys.WriteIfMissing(home+"/"+dirHTML+"/"+name, []byte(html), 0o644, uid, gid)
}

// installStdCGI copies the standard scripts that are missing into
// cgi-bin; an existing file of the same name is never overwritten.
func installStdCGI(fsys agent.FS, home string, uid, gid int) (bool, error) {
	std := StdCGI()
	changed := false
	for _, n := range stdCGINames(std) {
		w, err := fsys.WriteIfMissing(home+"/"+dirCGI+"/"+n, std[n], 0o755, uid, gid)
		if err != nil {
			return changed, err
		}
		changed = changed || w
	}
	return changed, nil
}
