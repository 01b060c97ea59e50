package fsys

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

// Recorder is the file side of `kontor apply --dry-run`: it reads through
// to a Root, keeps every write and removal in memory (later reads see
// them, so a daemon that reads back what it wrote behaves as in a real
// run) and reports them as a unified diff. The Root is never changed.
type Recorder struct {
	root *Root
	mu   sync.Mutex
	// over holds the recorded state per path: content, or nil for removed.
	over map[string]*recorded
	// removedDirs holds removed trees: every path below them reads as gone.
	removedDirs []string
}

type recorded struct {
	data []byte
	mode fs.FileMode
	uid  int
	gid  int
	dir  bool
}

// NewRecorder returns a Recorder reading through to root.
func NewRecorder(root *Root) *Recorder {
	return &Recorder{root: root, over: make(map[string]*recorded)}
}

func (r *Recorder) gone(p string) bool {
	for _, d := range r.removedDirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// read returns the current content of p as the dry run sees it.
func (r *Recorder) read(p string) ([]byte, bool, error) {
	if o, ok := r.over[p]; ok {
		if o == nil {
			return nil, false, nil
		}
		return o.data, true, nil
	}
	if r.gone(p) {
		return nil, false, nil
	}
	b, err := r.root.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// WriteFile records the write; it reports a change when the content
// differs from what the dry run sees at p.
func (r *Recorder) WriteFile(p string, data []byte, mode fs.FileMode, uid, gid int) (bool, error) {
	if _, err := splitPath(p); err != nil {
		return false, &fs.PathError{Op: "write", Path: p, Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok, err := r.read(p)
	if err != nil {
		return false, err
	}
	if ok && string(old) == string(data) {
		return false, nil
	}
	r.over[p] = &recorded{data: append([]byte(nil), data...), mode: mode, uid: uid, gid: gid}
	return true, nil
}

// WriteIfMissing records the write when nothing is at p.
func (r *Recorder) WriteIfMissing(p string, data []byte, mode fs.FileMode, uid, gid int) (bool, error) {
	if _, err := splitPath(p); err != nil {
		return false, &fs.PathError{Op: "write", Path: p, Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok, err := r.read(p); err != nil || ok {
		return false, err
	}
	r.over[p] = &recorded{data: append([]byte(nil), data...), mode: mode, uid: uid, gid: gid}
	return true, nil
}

// MkdirAll records nothing: a directory shows in the diff through the
// files written into it.
func (r *Recorder) MkdirAll(p string, mode fs.FileMode, uid, gid int) error {
	if _, err := splitPath(p); err != nil {
		return &fs.PathError{Op: "mkdir", Path: p, Err: err}
	}
	return nil
}

// ReadFile reads what the dry run sees at p.
func (r *Recorder) ReadFile(p string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok, err := r.read(p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fs.ErrNotExist}
	}
	return b, nil
}

// ReadDir lists p as the dry run sees it.
func (r *Recorder) ReadDir(p string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]bool)
	if !r.gone(p) {
		names, err := r.root.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if o, ok := r.over[p+"/"+n]; !ok || o != nil {
				if !r.gone(p + "/" + n) {
					seen[n] = true
				}
			}
		}
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	for q, o := range r.over {
		if o != nil && strings.HasPrefix(q, prefix) {
			seen[strings.SplitN(q[len(prefix):], "/", 2)[0]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Remove records the removal of p.
func (r *Recorder) Remove(p string) error {
	if _, err := splitPath(p); err != nil {
		return &fs.PathError{Op: "remove", Path: p, Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.over[p] = nil
	return nil
}

// RemoveAll records the removal of p and everything below it.
func (r *Recorder) RemoveAll(p string) error {
	if _, err := splitPath(p); err != nil {
		return &fs.PathError{Op: "removeall", Path: p, Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for q := range r.over {
		if q == p || strings.HasPrefix(q, p+"/") {
			delete(r.over, q)
		}
	}
	r.over[p] = nil
	r.removedDirs = append(r.removedDirs, p)
	return nil
}

// Diff returns the unified diff of every recorded change against the
// root, in path order. A removed tree is one line, not a diff of every
// file in a user's home.
func (r *Recorder) Diff() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	paths := make([]string, 0, len(r.over))
	for p := range r.over {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		o := r.over[p]
		if o == nil && isDirRemoved(r.removedDirs, p) {
			if fi, err := r.root.ReadDir(p); err == nil && fi != nil {
				fmt.Fprintf(&b, "Only in a: %s (directory tree removed)\n", strings.TrimPrefix(p, "/"))
				continue
			}
		}
		old, err := r.root.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(&b, "# %s: %v\n", p, err)
			continue
		}
		var nw []byte
		if o != nil {
			nw = o.data
		} else if old == nil {
			continue // removing what is not there
		}
		if o != nil && old == nil {
			b.WriteString(Diff(p, nil, nw))
			continue
		}
		b.WriteString(Diff(p, old, nw))
	}
	return b.String()
}

func isDirRemoved(dirs []string, p string) bool {
	for _, d := range dirs {
		if d == p {
			return true
		}
	}
	return false
}
