//go:build linux

// Package fsys gives the agent safe file operations under a configured root
// and a way to run commands as argument lists.
//
// The agent runs as root and writes into directories that users control
// (their homes). A user can plant a symlink anywhere in their home at any
// moment, so every path is walked component by component from a descriptor
// of the root with openat(O_NOFOLLOW|O_DIRECTORY): a symlink in any
// component is refused instead of followed, and the check cannot be raced
// because each step works on the descriptor that was just checked.
//
// os.Root was considered and rejected: it follows symlinks as long as they
// stay inside the root, and in production the root is "/", so a link from
// /home/web1/html to /etc would be followed.
package fsys

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"kontor/internal/agent"
)

var (
	// ErrSymlink is returned when a path component (or the final name) is
	// a symbolic link; the link is never followed.
	ErrSymlink = errors.New("refusing to follow a symbolic link")
	// ErrBadPath is returned for paths that are not absolute and clean,
	// contain "..", NUL or name no file.
	ErrBadPath = errors.New("path must be absolute and clean, without \"..\" or NUL")
	// ErrNotRegular is returned when the final name exists but is not a
	// regular file (a directory, device, FIFO, socket), which the agent
	// must not replace or read.
	ErrNotRegular = errors.New("not a regular file")
)

const (
	// dirFlags opens one directory component without following a link.
	dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	// readFlags: O_NONBLOCK so that a FIFO planted by a user cannot hang the
	// agent on open.
	readFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	// tmpFlags: O_EXCL|O_NOFOLLOW so that a name a user guessed and
	// pre-created (file or link) is never written through.
	tmpFlags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
)

// Root maps absolute target paths ("/etc/apache2/kontor/sites/web1.conf")
// under a directory: "/" in production, a sandbox in `kontor demo` and
// tests. The root directory itself is trusted configuration; everything
// below it is not.
type Root struct {
	dir string
	// deferred: writes skip their own fsync; Sync makes them durable.
	deferred bool
	// dirs keeps descriptors of directories only root can replace; nil:
	// every path is walked from the root (see Cached).
	dirs *dirCache
}

// Deferred returns a Root for the same directory whose writes are not
// synced one by one: a batch of ten thousand files would otherwise wait
// for twenty thousand fsyncs. Each write is still a temp file renamed
// into place, so a killed agent never leaves a half-written file; the
// caller calls Sync once before it makes a daemon read the files (the
// reload), which makes them durable against a power loss too.
func (r *Root) Deferred() *Root {
	c := *r
	c.deferred = true
	return &c
}

// Cached returns a Root for the same directory that keeps the descriptors
// of up to maxCachedDirs directories it walked through, so that the next
// path below one of them starts there instead of at the root: a full
// reconcile opens the same few directories (sites, zones, pools) tens of
// thousands of times. Only a directory that no one but root can replace
// is kept: it and every directory above it are root's, and each one's
// entry is in a directory that only root may write (or a sticky one).
// What a user controls, like a home, is walked every time, as by Root.
// Directories the Root removes are dropped from the cache; one deleted
// behind its back is noticed (it has no links left) and walked again.
func (r *Root) Cached() *Root {
	c := *r
	c.dirs = &dirCache{fds: map[string]int{}}
	return &c
}

// ForBatch implements agent.BatchFS: a Cached view of r for one batch of
// the loop. A cache that lives no longer than a batch also never keeps a
// directory an admin moved between batches.
func (r *Root) ForBatch() (agent.FS, func() error) {
	c := r.Cached()
	return c, c.Close
}

// Close closes the cached descriptors of a Cached root.
func (r *Root) Close() error {
	if r.dirs != nil {
		r.dirs.drop("")
	}
	return nil
}

// Sync flushes the filesystem that holds the root (syncfs), making every
// write so far durable. It is cheap when nothing is pending.
func (r *Root) Sync() error {
	fd, err := unix.Open(r.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", r.dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("sync %s: %w", r.dir, err)
	}
	return nil
}

