//go:build linux

package fsys

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	userUID = 1001 // web1, the user who plants links
	userGID = 1001
)

// sandbox builds a root with a user home and an "outside" /etc holding a
// passwd file that attacks aim at. It returns the root and the host path of
// the sandbox.
func sandbox(t testing.TB) (*Root, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown files to a user")
	}
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644))
	home := filepath.Join(dir, "home/web1")
	must(t, os.MkdirAll(filepath.Join(home, "html"), 0o755))
	must(t, os.Chown(home, userUID, userGID))
	must(t, os.Chown(filepath.Join(home, "html"), userUID, userGID))
	r, err := Open(dir)
	must(t, err)
	return r, dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot lists every entry under dir with type, mode, owner and content,
// so a test can prove an attack changed nothing there.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(&b, "%s %v %d:%d", p, fi.Mode(), st.Uid, st.Gid)
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, " %q", data)
		}
		b.WriteByte('\n')
		return nil
	})
	must(t, err)
	return b.String()
}

func TestOpen(t *testing.T) {
	for _, d := range []string{"", "rel", "/tmp/../tmp", "/tmp/", "/nonexistent-kontor-root"} {
		if _, err := Open(d); err == nil {
			t.Errorf("Open(%q) succeeded", d)
		}
	}
}

func TestBadPaths(t *testing.T) {
	r, _ := sandbox(t)
	bad := []string{"", "etc/x", "/etc/../x", "/../x", "/etc//x", "/etc/./x", "/etc/x/", "/etc/x\x00y", "/"}
	for _, p := range bad {
		if _, err := r.WriteFile(p, nil, 0o644, 0, 0); !errors.Is(err, ErrBadPath) {
			t.Errorf("WriteFile(%q) = %v, want ErrBadPath", p, err)
		}
		if _, err := r.WriteIfMissing(p, nil, 0o644, 0, 0); !errors.Is(err, ErrBadPath) {
			t.Errorf("WriteIfMissing(%q) = %v, want ErrBadPath", p, err)
		}
		if err := r.RemoveAll(p); !errors.Is(err, ErrBadPath) {
			t.Errorf("RemoveAll(%q) = %v, want ErrBadPath", p, err)
		}
		if p != "/" {
			if err := r.MkdirAll(p, 0o755, 0, 0); !errors.Is(err, ErrBadPath) {
				t.Errorf("MkdirAll(%q) = %v, want ErrBadPath", p, err)
			}
		}
	}
}

func TestWriteFileUnchangedModeOwner(t *testing.T) {
	r, dir := sandbox(t)
	p := "/home/web1/html/.htaccess"
	host := filepath.Join(dir, p)
	changed, err := r.WriteFile(p, []byte("v1\n"), 0o640, userUID, 33)
	if err != nil || !changed {
		t.Fatalf("first write: changed=%v err=%v", changed, err)
	}
	checkFile(t, host, "v1\n", 0o640, userUID, 33)
	ino := inode(t, host)

	changed, err = r.WriteFile(p, []byte("v1\n"), 0o640, userUID, 33)
	if err != nil || changed {
		t.Fatalf("identical write: changed=%v err=%v, want false", changed, err)
	}
	if inode(t, host) != ino {
		t.Error("identical write replaced the file")
	}
	for _, step := range []struct {
		data     string
		mode     fs.FileMode
		uid, gid int
	}{
		{"v1\n", 0o644, userUID, 33},                  // mode only
		{"v1\n", 0o644, 0, 33},                        // owner only
		{"v1\n", 0o644, 0, 0},                         // group only
		{"v2\n", 0o644, 0, 0},                         // same size, new content
		{"v2 longer\n", 0o644, 0, 0},                  // size
		{"#!/bin/sh\n", 0o755 | fs.ModeSetgid, 0, 33}, // special bits survive chown
	} {
		changed, err := r.WriteFile(p, []byte(step.data), step.mode, step.uid, step.gid)
		if err != nil || !changed {
			t.Fatalf("%+v: changed=%v err=%v, want true", step, changed, err)
		}
		checkFile(t, host, step.data, step.mode, step.uid, step.gid)
	}
	// uid/gid -1 keep the owner and count as matching.
	if changed, err := r.WriteFile(p, []byte("#!/bin/sh\n"), 0o755|fs.ModeSetgid, -1, -1); err != nil || changed {
		t.Errorf("write with -1 ids: changed=%v err=%v, want false", changed, err)
	}
	noTempFiles(t, filepath.Dir(host))
}

