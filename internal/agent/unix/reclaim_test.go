package unix

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// reclaim takes directories and single-link regular files of the web
// server's uid under html, at any depth, and nothing else: not the target
// of a symlink, not a file with a second link, not a FIFO, not another
// uid's file. A dry run counts the same and changes nothing.
func TestReclaim(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reclaim changes owners: the test needs root")
	}
	const web, user, other = 60401, 60402, 60403
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	html := filepath.Join(home, "html")
	outside := filepath.Join(dir, "outside")
	owned := map[string]int{}
	mk := func(p string, uid int, isDir bool) {
		t.Helper()
		var err error
		if isDir {
			err = os.MkdirAll(p, 0o755)
		} else {
			err = os.WriteFile(p, []byte("x"), 0o644)
		}
		if err == nil {
			err = os.Lchown(p, uid, uid)
		}
		if err != nil {
			t.Fatal(err)
		}
		owned[p] = uid
	}
	mk(home, user, true)
	mk(html, user, true)
	mk(outside, web, false)
	mk(html+"/page.html", web, false)
	mk(html+"/mine.html", user, false)
	mk(html+"/others.html", other, false)
	mk(html+"/dav", web, true)
	mk(html+"/dav/deep", user, true)
	mk(html+"/dav/deep/file", web, false)
	if err := os.Symlink(outside, html+"/link"); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(outside, html+"/hard"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(html+"/fifo", 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(html+"/fifo", web, web); err != nil {
		t.Fatal(err)
	}
	owned[html+"/fifo"] = web

	// A file system mounted below html (an admin's) is left alone.
	if err := os.Mkdir(html+"/mnt", 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", html+"/mnt").CombinedOutput(); err == nil {
		t.Cleanup(func() {
			// html is renamed below: the mount moved with it.
			for _, m := range []string{html + "/mnt", html + ".real/mnt"} {
				exec.Command("umount", m).Run()
			}
		})
		mk(html+"/mnt/webfile", web, false)
	} else {
		t.Logf("no tmpfs mount here (%v: %s): the mount case is not checked", err, out)
	}
	owned[html+"/mnt"] = 0

	uidOf := func(p string) int {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		return int(st.Uid)
	}
	if n, err := reclaim(home, web, user, user, true); err != nil || n != 3 {
		t.Fatalf("dry run: %d, %v; want 3", n, err)
	}
	for p, uid := range owned {
		if got := uidOf(p); got != uid {
			t.Errorf("the dry run gave %s to %d", p, got)
		}
	}
	if n, err := reclaim(home, web, user, user, false); err != nil || n != 3 {
		t.Fatalf("run: %d, %v; want 3", n, err)
	}
	for _, p := range []string{html + "/page.html", html + "/dav", html + "/dav/deep/file"} {
		owned[p] = user
	}
	for p, uid := range owned {
		if got := uidOf(p); got != uid {
			t.Errorf("%s belongs to %d, want %d", p, got, uid)
		}
	}
	if n, err := reclaim(home, web, user, user, false); err != nil || n != 0 {
		t.Errorf("again: %d, %v; want 0", n, err)
	}
	// html itself a symlink: refused, the target untouched.
	if err := os.Rename(html, html+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, html); err != nil {
		t.Fatal(err)
	}
	if _, err := reclaim(home, web, user, user, false); err != errNotDir {
		t.Errorf("html as a symlink: %v, want %v", err, errNotDir)
	}
	if got := uidOf(outside); got != web {
		t.Errorf("the symlinked html's target changed hands: %d", got)
	}
}