// Open returns a Root for dir, which must be an absolute, clean path to an
// existing directory.
func Open(dir string) (*Root, error) {
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir || strings.IndexByte(dir, 0) >= 0 {
		return nil, fmt.Errorf("fsys: root %q: %w", dir, ErrBadPath)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("fsys: root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("fsys: root %q is not a directory", dir)
	}
	return &Root{dir: dir}, nil
}

// Dir returns the directory the root maps "/" to.
func (r *Root) Dir() string { return r.dir }

// HostPath returns where target path p lives on the host. It validates p
// but, being a plain string, gives no symlink guarantee: use it for
// messages and for handing a path to a daemon's checker, not for opening.
func (r *Root) HostPath(p string) (string, error) {
	if _, err := splitPath(p); err != nil {
		return "", &fs.PathError{Op: "path", Path: p, Err: err}
	}
	return filepath.Join(r.dir, p), nil
}

// splitPath validates a target path and returns its components ("/" has
// none).
func splitPath(p string) ([]string, error) {
	if p == "" || p[0] != '/' || strings.IndexByte(p, 0) >= 0 || path.Clean(p) != p {
		return nil, ErrBadPath
	}
	if p == "/" {
		return nil, nil
	}
	parts := strings.Split(p[1:], "/")
	for _, c := range parts {
		// Clean already removed these; checked again because this is the
		// line that keeps the agent inside the root.
		if c == "" || c == "." || c == ".." {
			return nil, ErrBadPath
		}
	}
	return parts, nil
}

// splitFile is splitPath for operations that need a final name.
func splitFile(p string) (dir []string, name string, err error) {
	parts, err := splitPath(p)
	if err != nil {
		return nil, "", err
	}
	if len(parts) == 0 {
		return nil, "", ErrBadPath
	}
	return parts[:len(parts)-1], parts[len(parts)-1], nil
}

// unixMode converts an fs.FileMode to the kernel's permission bits.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		u |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		u |= unix.S_ISVTX
	}
	return u
}

// setOwnerMode chowns then chmods an open descriptor: chown first because
// it clears set-uid/set-gid bits. uid or gid -1 leaves that id unchanged.
func setOwnerMode(fd int, perm uint32, uid, gid int) error {
	if uid >= 0 || gid >= 0 {
		if err := unix.Fchown(fd, uid, gid); err != nil {
			return err
		}
	}
	return unix.Fchmod(fd, perm)
}

// sameOwnerMode reports whether st already has perm and the owner (-1
// matches any id).
func sameOwnerMode(st *unix.Stat_t, perm uint32, uid, gid int) bool {
	return st.Mode&07777 == perm &&
		(uid < 0 || int(st.Uid) == uid) &&
		(gid < 0 || int(st.Gid) == gid)
}

// explain turns the errno of a failed no-follow open into a message that
// says whether a symlink was the reason. at is the target path shown.
func explain(dirfd int, name, at string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		var st unix.Stat_t
		if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return fmt.Errorf("%w: %s", ErrSymlink, at)
		}
	}
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%s: %w", at, fs.ErrNotExist)
	}
	return fmt.Errorf("%s: %w", at, err)
}

// openDir walks parts from the root without following any symlink and
// returns a descriptor of the last one. With create, missing components
// are made with perm and the owner (existing ones are left alone: /etc is
// not re-owned because a site lives below it). A Cached root starts at the
// deepest cached directory on the way and keeps the trusted ones it opens.
func (r *Root) openDir(parts []string, create bool, perm uint32, uid, gid int) (int, error) {
	start, fd := 0, -1
	var st unix.Stat_t // of fd, while the walk is on trusted ground
	trusted := false
	if r.dirs != nil {
		start, fd, st = r.dirs.longest(parts)
		trusted = true
	}
	if fd < 0 {
		var err error
		fd, err = unix.Open(r.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("root %s: %w", r.dir, err)
		}
		if trusted {
			trusted = unix.Fstat(fd, &st) == nil
		}
	}
	for i := start; i < len(parts); i++ {
		name := parts[i]
		next, err := unix.Openat(fd, name, dirFlags, 0)
		if errors.Is(err, unix.ENOENT) && create {
			// 0700 until owner and mode are set, so nobody else can use
			// the directory in between.
			err = unix.Mkdirat(fd, name, 0o700)
			created := err == nil
			if err == nil || errors.Is(err, unix.EEXIST) {
				next, err = unix.Openat(fd, name, dirFlags, 0)
			}
			if err == nil && created {
				if err = setOwnerMode(next, perm, uid, gid); err != nil {
					unix.Close(next)
				}
			}
		}
		if err != nil {
			err = explain(fd, name, "/"+strings.Join(parts[:i+1], "/"), err)
			unix.Close(fd)
			return -1, err
		}
		if trusted {
			var child unix.Stat_t
			trusted = unix.Fstat(next, &child) == nil && rootOnly(&st, &child)
			if trusted {
				r.dirs.put(strings.Join(parts[:i+1], "/"), next)
				st = child
			}
		}
		unix.Close(fd)
		fd = next
	}
	return fd, nil
}