func checkFile(t *testing.T, host, data string, mode fs.FileMode, uid, gid int) {
	t.Helper()
	fi, err := os.Lstat(host)
	must(t, err)
	got, err := os.ReadFile(host)
	must(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	if string(got) != data || fi.Mode() != mode || int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s: %q %v %d:%d, want %q %v %d:%d", host, got, fi.Mode(), st.Uid, st.Gid, data, mode, uid, gid)
	}
}

func inode(t *testing.T, host string) uint64 {
	fi, err := os.Lstat(host)
	must(t, err)
	return fi.Sys().(*syscall.Stat_t).Ino
}

func noTempFiles(t *testing.T, hostDir string) {
	t.Helper()
	ents, err := os.ReadDir(hostDir)
	must(t, err)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".kontor-tmp-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestWriteFileNeedsParent(t *testing.T) {
	r, _ := sandbox(t)
	if _, err := r.WriteFile("/etc/apache2/kontor/x.conf", []byte("x"), 0o644, 0, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want not exist", err)
	}
}

func TestWriteFileRefusesDirectoryAndSpecial(t *testing.T) {
	r, dir := sandbox(t)
	must(t, os.Mkdir(filepath.Join(dir, "home/web1/html/index.html"), 0o755))
	if _, err := r.WriteFile("/home/web1/html/index.html", []byte("x"), 0o644, 0, 0); !errors.Is(err, ErrNotRegular) {
		t.Errorf("over directory: %v, want ErrNotRegular", err)
	}
	must(t, syscall.Mkfifo(filepath.Join(dir, "home/web1/html/fifo"), 0o644))
	if _, err := r.WriteFile("/home/web1/html/fifo", []byte("x"), 0o644, 0, 0); !errors.Is(err, ErrNotRegular) {
		t.Errorf("over fifo: %v, want ErrNotRegular", err)
	}
	if _, err := r.ReadFile("/home/web1/html/fifo"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("read fifo: %v, want ErrNotRegular (and no hang)", err)
	}
}

// attack describes one symlink a user plants and the operations that must
// be refused because of it.
type attack struct {
	name   string
	link   string // host path under the sandbox, relative
	target func(dir string) string
}

func TestSymlinkAttacks(t *testing.T) {
	attacks := []attack{
		{"html->/etc absolute", "home/web1/html", func(d string) string { return filepath.Join(d, "etc") }},
		{"html->../../etc relative", "home/web1/html", func(string) string { return "../../etc" }},
		{"parent dir->/etc", "home/web1/html/sub", func(d string) string { return filepath.Join(d, "etc") }},
	}
	for _, a := range attacks {
		for _, cached := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s cached=%v", a.name, cached), func(t *testing.T) {
				symlinkAttack(t, a, cached)
			})
		}
	}
}

