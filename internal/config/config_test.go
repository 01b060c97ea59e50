package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kontor.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load("", envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{DB: "kontor.db", Listen: "127.0.0.1:8080", Root: "/", LogLevel: "info",
		AgentMode: "system", UIDBase: 10000, MySQLDSN: "root@unix(/run/mysqld/mysqld.sock)/"}
	if c != want {
		t.Fatalf("defaults = %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	// A nil env is allowed and means "no variables".
	if c2, err := Load("", nil); err != nil || c2 != want {
		t.Fatalf("nil env: %+v, %v", c2, err)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
db = "/var/lib/kontor/kontor.db"
listen = "0.0.0.0:9000"
secure_cookies = true
root = "/srv/sandbox"
log_level = "debug"
agent_mode = "sandbox"
uid_base = 20000
`)
	c, err := Load(file, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	want := Config{DB: "/var/lib/kontor/kontor.db", Listen: "0.0.0.0:9000", SecureCookies: true, Root: "/srv/sandbox", LogLevel: "debug",
		AgentMode: "sandbox", UIDBase: 20000, MySQLDSN: d.MySQLDSN}
	if c != want {
		t.Fatalf("file: %+v, want %+v", c, want)
	}

	// The environment beats the file, key by key; empty variables are unset.
	c, err = Load(file, envMap(map[string]string{
		"KONTOR_DB":             "postgres://kontor@localhost/kontor",
		"KONTOR_SECURE_COOKIES": "false",
		"KONTOR_LOG_LEVEL":      "WARN",
		"KONTOR_ROOT":           "",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want = Config{DB: "postgres://kontor@localhost/kontor", Listen: "0.0.0.0:9000", SecureCookies: false, Root: "/srv/sandbox", LogLevel: "warn",
		AgentMode: "sandbox", UIDBase: 20000, MySQLDSN: d.MySQLDSN}
	if c != want {
		t.Fatalf("env over file: %+v, want %+v", c, want)
	}

	// Without a file the environment beats the defaults.
	c, err = Load("", envMap(map[string]string{"KONTOR_LISTEN": "[::1]:0", "KONTOR_ROOT": "/tmp/root"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "[::1]:0" || c.Root != "/tmp/root" || c.DB != "kontor.db" {
		t.Fatalf("env over defaults: %+v", c)
	}

	// Flags come last: the CLI calls Set after Load.
	if err := c.Set("listen", "127.0.0.1:1234", "--listen"); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:1234" {
		t.Fatalf("flag: %+v", c)
	}

	// A file with only some keys keeps the defaults for the rest.
	c, err = Load(writeFile(t, `listen = "127.0.0.1:9999"`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || c.DB != "kontor.db" || c.LogLevel != "info" || c.Root != "/" {
		t.Fatalf("partial file: %+v", c)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		env    map[string]string
		key    string // the key the error must name
		substr string // and a part of its message
	}{
		{"unknown key", "db = \"x.db\"\nport = 80\n", nil, "port", "unknown key"},
		{"unknown table", "[server]\nlisten = \"x\"\n", nil, "server", "unknown key"},
		{"listen type", "listen = 8080\n", nil, "listen", "must be a string"},
		{"listen format", "listen = \"8080\"\n", nil, "listen", "host:port"},
		{"listen port", "listen = \"127.0.0.1:99999\"\n", nil, "listen", "port"},
		{"cookies type", "secure_cookies = \"yes\"\n", nil, "secure_cookies", "true or false"},
		{"relative root", "root = \"sandbox\"\n", nil, "root", "absolute"},
		{"root dots", "root = \"/srv/../etc\"\n", nil, "root", ".."},
		{"empty db", "db = \"\"\n", nil, "db", "empty"},
		{"log level", "log_level = \"loud\"\n", nil, "log_level", "debug, info"},
		{"env cookies", "", map[string]string{"KONTOR_SECURE_COOKIES": "maybe"}, "secure_cookies", "KONTOR_SECURE_COOKIES"},
		{"env listen", "", map[string]string{"KONTOR_LISTEN": "localhost"}, "listen", "KONTOR_LISTEN"},
		{"env log level", "", map[string]string{"KONTOR_LOG_LEVEL": "verbose"}, "log_level", "KONTOR_LOG_LEVEL"},
		{"env root", "", map[string]string{"KONTOR_ROOT": "relative/dir"}, "root", "KONTOR_ROOT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			_, err := Load(path, envMap(tc.env))
			if err == nil {
				t.Fatal("no error")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not *config.Error", err, err)
			}
			if ce.Key != tc.key {
				t.Errorf("key = %q, want %q (%v)", ce.Key, tc.key, err)
			}
			if !strings.HasPrefix(err.Error(), tc.key+": ") || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("message %q does not name %q and %q", err, tc.key, tc.substr)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml"), nil); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Fatalf("missing file: %v", err)
	}
	_, err := Load(writeFile(t, "db = \n"), nil)
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("syntax error: %v", err)
	}
}

func TestValidateAfterFlags(t *testing.T) {
	c := Default()
	c.Listen = "nonsense"
	err := c.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "listen: ") {
		t.Fatalf("Validate = %v", err)
	}
	if err := c.Set("secure_cookies", "1", "--secure-cookies"); err != nil || !c.SecureCookies {
		t.Fatalf("Set secure_cookies: %v %+v", err, c)
	}
	if err := c.Set("colour", "blue", "--colour"); err == nil {
		t.Fatal("Set accepted an unknown key")
	}
}

func TestAgentKeys(t *testing.T) {
	for _, c := range []struct{ key, value, want string }{
		{"agent_mode", "cloud", `agent_mode: "cloud" is not one of system, sandbox`},
		{"uid_base", "12a", `uid_base: "12a" is not a whole number`},
		{"uid_base", "500", "uid_base: 500 must be from 1000 to 1073741824"},
		{"mysql_dsn", "root@tcp(x)/\n", "mysql_dsn: contains a control character"},
	} {
		cfg := Default()
		err := cfg.Set(c.key, c.value, "")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s=%q: %v, want %q", c.key, c.value, err, c.want)
		}
	}
}

// TestDeployExample keeps deploy/kontor.toml loadable: the README points
// administrators at it.
func TestDeployExample(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "deploy", "kontor.toml"), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.AgentMode != "system" || c.Root != "/" {
		t.Errorf("example: %+v", c)
	}
}