// rootOnly reports whether the directory child, an entry of parent, can be
// replaced by root alone: child is root's, and parent is root's and
// writable by no one else, or sticky (then only the entry's owner, root,
// may rename it).
func rootOnly(parent, child *unix.Stat_t) bool {
	return child.Uid == 0 && parent.Uid == 0 && (parent.Mode&0o022 == 0 || parent.Mode&unix.S_ISVTX != 0)
}

// maxCachedDirs bounds the descriptors a Cached root keeps.
const maxCachedDirs = 256

// dirCache maps "/"-joined target paths to open directory descriptors.
type dirCache struct {
	mu   sync.Mutex
	fds  map[string]int
	keys []string // in the order they were added, for eviction
}

// longest returns a new descriptor of the deepest cached directory on the
// way to parts, how many components it covers and its stat; (0, -1) when
// none is cached. A cached directory that was removed meanwhile (no links
// left) is dropped.
func (c *dirCache) longest(parts []string) (int, int, unix.Stat_t) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var st unix.Stat_t
	for i := len(parts); i > 0; i-- {
		key := strings.Join(parts[:i], "/")
		fd, ok := c.fds[key]
		if !ok {
			continue
		}
		if err := unix.Fstat(fd, &st); err != nil || st.Nlink == 0 {
			c.remove(key)
			continue
		}
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return 0, -1, st
		}
		return i, dup, st
	}
	return 0, -1, st
}

// put keeps a duplicate of fd for key.
func (c *dirCache) put(key string, fd int) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return // a cache, not a duty
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.fds[key]; ok {
		unix.Close(old)
	} else {
		c.keys = append(c.keys, key)
	}
	c.fds[key] = dup
	for len(c.fds) > maxCachedDirs && len(c.keys) > 0 {
		c.remove(c.keys[0])
	}
}

// remove closes and forgets key; c.mu is held.
func (c *dirCache) remove(key string) {
	if fd, ok := c.fds[key]; ok {
		unix.Close(fd)
		delete(c.fds, key)
	}
	c.keys = slices.DeleteFunc(c.keys, func(k string) bool { return k == key })
}

// drop forgets the directory at key and everything below it ("" is all).
func (c *dirCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.fds {
		if key == "" || k == key || strings.HasPrefix(k, key+"/") {
			c.remove(k)
		}
	}
}

// tempName returns a name for a temp file that a user cannot predict.
func tempName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on Linux
	return ".kontor-tmp-" + hex.EncodeToString(b[:])
}

// lstatAt stats name in dirfd without following a link; exists is false
// when there is nothing there.
func lstatAt(dirfd int, name string) (st unix.Stat_t, exists bool, err error) {
	err = unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return st, false, nil
	}
	return st, err == nil, err
}

// checkReplaceable refuses a final name that is a symlink or not a regular
// file.
func checkReplaceable(st *unix.Stat_t) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return nil
	case unix.S_IFLNK:
		return ErrSymlink
	default:
		return ErrNotRegular
	}
}