func symlinkAttack(t *testing.T, a attack, cached bool) {
	r, dir := sandbox(t)
	if cached {
		// Walk every directory on the way first, so that a cached
		// descriptor of the directory replaced below would be used.
		r = r.Cached()
		t.Cleanup(func() { r.Close() })
		must(t, r.MkdirAll("/"+a.link, 0o755, userUID, userGID))
		_, err := r.WriteFile("/"+a.link+"/warm", []byte("x"), 0o644, userUID, userGID)
		must(t, err)
		_, err = r.ReadFile("/etc/passwd")
		must(t, err)
	}
	linkHost := filepath.Join(dir, a.link)
	must(t, os.RemoveAll(linkHost))
	must(t, os.Symlink(a.target(dir), linkHost))
	must(t, os.Lchown(linkHost, userUID, userGID))
	before := snapshot(t, filepath.Join(dir, "etc"))
	below := "/" + a.link + "/passwd"

	if _, err := r.WriteFile(below, []byte("pwned\n"), 0o644, 0, 0); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteFile: %v, want ErrSymlink", err)
	}
	if _, err := r.WriteFile("/"+a.link+"/index.html", []byte("pwned\n"), 0o644, 0, 0); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteFile new: %v, want ErrSymlink", err)
	}
	if _, err := r.WriteIfMissing("/"+a.link+"/index.html", []byte("pwned\n"), 0o644, 0, 0); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteIfMissing: %v, want ErrSymlink", err)
	}
	if err := r.MkdirAll("/"+a.link+"/cgi-bin", 0o755, userUID, userGID); !errors.Is(err, ErrSymlink) {
		t.Errorf("MkdirAll below: %v, want ErrSymlink", err)
	}
	if err := r.MkdirAll("/"+a.link, 0o700, userUID, userGID); !errors.Is(err, ErrSymlink) {
		t.Errorf("MkdirAll at link (would chmod the target): %v, want ErrSymlink", err)
	}
	if _, err := r.ReadFile(below); !errors.Is(err, ErrSymlink) {
		t.Errorf("ReadFile: %v, want ErrSymlink", err)
	}
	if err := r.Remove(below); !errors.Is(err, ErrSymlink) {
		t.Errorf("Remove below: %v, want ErrSymlink", err)
	}
	if err := r.RemoveAll(below); !errors.Is(err, ErrSymlink) {
		t.Errorf("RemoveAll below: %v, want ErrSymlink", err)
	}
	passwd, err := os.Stat(filepath.Join(dir, "etc/passwd"))
	must(t, err)
	if err := r.SetModTime(below, time.Unix(1e9, 0)); !errors.Is(err, ErrSymlink) {
		t.Errorf("SetModTime below: %v, want ErrSymlink", err)
	}
	if _, err := r.ModTime(below); !errors.Is(err, ErrSymlink) {
		t.Errorf("ModTime below: %v, want ErrSymlink", err)
	}
	if after, err := os.Stat(filepath.Join(dir, "etc/passwd")); err != nil || !after.ModTime().Equal(passwd.ModTime()) {
		t.Errorf("SetModTime through a link changed the target's time: %v", err)
	}
	if after := snapshot(t, filepath.Join(dir, "etc")); after != before {
		t.Fatalf("outside changed:\n%s\nwas\n%s", after, before)
	}
	// Removing the link itself removes only the link.
	if err := r.RemoveAll("/" + a.link); err != nil {
		t.Fatalf("RemoveAll link: %v", err)
	}
	if _, err := os.Lstat(linkHost); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link still there: %v", err)
	}
	if after := snapshot(t, filepath.Join(dir, "etc")); after != before {
		t.Fatalf("RemoveAll of the link changed the target:\n%s", after)
	}
}

func TestFinalNameSymlink(t *testing.T) {
	r, dir := sandbox(t)
	idx := filepath.Join(dir, "home/web1/html/index.html")
	must(t, os.Symlink(filepath.Join(dir, "etc/passwd"), idx))
	dangling := filepath.Join(dir, "home/web1/html/cgi-bin")
	must(t, os.Symlink(filepath.Join(dir, "etc/created-through-link"), dangling))
	before := snapshot(t, filepath.Join(dir, "etc"))

	if _, err := r.WriteFile("/home/web1/html/index.html", []byte("pwned\n"), 0o644, 0, 0); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteFile: %v, want ErrSymlink", err)
	}
	if _, err := r.WriteIfMissing("/home/web1/html/index.html", []byte("pwned\n"), 0o644, 0, 0); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteIfMissing: %v, want ErrSymlink", err)
	}
	if _, err := r.WriteIfMissing("/home/web1/html/cgi-bin", []byte("pwned\n"), 0o644, 0, 0); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteIfMissing dangling: %v, want ErrSymlink", err)
	}
	if _, err := r.WriteFile("/home/web1/html/cgi-bin", []byte("pwned\n"), 0o644, 0, 0); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteFile dangling: %v, want ErrSymlink", err)
	}
	if _, err := r.ReadFile("/home/web1/html/index.html"); !errors.Is(err, ErrSymlink) {
		t.Errorf("ReadFile: %v, want ErrSymlink", err)
	}
	if after := snapshot(t, filepath.Join(dir, "etc")); after != before {
		t.Fatalf("outside changed:\n%s", after)
	}
	noTempFiles(t, filepath.Dir(idx))
	// Remove deletes the link, not /etc/passwd.
	must(t, r.Remove("/home/web1/html/index.html"))
	if _, err := os.Lstat(idx); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link still there")
	}
	if after := snapshot(t, filepath.Join(dir, "etc")); after != before {
		t.Fatalf("Remove changed the target:\n%s", after)
	}
}

