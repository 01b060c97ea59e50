package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemFiles: the demo's admin sees what the agent generated under
// the sandbox root, and nothing else: no path outside the listed folders,
// no "..", no symlink a user planted in a home.
func TestSystemFiles(t *testing.T) {
	f := newFixture(t)
	root := t.TempDir()
	for p, data := range map[string]string{
		"etc/apache2/kontor/sites/web1.conf": "<VirtualHost 127.0.0.1:80>\n\tServerName alpha.example\n</VirtualHost>\n",
		"etc/secret.txt":                     "not shown\n",
		"home/web1/html/index.html":          "<script>alert(1)</script>\n",
	} {
		must(t, os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755))
		must(t, os.WriteFile(filepath.Join(root, p), []byte(data), 0o644))
	}
	must(t, os.Symlink("/etc", filepath.Join(root, "home/web1/html/etc")))

	// Without a sandbox the page does not exist, nor its menu entry.
	admin := f.login("admin", "/admin/")
	if code, _ := admin.get("/admin/system-files"); code != http.StatusNotFound {
		t.Errorf("without a sandbox: %d", code)
	}
	if _, body := admin.get("/admin/settings"); strings.Contains(body, "/admin/system-files") {
		t.Error("menu links System files without a sandbox")
	}

	w, err := New(Options{App: f.app, Catalog: f.web.cat, Log: f.app.Log, SandboxRoot: root})
	must(t, err)
	f.srv = httptest.NewServer(w.Handler())
	t.Cleanup(f.srv.Close)
	admin = f.login("admin", "/admin/")
	code, body := admin.get("/admin/system-files?path=/etc/apache2/kontor/sites")
	if code != 200 || !strings.Contains(body, "/etc/apache2/kontor/sites/web1.conf") {
		t.Fatalf("listing: %d %s", code, text(body))
	}
	code, body = admin.get("/admin/system-files?path=/etc/apache2/kontor/sites/web1.conf")
	if code != 200 || !strings.Contains(body, "ServerName alpha.example") {
		t.Errorf("file: %d %s", code, text(body))
	}
	if _, body = admin.get("/admin/system-files?path=/home/web1/html/index.html"); strings.Contains(body, "<script>alert(1)</script>") ||
		!strings.Contains(body, "&lt;script&gt;") {
		t.Error("a file's content is not escaped")
	}
	for _, bad := range []string{"/etc/secret.txt", "/etc/apache2/../secret.txt", "/home/web1/html/etc/passwd", "/home/web1/html/etc", "etc/apache2"} {
		code, body := admin.get("/admin/system-files?path=" + bad)
		if code == 200 || strings.Contains(body, "not shown") || strings.Contains(body, "root:x:0:0") {
			t.Errorf("%s: %d %s", bad, code, text(body))
		}
	}
	if _, body = admin.get("/admin/settings"); !strings.Contains(body, "/admin/system-files") {
		t.Error("no menu entry with a sandbox")
	}
	res := f.login(f.res1.Login, "/reseller/")
	if code, _ := res.get("/admin/system-files?path=/etc/apache2"); code == 200 {
		t.Error("a reseller opened System files")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