// unchanged reports whether the regular file name in dirfd already has
// exactly data, perm and owner.
func unchanged(dirfd int, name string, data []byte, perm uint32, uid, gid int) (bool, error) {
	st, exists, err := lstatAt(dirfd, name)
	if err != nil || !exists {
		return false, err
	}
	if err := checkReplaceable(&st); err != nil {
		return false, err
	}
	if !sameOwnerMode(&st, perm, uid, gid) || st.Size != int64(len(data)) {
		return false, nil
	}
	fd, err := unix.Openat(dirfd, name, readFlags, 0)
	if err != nil {
		// Swapped for a link since the stat: not the same file.
		return false, nil
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	// Read one byte more than expected to notice a file that grew.
	got, err := io.ReadAll(io.LimitReader(f, int64(len(data))+1))
	if err != nil {
		return false, err
	}
	return bytes.Equal(got, data), nil
}

// writeTemp creates a temp file in dirfd holding data with perm and owner,
// synced to disk, and returns its name.
func writeTemp(dirfd int, data []byte, perm uint32, uid, gid int, sync bool) (string, error) {
	tmp := tempName()
	fd, err := unix.Openat(dirfd, tmp, tmpFlags, 0o600)
	if err != nil {
		return "", err
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(data)
	if err == nil {
		err = setOwnerMode(fd, perm, uid, gid)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return "", err
	}
	return tmp, nil
}

// WriteFile replaces the file at target path p atomically with data, mode
// and owner (uid/gid -1: unchanged), and reports whether anything changed.
// It does nothing when content, mode and owner already match, so reloads
// only happen for real changes. The parent directory must exist (see
// MkdirAll). A symlink in any component, or a symlink, directory or other
// non-regular file at the final name, is refused.
func (r *Root) WriteFile(p string, data []byte, mode fs.FileMode, uid, gid int) (changed bool, err error) {
	dir, name, err := splitFile(p)
	if err != nil {
		return false, &fs.PathError{Op: "write", Path: p, Err: err}
	}
	dirfd, err := r.openDir(dir, false, 0, -1, -1)
	if err != nil {
		return false, &fs.PathError{Op: "write", Path: p, Err: err}
	}
	defer unix.Close(dirfd)
	perm := unixMode(mode)
	same, err := unchanged(dirfd, name, data, perm, uid, gid)
	if err != nil {
		return false, &fs.PathError{Op: "write", Path: p, Err: err}
	}
	if same {
		return false, nil
	}
	tmp, err := writeTemp(dirfd, data, perm, uid, gid, !r.deferred)
	if err != nil {
		return false, &fs.PathError{Op: "write", Path: p, Err: err}
	}
	// rename replaces a symlink planted after the check as a link (it is
	// never followed) and fails on a directory, so the race is harmless.
	if err := unix.Renameat(dirfd, tmp, dirfd, name); err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return false, &fs.PathError{Op: "write", Path: p, Err: err}
	}
	if r.deferred {
		return true, nil
	}
	if err := unix.Fsync(dirfd); err != nil {
		return true, &fs.PathError{Op: "write", Path: p, Err: fmt.Errorf("sync directory: %w", err)}
	}
	return true, nil
}

// WriteIfMissing creates the file at p with data, mode and owner only if
// nothing exists at that name, and reports whether it did. A file the user
// uploaded is never overwritten; a symlink at the final name (even a
// dangling one) is an error, never written through. The file appears
// complete or not at all: it is written to a temp file and moved into place
// with a no-replace rename.
func (r *Root) WriteIfMissing(p string, data []byte, mode fs.FileMode, uid, gid int) (bool, error) {
	dir, name, err := splitFile(p)
	if err != nil {
		return false, &fs.PathError{Op: "create", Path: p, Err: err}
	}
	dirfd, err := r.openDir(dir, false, 0, -1, -1)
	if err != nil {
		return false, &fs.PathError{Op: "create", Path: p, Err: err}
	}
	defer unix.Close(dirfd)
	existing := func() (bool, error) {
		st, exists, err := lstatAt(dirfd, name)
		if err != nil {
			return false, &fs.PathError{Op: "create", Path: p, Err: err}
		}
		if exists && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return true, &fs.PathError{Op: "create", Path: p, Err: ErrSymlink}
		}
		return exists, nil
	}
	if exists, err := existing(); exists || err != nil {
		return false, err
	}
	tmp, err := writeTemp(dirfd, data, unixMode(mode), uid, gid, !r.deferred)
	if err != nil {
		return false, &fs.PathError{Op: "create", Path: p, Err: err}
	}
	err = unix.Renameat2(dirfd, tmp, dirfd, name, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// Filesystem without RENAME_NOREPLACE: link(2) never replaces
		// either.
		err = unix.Linkat(dirfd, tmp, dirfd, name, 0)
		unix.Unlinkat(dirfd, tmp, 0)
	}
	if err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		if errors.Is(err, unix.EEXIST) {
			// Created by someone else in between: theirs wins.
			_, err := existing()
			return false, err
		}
		return false, &fs.PathError{Op: "create", Path: p, Err: err}
	}
	if r.deferred {
		return true, nil
	}
	if err := unix.Fsync(dirfd); err != nil {
		return true, &fs.PathError{Op: "create", Path: p, Err: fmt.Errorf("sync directory: %w", err)}
	}
	return true, nil
}