func TestWriteIfMissing(t *testing.T) {
	r, dir := sandbox(t)
	p := "/home/web1/html/index.html"
	host := filepath.Join(dir, p)
	created, err := r.WriteIfMissing(p, []byte("<h1>Welcome</h1>\n"), 0o644, userUID, userGID)
	if err != nil || !created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	checkFile(t, host, "<h1>Welcome</h1>\n", 0o644, userUID, userGID)
	// The user uploads their own page; it is never overwritten.
	must(t, os.WriteFile(host, []byte("mine"), 0o600))
	created, err = r.WriteIfMissing(p, []byte("<h1>Welcome</h1>\n"), 0o644, userUID, userGID)
	if err != nil || created {
		t.Fatalf("second: created=%v err=%v", created, err)
	}
	checkFile(t, host, "mine", 0o644, userUID, userGID) // os.WriteFile keeps the mode
	noTempFiles(t, filepath.Dir(host))
}

func TestMkdirAll(t *testing.T) {
	r, dir := sandbox(t)
	must(t, r.MkdirAll("/home/web2/html/cgi-bin", 0o750, 1002, 1002))
	for _, p := range []string{"home/web2", "home/web2/html", "home/web2/html/cgi-bin"} {
		fi, err := os.Stat(filepath.Join(dir, p))
		must(t, err)
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != fs.ModeDir|0o750 || st.Uid != 1002 || st.Gid != 1002 {
			t.Errorf("%s: %v %d:%d", p, fi.Mode(), st.Uid, st.Gid)
		}
	}
	// Existing parent /home is not re-owned; the final dir is corrected.
	fi, _ := os.Stat(filepath.Join(dir, "home"))
	if fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Error("existing parent re-owned")
	}
	must(t, r.MkdirAll("/home/web2/html/cgi-bin", 0o755, 1002, 33))
	fi, _ = os.Stat(filepath.Join(dir, "home/web2/html/cgi-bin"))
	if fi.Mode() != fs.ModeDir|0o755 || fi.Sys().(*syscall.Stat_t).Gid != 33 {
		t.Errorf("final dir not corrected: %v", fi.Mode())
	}
	// A file where a directory should be.
	must(t, os.WriteFile(filepath.Join(dir, "home/web1/html/file"), nil, 0o644))
	if err := r.MkdirAll("/home/web1/html/file/x", 0o755, 0, 0); err == nil {
		t.Error("MkdirAll through a file succeeded")
	}
	must(t, r.MkdirAll("/", 0o700, 5, 5)) // the root is left alone
}

func TestRemoveAllTreeWithLinksOut(t *testing.T) {
	r, dir := sandbox(t)
	home := filepath.Join(dir, "home/web1")
	// A deep tree with links to the outside at several levels, a hard-to-
	// remove read-only directory and a FIFO.
	must(t, os.MkdirAll(filepath.Join(home, "html/a/b/c"), 0o755))
	must(t, os.WriteFile(filepath.Join(home, "html/a/b/c/f.txt"), []byte("x"), 0o644))
	must(t, os.Symlink(filepath.Join(dir, "etc"), filepath.Join(home, "html/a/etc-abs")))
	must(t, os.Symlink("../../../../etc", filepath.Join(home, "html/a/b/etc-rel")))
	must(t, os.Symlink(filepath.Join(dir, "etc/passwd"), filepath.Join(home, "passwd")))
	must(t, syscall.Mkfifo(filepath.Join(home, "fifo"), 0o644))
	must(t, os.Chmod(filepath.Join(home, "html/a/b"), 0o500))
	before := snapshot(t, filepath.Join(dir, "etc"))

	must(t, r.RemoveAll("/home/web1"))
	if _, err := os.Lstat(home); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("home still there: %v", err)
	}
	if after := snapshot(t, filepath.Join(dir, "etc")); after != before {
		t.Fatalf("outside changed:\n%s\nwas\n%s", after, before)
	}
	// Missing is fine (idempotent reconcile), also with a missing parent.
	must(t, r.RemoveAll("/home/web1"))
	must(t, r.RemoveAll("/home/nobody/x"))
	must(t, r.Remove("/home/web1"))
}

