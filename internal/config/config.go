// Package config reads Kontor's settings: built-in defaults, then a TOML
// file, then KONTOR_* environment variables. Command-line flags come last;
// the CLI applies them to the Config that Load returns and calls Validate.
package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is what the kontor binary needs to start.
type Config struct {
	// DB is the store: a postgres:// URL or a SQLite file path
	// (optionally prefixed "sqlite:").
	DB string `toml:"db"`
	// Listen is the host:port the web panel listens on.
	Listen string `toml:"listen"`
	// SecureCookies forces the Secure flag on cookies (behind a TLS proxy).
	SecureCookies bool `toml:"secure_cookies"`
	// Root is the directory that stands in for "/" when the agent writes
	// system files; production uses "/".
	Root string `toml:"root"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`
	// AgentMode is "system" (the agent runs the daemons' own commands:
	// useradd, apache2ctl, rndc, …) or "sandbox" (it only writes files under
	// Root and records the commands; `kontor demo`).
	AgentMode string `toml:"agent_mode"`
	// UIDBase is added to a user's number for its system uid and gid
	// (web1 → UIDBase+1).
	UIDBase int `toml:"uid_base"`
	// MySQLDSN is how the agent reaches MariaDB as its administrator.
	MySQLDSN string `toml:"mysql_dsn"`
}

// Keys are the TOML keys in the order of the Config fields.
func Keys() []string {
	return []string{"db", "listen", "secure_cookies", "root", "log_level", "agent_mode", "uid_base", "mysql_dsn"}
}

// EnvVar returns the environment variable that sets key, e.g. KONTOR_DB.
func EnvVar(key string) string { return "KONTOR_" + strings.ToUpper(key) }

// Default returns the built-in defaults.
func Default() Config {
	return Config{DB: "kontor.db", Listen: "127.0.0.1:8080", Root: "/", LogLevel: "info",
		AgentMode: "system", UIDBase: 10000, MySQLDSN: "root@unix(/run/mysqld/mysqld.sock)/"}
}

// Error is a bad setting. Key is the TOML key ("" when the file itself is
// broken); Source says where the value came from (a file path, an
// environment variable or a flag).
type Error struct {
	Key    string
	Source string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Source != "" {
		b.WriteString(" (from ")
		b.WriteString(e.Source)
		b.WriteString(")")
	}
	return b.String()
}

// Load returns the defaults, overridden by the TOML file at path (skipped
// when path is ""), overridden by the KONTOR_* variables that env returns
// non-empty. Unknown keys in the file and invalid values are errors naming
// the key.
func Load(path string, env func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return c, err
		}
	}
	if env != nil {
		for _, k := range Keys() {
			name := EnvVar(k)
			v := env(name)
			if v == "" {
				continue
			}
			if err := c.Set(k, v, name); err != nil {
				return c, err
			}
		}
	}
	return c, nil
}

// loadFile applies the TOML file at path to c.
func (c *Config) loadFile(path string) error {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return &Error{Source: path, Msg: fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)}
		}
		return &Error{Source: path, Msg: err.Error()}
	}
	var unknown []string
	for k := range raw {
		if !slices.Contains(Keys(), k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		word := "unknown key"
		if len(unknown) > 1 {
			word = "unknown keys"
		}
		return &Error{Key: strings.Join(unknown, ", "), Source: path,
			Msg: fmt.Sprintf("%s (known keys: %s)", word, strings.Join(Keys(), ", "))}
	}
	for _, k := range Keys() {
		v, ok := raw[k]
		if !ok {
			continue
		}
		if k == "secure_cookies" {
			b, ok := v.(bool)
			if !ok {
				return &Error{Key: k, Source: path, Msg: fmt.Sprintf("must be true or false, not %s", tomlType(v))}
			}
			c.SecureCookies = b
			continue
		}
		if n, isInt := v.(int64); isInt && k == "uid_base" {
			v = strconv.FormatInt(n, 10)
		}
		s, ok := v.(string)
		if !ok {
			return &Error{Key: k, Source: path, Msg: fmt.Sprintf("must be a string, not %s", tomlType(v))}
		}
		if err := c.Set(k, s, path); err != nil {
			return err
		}
	}
	return nil
}

// tomlType names the TOML type of a decoded value.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	}
	return "a date or time"
}

// Set parses value for key, validates it and stores it; source names where
// it came from for the error message.
func (c *Config) Set(key, value, source string) error {
	switch key {
	case "db":
		c.DB = value
	case "listen":
		c.Listen = value
	case "secure_cookies":
		b, err := strconv.ParseBool(strings.TrimSpace(value))
		if err != nil {
			return &Error{Key: key, Source: source, Msg: fmt.Sprintf("%q is not a boolean (use true or false)", value)}
		}
		c.SecureCookies = b
	case "root":
		c.Root = value
	case "log_level":
		c.LogLevel = strings.ToLower(strings.TrimSpace(value))
	case "agent_mode":
		c.AgentMode = strings.ToLower(strings.TrimSpace(value))
	case "uid_base":
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return &Error{Key: key, Source: source, Msg: fmt.Sprintf("%q is not a whole number", value)}
		}
		c.UIDBase = n
	case "mysql_dsn":
		c.MySQLDSN = value
	default:
		return &Error{Key: key, Source: source, Msg: "unknown key"}
	}
	return c.validateKey(key, source)
}

// Validate checks every setting.
func (c Config) Validate() error {
	for _, k := range Keys() {
		if err := c.validateKey(k, ""); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validateKey(key, source string) error {
	bad := func(format string, args ...any) error {
		return &Error{Key: key, Source: source, Msg: fmt.Sprintf(format, args...)}
	}
	switch key {
	case "db":
		if strings.TrimSpace(c.DB) == "" {
			return bad("must not be empty")
		}
		if strings.ContainsAny(c.DB, "\x00\r\n") {
			return bad("contains a control character")
		}
	case "listen":
		host, port, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return bad("%q is not host:port (e.g. 127.0.0.1:8080)", c.Listen)
		}
		if strings.ContainsAny(host, "\x00\r\n /") {
			return bad("%q has an invalid host", c.Listen)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return bad("%q: port must be a number from 0 to 65535", c.Listen)
		}
	case "secure_cookies":
	case "root":
		if c.Root == "" || !filepath.IsAbs(c.Root) {
			return bad("%q must be an absolute path", c.Root)
		}
		if strings.ContainsAny(c.Root, "\x00\r\n") {
			return bad("contains a control character")
		}
		for _, part := range strings.Split(filepath.ToSlash(c.Root), "/") {
			if part == ".." {
				return bad("%q must not contain \"..\"", c.Root)
			}
		}
	case "agent_mode":
		if c.AgentMode != "system" && c.AgentMode != "sandbox" {
			return bad("%q is not one of system, sandbox", c.AgentMode)
		}
	case "uid_base":
		// Below 1000 are Debian's system accounts; the top keeps web
		// numbers in the range useradd accepts.
		if c.UIDBase < 1000 || c.UIDBase > 1<<30 {
			return bad("%d must be from 1000 to %d", c.UIDBase, 1<<30)
		}
	case "mysql_dsn":
		if strings.ContainsAny(c.MySQLDSN, "\x00\r\n") {
			return bad("contains a control character")
		}
	case "log_level":
		switch c.LogLevel {
		case "debug", "info", "warn", "error":
		default:
			return bad("%q is not one of debug, info, warn, error", c.LogLevel)
		}
	}
	return nil
}