// MkdirAll creates directory p and missing parents with mode and owner,
// refusing to follow a symlink in any component. The final directory's
// mode and owner are corrected if they differ; parents that already exist
// are left as they are.
func (r *Root) MkdirAll(p string, mode fs.FileMode, uid, gid int) error {
	parts, err := splitPath(p)
	if err != nil {
		return &fs.PathError{Op: "mkdir", Path: p, Err: err}
	}
	perm := unixMode(mode)
	fd, err := r.openDir(parts, true, perm, uid, gid)
	if err != nil {
		return &fs.PathError{Op: "mkdir", Path: p, Err: err}
	}
	defer unix.Close(fd)
	if len(parts) == 0 {
		return nil // the root itself is configuration, not ours to chmod
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "mkdir", Path: p, Err: err}
	}
	if !sameOwnerMode(&st, perm, uid, gid) {
		if err := setOwnerMode(fd, perm, uid, gid); err != nil {
			return &fs.PathError{Op: "mkdir", Path: p, Err: err}
		}
	}
	return nil
}

// ReadFile returns the content of the regular file at p (for diffs). A
// missing file gives an error matching fs.ErrNotExist.
func (r *Root) ReadFile(p string) ([]byte, error) {
	f, err := r.open(p, "read")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Open opens the regular file at p for reading, checked as ReadFile checks
// it, for a file too large to hold in memory (a day of a busy site's
// access log).
func (r *Root) Open(p string) (*os.File, error) { return r.open(p, "open") }

func (r *Root) open(p, op string) (*os.File, error) {
	dir, name, err := splitFile(p)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: p, Err: err}
	}
	dirfd, err := r.openDir(dir, false, 0, -1, -1)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: p, Err: err}
	}
	defer unix.Close(dirfd)
	fd, err := unix.Openat(dirfd, name, readFlags, 0)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: p, Err: explain(dirfd, name, p, err)}
	}
	f := os.NewFile(uintptr(fd), name)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: op, Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		return nil, &fs.PathError{Op: op, Path: p, Err: ErrNotRegular}
	}
	return f, nil
}

// Pending is a file being written by Create: nothing is at its path until
// Commit renames it into place, as WriteFile does with a whole file.
type Pending struct {
	f        *os.File
	dirfd    int
	tmp      string
	name     string
	path     string
	perm     uint32
	uid, gid int
	deferred bool
	err      error
}

// Create starts a file for p that is written piece by piece: Commit
// replaces p with it (mode and owner set, checked like WriteFile's final
// name), Abort throws it away. One of the two must be called.
func (r *Root) Create(p string, mode fs.FileMode, uid, gid int) (*Pending, error) {
	dir, name, err := splitFile(p)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: p, Err: err}
	}
	dirfd, err := r.openDir(dir, false, 0, -1, -1)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: p, Err: err}
	}
	tmp := tempName()
	fd, err := unix.Openat(dirfd, tmp, tmpFlags, 0o600)
	if err != nil {
		unix.Close(dirfd)
		return nil, &fs.PathError{Op: "create", Path: p, Err: err}
	}
	return &Pending{f: os.NewFile(uintptr(fd), tmp), dirfd: dirfd, tmp: tmp, name: name, path: p,
		perm: unixMode(mode), uid: uid, gid: gid, deferred: r.deferred}, nil
}

// Write appends to the pending file; after an error Commit fails.
func (w *Pending) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.f.Write(b)
	w.err = err
	return n, err
}

// Commit puts the file in place of its path.
func (w *Pending) Commit() error {
	if w.f == nil {
		return &fs.PathError{Op: "commit", Path: w.path, Err: os.ErrClosed}
	}
	err := w.err
	if err == nil {
		err = setOwnerMode(int(w.f.Fd()), w.perm, w.uid, w.gid)
	}
	if err == nil && !w.deferred {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err == nil {
		st, exists, serr := lstatAt(w.dirfd, w.name)
		if err = serr; err == nil && exists {
			err = checkReplaceable(&st)
		}
	}
	if err == nil {
		err = unix.Renameat(w.dirfd, w.tmp, w.dirfd, w.name)
	}
	if err == nil && !w.deferred {
		err = unix.Fsync(w.dirfd)
	}
	if err != nil {
		unix.Unlinkat(w.dirfd, w.tmp, 0)
	}
	unix.Close(w.dirfd)
	if err != nil {
		return &fs.PathError{Op: "write", Path: w.path, Err: err}
	}
	return nil
}

// Abort removes the pending file; after Commit it does nothing.
func (w *Pending) Abort() {
	if w.f == nil {
		return
	}
	w.f.Close()
	w.f = nil
	unix.Unlinkat(w.dirfd, w.tmp, 0)
	unix.Close(w.dirfd)
}

// Remove removes the file, symlink (as a link) or empty directory at p.
// Nothing there is not an error, so reconciling a deletion twice is fine.
func (r *Root) Remove(p string) error {
	dir, name, err := splitFile(p)
	if err != nil {
		return &fs.PathError{Op: "remove", Path: p, Err: err}
	}
	dirfd, err := r.openDir(dir, false, 0, -1, -1)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &fs.PathError{Op: "remove", Path: p, Err: err}
	}
	defer unix.Close(dirfd)
	err = unix.Unlinkat(dirfd, name, 0)
	if errors.Is(err, unix.EISDIR) {
		err = unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
		r.forget(p)
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return &fs.PathError{Op: "remove", Path: p, Err: err}
	}
	return nil
}