func TestReadFile(t *testing.T) {
	r, _ := sandbox(t)
	got, err := r.ReadFile("/etc/passwd")
	if err != nil || !bytes.HasPrefix(got, []byte("root:")) {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := r.ReadFile("/etc/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v, want ErrNotExist", err)
	}
	if _, err := r.ReadFile("/etc"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("directory: %v, want ErrNotRegular", err)
	}
}

// TestAtomicity replaces a file again and again while readers read it on
// the host path: every read must see one complete version.
func TestAtomicity(t *testing.T) {
	r, dir := sandbox(t)
	p := "/etc/big.conf"
	host := filepath.Join(dir, p)
	versions := [][]byte{bytes.Repeat([]byte("a"), 256<<10), bytes.Repeat([]byte("b"), 300<<10)}
	if _, err := r.WriteFile(p, versions[0], 0o644, 0, 0); err != nil {
		t.Fatal(err)
	}
	const writes = 200
	done := make(chan struct{})
	var wg sync.WaitGroup
	var bad sync.Map
	for range 4 {
		wg.Go(func() {
			for reads := 0; reads < 100000; reads++ {
				select {
				case <-done:
					return
				default:
				}
				got, err := os.ReadFile(host)
				if err != nil || !(bytes.Equal(got, versions[0]) || bytes.Equal(got, versions[1])) {
					bad.Store(len(got), err)
				}
			}
		})
	}
	for i := range writes {
		if _, err := r.WriteFile(p, versions[(i+1)%2], 0o644, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	bad.Range(func(k, v any) bool {
		t.Errorf("reader saw a partial file: %v bytes, err %v", k, v)
		return true
	})
	noTempFiles(t, filepath.Dir(host))
}

// BenchmarkWriteFile30k writes 30,000 small files (a full first render of
// 10,000 users × 3 files) into 100 directories; the "unchanged" variant is
// the common steady-state run where nothing changed.
func BenchmarkWriteFile30k(b *testing.B) {
	r, _ := sandbox(b)
	for d := range 100 {
		must(b, r.MkdirAll(fmt.Sprintf("/etc/kontor/d%02d", d), 0o755, 0, 0))
	}
	paths := make([]string, 30000)
	for i := range paths {
		paths[i] = fmt.Sprintf("/etc/kontor/d%02d/web%d.conf", i%100, i)
	}
	gen := 0
	write := func(b *testing.B, wantChanged bool) {
		for i, p := range paths {
			data := fmt.Appendf(nil, "# gen %d\n<VirtualHost *:80>\n\tServerName web%d.example\n</VirtualHost>\n", gen, i)
			changed, err := r.WriteFile(p, data, 0o644, 0, 0)
			if err != nil || changed != wantChanged {
				b.Fatalf("%s: changed=%v err=%v", p, changed, err)
			}
		}
	}
	b.Run("changed", func(b *testing.B) {
		for b.Loop() {
			gen++
			write(b, true)
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			write(b, false)
		}
	})
}

func TestDeferredWritesAndSync(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Deferred()
	if err := d.MkdirAll("/etc/x", 0o755, -1, -1); err != nil {
		t.Fatal(err)
	}
	changed, err := d.WriteFile("/etc/x/a.conf", []byte("one\n"), 0o640, -1, -1)
	if err != nil || !changed {
		t.Fatalf("write: %v %v", changed, err)
	}
	if ok, err := d.WriteIfMissing("/etc/x/b.conf", []byte("two\n"), 0o644, -1, -1); err != nil || !ok {
		t.Fatalf("create: %v %v", ok, err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "etc/x/a.conf"))
	if err != nil || string(b) != "one\n" {
		t.Errorf("a.conf = %q %v", b, err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "etc/x/a.conf"))
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
	// Deferred or not, a symlink is never written through.
	os.Symlink("/etc/passwd", filepath.Join(dir, "etc/x/link"))
	if _, err := d.WriteFile("/etc/x/link/y", []byte("x"), 0o644, -1, -1); err == nil {
		t.Error("wrote through a symlink")
	}
	if r.deferred || !d.deferred {
		t.Error("Deferred changed the original root")
	}
}

// SetModTime on a symlink sets the link's own times, never its target's;
// ModTime reads them back.
func TestModTimeOfALink(t *testing.T) {
	r, dir := sandbox(t)
	link := filepath.Join(dir, "home/web1/html/link")
	must(t, os.Symlink(filepath.Join(dir, "etc/passwd"), link))
	before, err := os.Stat(filepath.Join(dir, "etc/passwd"))
	must(t, err)
	when := time.Unix(1_700_000_000, 0)
	must(t, r.SetModTime("/home/web1/html/link", when))
	if got, err := r.ModTime("/home/web1/html/link"); err != nil || !got.Equal(when) {
		t.Errorf("ModTime of the link: %v, %v; want %v", got, err, when)
	}
	if after, err := os.Stat(filepath.Join(dir, "etc/passwd")); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the target's time changed: %v", err)
	}
	if _, err := r.ModTime("/home/web1/html/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ModTime of nothing: %v, want ErrNotExist", err)
	}
}

