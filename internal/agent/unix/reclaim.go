package unix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Files published through WebDAV (USR-5) are created by the web server and
// belong to it: they would not count in the user's disk quota, and the
// user could not change their mode or ACL, also after FrontPage is
// switched off. The agent gives them to the user (reclaim) on every full
// run (every 10 minutes) and when FrontPage or the lock changes for a user
// with FrontPage on, and once more when FrontPage is switched off: the
// walk over the document root is not repeated for every other change. The web server keeps its access through the ACL's group entry,
// which a change of owner leaves alone.
//
// reclaim runs as root in a tree the user controls, so it never resolves
// a path the user could change under it: each directory is opened from
// its parent's descriptor, each entry is opened with O_PATH|O_NOFOLLOW
// and checked through that descriptor (type, owner, links), and the owner
// is changed on that same descriptor. A symlink, a rename or a swap in
// the meantime changes nothing but the entry that was checked. Only
// directories and regular files with one link owned by the web server
// are taken: a second link could be a file of the web server's elsewhere.
// The walk stays on html's file system.

// maxReclaimDepth bounds the folders reclaim descends into.
const maxReclaimDepth = 64

// reclaim gives what webUID owns under home/html to uid:gid and returns
// how many entries changed. With dry it changes nothing and counts what
// it would change.
func reclaim(home string, webUID, uid, gid int, dry bool) (int, error) {
	if webUID < 0 || webUID == uid {
		return 0, nil
	}
	html, err := openDocRoot(home)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // no document root yet (a dry run of a new user)
	}
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(html, &st); err != nil {
		unix.Close(html)
		return 0, fmt.Errorf("%s/%s: %w", home, dirHTML, err)
	}
	w := reclaimWalk{webUID: webUID, uid: uid, gid: gid, dry: dry, dev: st.Dev}
	err = w.dir(html, home+"/"+dirHTML, 0) // closes html
	return w.n, err
}

type reclaimWalk struct {
	webUID, uid, gid int
	dry              bool
	dev              uint64 // html's filesystem: the walk stays on it
	n                int
}

// dir reclaims the entries of the open directory fd (and closes it).
func (w *reclaimWalk) dir(fd int, name string, depth int) error {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if depth > maxReclaimDepth {
		return fmt.Errorf("%s: folders nested deeper than %d are left as they are", name, maxReclaimDepth)
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	for _, n := range names {
		if err := w.entry(fd, n, name+"/"+n, depth); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (w *reclaimWalk) entry(dirfd int, name, show string, depth int) error {
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil // gone meanwhile
	}
	if err != nil {
		return fmt.Errorf("%s: %w", show, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("%s: %w", show, err)
	}
	if st.Dev != w.dev {
		return nil // a file system mounted below html is not the user's
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	isFile := st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink == 1
	if int(st.Uid) == w.webUID && (isDir || isFile) {
		if !w.dry {
			if err := unix.Fchownat(fd, "", w.uid, w.gid, unix.AT_EMPTY_PATH); err != nil {
				return fmt.Errorf("%s: giving it to uid %d: %w", show, w.uid, err)
			}
		}
		w.n++
	}
	if !isDir {
		return nil
	}
	// Into the folder checked above, by its descriptor, not by name again.
	sub, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", show, err)
	}
	return w.dir(sub, show, depth+1)
}