// ModTime returns the modification time of p itself (a symlink is not
// followed).
func (r *Root) ModTime(p string) (time.Time, error) {
	dir, name, err := splitFile(p)
	if err != nil {
		return time.Time{}, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	dirfd, err := r.openDir(dir, false, 0, -1, -1)
	if err != nil {
		return time.Time{}, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	defer unix.Close(dirfd)
	st, exists, err := lstatAt(dirfd, name)
	if err == nil && !exists {
		err = unix.ENOENT
	}
	if err != nil {
		return time.Time{}, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	return time.Unix(st.Mtim.Unix()), nil
}

// SetModTime sets the access and modification time of p itself (a symlink
// is not followed) to t. Debian's cron, for one, notices a changed
// crontab only by these times.
func (r *Root) SetModTime(p string, t time.Time) error {
	dir, name, err := splitFile(p)
	if err != nil {
		return &fs.PathError{Op: "utimes", Path: p, Err: err}
	}
	dirfd, err := r.openDir(dir, false, 0, -1, -1)
	if err != nil {
		return &fs.PathError{Op: "utimes", Path: p, Err: err}
	}
	defer unix.Close(dirfd)
	ts := unix.NsecToTimespec(t.UnixNano())
	if err := unix.UtimesNanoAt(dirfd, name, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "utimes", Path: p, Err: err}
	}
	return nil
}

// RemoveAll removes p and everything below it (a user's home). Symlinks
// inside are removed as links; their targets are never touched, because
// every directory is entered with openat(O_NOFOLLOW) relative to its
// already-open parent. A symlink in a component above p is refused. Nothing
// there is not an error.
//
// Each directory level holds one descriptor while its children are
// removed, so the depth a user can create is bounded by the open-file limit.
func (r *Root) RemoveAll(p string) error {
	dir, name, err := splitFile(p)
	if err != nil {
		return &fs.PathError{Op: "removeall", Path: p, Err: err}
	}
	dirfd, err := r.openDir(dir, false, 0, -1, -1)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &fs.PathError{Op: "removeall", Path: p, Err: err}
	}
	defer unix.Close(dirfd)
	r.forget(p)
	if err := removeAt(dirfd, name); err != nil {
		return &fs.PathError{Op: "removeall", Path: p, Err: err}
	}
	return nil
}

// forget drops the cached directory at p and below (a removal).
func (r *Root) forget(p string) {
	if r.dirs == nil {
		return
	}
	if parts, err := splitPath(p); err == nil {
		r.dirs.drop(strings.Join(parts, "/"))
	}
}

// maxPasses bounds how often a directory is re-read while a user keeps
// creating files in it during removal.
const maxPasses = 5

// removeAt removes name in dirfd recursively without following links.
func removeAt(dirfd int, name string) error {
	for range maxPasses {
		err := unix.Unlinkat(dirfd, name, 0)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("%s: %w", name, err)
		}
		fd, err := unix.Openat(dirfd, name, dirFlags, 0)
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			continue // swapped for a link or file since the unlink: unlink again
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		err = emptyDir(fd, name)
		if err != nil {
			return err
		}
		err = unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return fmt.Errorf("%s: still not empty after %d passes", name, maxPasses)
}

// emptyDir removes all entries of the directory open as fd, then closes it.
// Entries are listed first and removed afterwards, because removing while
// reading a directory may skip entries.
func emptyDir(fd int, name string) error {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, n := range names {
		if err := removeAt(fd, n); err != nil {
			return fmt.Errorf("%s/%w", name, err)
		}
	}
	return nil
}

// ReadDir returns the sorted names in the directory p (no "." or "..").
// A missing directory gives no names and no error: the agent sweeps its
// own directories, and one not created yet holds nothing to sweep.
func (r *Root) ReadDir(p string) ([]string, error) {
	parts, err := splitPath(p)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: err}
	}
	fd, err := r.openDir(parts, false, 0, -1, -1)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: err}
	}
	sort.Strings(names)
	return names, nil
}