// A Cached root keeps the directories only root can replace and walks
// what a user controls every time: a user who moves html away and puts a
// link to /etc in its place gets ErrSymlink, as from a plain root, and
// never a write into the moved directory.
func TestCachedRootWalksWhatUsersControl(t *testing.T) {
	plain, dir := sandbox(t)
	r := plain.Cached()
	defer r.Close()
	home := filepath.Join(dir, "home/web1")
	_, err := r.WriteFile("/home/web1/html/a.html", []byte("a"), 0o644, userUID, userGID)
	must(t, err)
	must(t, r.MkdirAll("/etc/apache2/kontor/sites", 0o755, 0, 0))
	_, err = r.WriteFile("/etc/apache2/kontor/sites/web1.conf", []byte("x"), 0o644, 0, 0)
	must(t, err)
	keys := func() []string {
		r.dirs.mu.Lock()
		defer r.dirs.mu.Unlock()
		var out []string
		for k := range r.dirs.fds {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if got, want := keys(), []string{"etc", "etc/apache2", "etc/apache2/kontor", "etc/apache2/kontor/sites", "home"}; !slices.Equal(got, want) {
		t.Errorf("cached %q, want %q", got, want)
	}

	// The user moves html away and links /etc in its place.
	must(t, os.Rename(filepath.Join(home, "html"), filepath.Join(home, "moved")))
	must(t, os.Symlink(filepath.Join(dir, "etc"), filepath.Join(home, "html")))
	before := snapshot(t, filepath.Join(dir, "etc"))
	if _, err := r.WriteFile("/home/web1/html/passwd", []byte("pwned\n"), 0o644, 0, 0); !errors.Is(err, ErrSymlink) {
		t.Errorf("WriteFile through the swapped html: %v, want ErrSymlink", err)
	}
	if _, err := os.Lstat(filepath.Join(home, "moved/passwd")); err == nil {
		t.Errorf("the write went into the moved directory")
	}
	if after := snapshot(t, filepath.Join(dir, "etc")); after != before {
		t.Errorf("/etc changed:\n%s", after)
	}

	// A cached directory removed behind the root's back is walked again;
	// one the root removes itself is forgotten.
	must(t, os.RemoveAll(filepath.Join(dir, "etc/apache2/kontor/sites")))
	must(t, os.MkdirAll(filepath.Join(dir, "etc/apache2/kontor/sites"), 0o755))
	_, err = r.WriteFile("/etc/apache2/kontor/sites/web2.conf", []byte("y"), 0o644, 0, 0)
	must(t, err)
	if _, err := os.Stat(filepath.Join(dir, "etc/apache2/kontor/sites/web2.conf")); err != nil {
		t.Errorf("written into the removed directory: %v", err)
	}
	must(t, r.RemoveAll("/etc/apache2/kontor"))
	if got := keys(); slices.ContainsFunc(got, func(k string) bool { return strings.HasPrefix(k, "etc/apache2/kontor") }) {
		t.Errorf("removed directories still cached: %q", got)
	}
	must(t, r.MkdirAll("/etc/apache2/kontor/sites", 0o755, 0, 0))
	_, err = r.WriteFile("/etc/apache2/kontor/sites/web3.conf", []byte("z"), 0o644, 0, 0)
	must(t, err)
	if _, err := os.Stat(filepath.Join(dir, "etc/apache2/kontor/sites/web3.conf")); err != nil {
		t.Errorf("after RemoveAll and MkdirAll: %v", err)
	}
}

// Directories in a world-writable directory are cached only when it is
// sticky (then only their owner, root, can move them), and the cache
// holds at most maxCachedDirs descriptors.
func TestCachedRootBounds(t *testing.T) {
	plain, dir := sandbox(t)
	r := plain.Cached()
	defer r.Close()
	for _, d := range []struct {
		name string
		mode os.FileMode
	}{{"open", 0o777}, {"sticky", 0o777 | os.ModeSticky}} {
		must(t, os.Mkdir(filepath.Join(dir, d.name), 0o700))
		must(t, os.Chmod(filepath.Join(dir, d.name), d.mode))
		must(t, r.MkdirAll("/"+d.name+"/sub", 0o755, 0, 0))
	}
	r.dirs.mu.Lock()
	_, open := r.dirs.fds["open/sub"]
	_, sticky := r.dirs.fds["sticky/sub"]
	r.dirs.mu.Unlock()
	if open || !sticky {
		t.Errorf("cached below a world-writable directory: %v, below a sticky one: %v; want false, true", open, sticky)
	}
	for i := range maxCachedDirs + 50 {
		must(t, r.MkdirAll(fmt.Sprintf("/many/d%d", i), 0o755, 0, 0))
	}
	r.dirs.mu.Lock()
	n, k := len(r.dirs.fds), len(r.dirs.keys)
	r.dirs.mu.Unlock()
	if n > maxCachedDirs || k != n {
		t.Errorf("%d descriptors, %d keys; want at most %d, equal", n, k, maxCachedDirs)
	}
}

// Create writes piece by piece and puts nothing at the path before Commit;
// Abort leaves nothing; a symlink planted at the path meanwhile is refused
// (its target untouched) and no temp file stays. Open reads like ReadFile
// and refuses links and FIFOs.
func TestCreateAndOpen(t *testing.T) {
	r, dir := sandbox(t)
	html := filepath.Join(dir, "home/web1/html")
	w, err := r.Create("/home/web1/html/big.log", 0o640, userUID, userGID)
	must(t, err)
	for range 3 {
		_, err := w.Write([]byte("line\n"))
		must(t, err)
	}
	if _, err := os.Lstat(filepath.Join(html, "big.log")); err == nil {
		t.Fatalf("the file is there before Commit")
	}
	must(t, w.Commit())
	fi, err := os.Stat(filepath.Join(html, "big.log"))
	must(t, err)
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o640 || st.Uid != userUID || st.Gid != userGID {
		t.Errorf("mode %v owner %d:%d", fi.Mode(), st.Uid, st.Gid)
	}
	f, err := r.Open("/home/web1/html/big.log")
	must(t, err)
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(data) != "line\nline\nline\n" {
		t.Errorf("read back %q, %v", data, err)
	}

	w, err = r.Create("/home/web1/html/gone.log", 0o644, 0, 0)
	must(t, err)
	_, err = w.Write([]byte("x"))
	must(t, err)
	w.Abort()
	w, err = r.Create("/home/web1/html/passwd", 0o644, 0, 0)
	must(t, err)
	_, err = w.Write([]byte("pwned\n"))
	must(t, err)
	must(t, os.Symlink(filepath.Join(dir, "etc/passwd"), filepath.Join(html, "passwd")))
	before := snapshot(t, filepath.Join(dir, "etc"))
	if err := w.Commit(); !errors.Is(err, ErrSymlink) {
		t.Errorf("Commit over a planted link: %v, want ErrSymlink", err)
	}
	if after := snapshot(t, filepath.Join(dir, "etc")); after != before {
		t.Errorf("the link's target changed:\n%s", after)
	}
	names, err := os.ReadDir(html)
	must(t, err)
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
	}
	if want := []string{"big.log", "passwd"}; !slices.Equal(got, want) {
		t.Errorf("html holds %q, want %q (no temp files, nothing aborted)", got, want)
	}
	if _, err := r.Open("/home/web1/html/passwd"); !errors.Is(err, ErrSymlink) {
		t.Errorf("Open of a link: %v, want ErrSymlink", err)
	}
	must(t, syscall.Mkfifo(filepath.Join(html, "fifo"), 0o644))
	if _, err := r.Open("/home/web1/html/fifo"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Open of a FIFO: %v, want ErrNotRegular", err)
	}
}
