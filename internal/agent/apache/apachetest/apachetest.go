// Package apachetest starts a real Apache for tests: a minimal main config
// in a temp dir that loads the modules the generated vhosts need, listens
// on loopback high ports and includes one generated global file. It is
// shared by the apache package's own checks and by the packages whose
// output Apache serves (Webalizer's protected statistics).
package apachetest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"kontor/internal/testenv"
)

// Bin returns the apache2 binary or skips/fails through testenv.
func Bin(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"apache2", "/usr/sbin/apache2"} {
		if b, err := exec.LookPath(p); err == nil {
			return b
		}
	}
	testenv.Need(t, "Apache (Debian package apache2)")
	return ""
}

// Modules the generated config needs (Debian builds core, so, unixd,
// log_config, logio and version in).
var Modules = []string{
	"mpm_event", "authz_core", "authz_host", "authz_user", "authn_core", "authn_file",
	"auth_basic", "mime", "dir", "autoindex", "alias", "setenvif", "include", "cgid",
	"proxy", "proxy_fcgi", "proxy_http", "socache_shmcb", "ssl", "dav", "dav_fs",
}

// Main describes the main config of a test Apache.
type Main struct {
	// Root is the ServerRoot; Root/run and Root/log must exist.
	Root string
	// Ports are listened on at 127.0.0.1; the first also gets the
	// fallback vhost for unknown names.
	Ports []int
	// FallbackRoot is the document root of the fallback vhost.
	FallbackRoot string
	// Include is the generated global file.
	Include string
	// User and Group run the workers; "" means www-data.
	User, Group string
}

// WriteMain writes Root/apache2.conf and returns its path.
func WriteMain(t testing.TB, m Main) string {
	t.Helper()
	if m.User == "" {
		m.User = "www-data"
	}
	if m.Group == "" {
		m.Group = "www-data"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %s\n", m.Root)
	fmt.Fprintf(&b, "PidFile %s/run/apache2.pid\n", m.Root)
	fmt.Fprintf(&b, "DefaultRuntimeDir %s/run\n", m.Root)
	fmt.Fprintf(&b, "ErrorLog %s/log/main.error.log\n", m.Root)
	b.WriteString("LogLevel warn\nServerName localhost\n")
	for _, mod := range Modules {
		fmt.Fprintf(&b, "LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n", mod, mod)
	}
	fmt.Fprintf(&b, "User %s\nGroup %s\n", m.User, m.Group)
	for _, p := range m.Ports {
		fmt.Fprintf(&b, "Listen 127.0.0.1:%d\n", p)
	}
	b.WriteString("TypesConfig /etc/mime.types\nDirectoryIndex index.html index.php\n")
	fmt.Fprintf(&b, "SSLSessionCache shmcb:%s/run/ssl_scache(512000)\n", m.Root)
	fmt.Fprintf(&b, "DavLockDB %s/run/davlock\n", m.Root)
	fmt.Fprintf(&b, "ScriptSock %s/run/cgisock\n", m.Root)
	b.WriteString("<Directory />\n\tOptions None\n\tAllowOverride None\n\tRequire all denied\n</Directory>\n")
	// The fallback vhost for unknown names, so no generated vhost is the
	// default by accident.
	if len(m.Ports) > 0 {
		fmt.Fprintf(&b, "<VirtualHost *:%d>\n\tServerName default.invalid\n\tDocumentRoot %s\n</VirtualHost>\n", m.Ports[0], m.FallbackRoot)
	}
	fmt.Fprintf(&b, "Include %s\n", m.Include)
	conf := m.Root + "/apache2.conf"
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// Configtest runs apache2 -t and asserts "Syntax OK".
func Configtest(t testing.TB, bin, conf string) {
	t.Helper()
	out, err := exec.Command(bin, "-t", "-f", conf).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Syntax OK") {
		t.Fatalf("apache2 -t -f %s: %v\n%s", conf, err, out)
	}
	t.Logf("apache2 -t: %s", strings.TrimSpace(string(out)))
}

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitPort polls until something accepts on addr.
func WaitPort(t testing.TB, addr string, exited <-chan struct{}, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("%s exited before listening on %s", what, addr)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s does not listen on %s", what, addr)
}

// WaitFile polls until path exists (a unix socket of PHP-FPM).
func WaitFile(t testing.TB, path string, exited <-chan struct{}, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("%s exited before creating %s", what, path)
		default:
		}
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not create %s", what, path)
}

// StartDaemon starts argv in the foreground and stops it (SIGTERM, then
// SIGKILL) in cleanup. It returns a channel closed when the process exits.
func StartDaemon(t testing.TB, logFile string, argv ...string) <-chan struct{} {
	t.Helper()
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); log.Close(); close(exited) }()
	t.Cleanup(func() {
		// SIGTERM: Apache and PHP-FPM both stop at once, children too.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			if b, err := os.ReadFile(logFile); err == nil && len(b) > 0 {
				t.Logf("%s output:\n%s", filepath.Base(argv[0]), b)
			}
		}
	})
	return exited
}

// Request is one HTTP request to the test Apache.
type Request struct {
	Scheme string // "http" or "https"
	Port   int
	Host   string // the Host header (and the TLS server name)
	Path   string
	// User and Password are sent as Basic auth when User is not empty.
	User, Password string
}

// Do sends r and returns the status code and the body.
func Do(t testing.TB, r Request) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET",
		fmt.Sprintf("%s://127.0.0.1:%d%s", r.Scheme, r.Port, r.Path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = r.Host
	if r.User != "" {
		req.SetBasicAuth(r.User, r.Password)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:           nil,
		TLSClientConfig: &tls.Config{ServerName: r.Host, InsecureSkipVerify: true},
	}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s (Host %s): %v", r.Scheme, r.Path, r.Host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Get fetches scheme://127.0.0.1:port/path with the Host header host.
func Get(t testing.TB, scheme string, port int, host, path string) (int, string) {
	t.Helper()
	return Do(t, Request{Scheme: scheme, Port: port, Host: host, Path: path})
}
