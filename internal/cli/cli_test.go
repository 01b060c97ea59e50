package cli

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// cheap keeps argon2id fast in tests.
var cheap = auth.Params{Memory: 1024, Time: 1, Threads: 1}

// syncBuffer is an io.Writer that a test may read while Run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type result struct {
	code        int
	out, errOut string
}

// harness runs commands against one temp SQLite store.
type harness struct {
	t     *testing.T
	db    string
	env   map[string]string
	stdin string
}

func newHarness(t *testing.T) *harness {
	return &harness{t: t, db: filepath.Join(t.TempDir(), "kontor.db"), env: map[string]string{}}
}

func (h *harness) runner(stdout, stderr *syncBuffer) *runner {
	return &runner{stdin: strings.NewReader(h.stdin), stdout: stdout, stderr: stderr,
		env: func(k string) string { return h.env[k] }, hasher: &cheap}
}

// run runs kontor with args as given.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	var out, errOut syncBuffer
	code := h.runner(&out, &errOut).run(context.Background(), args)
	h.stdin = ""
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

// db runs kontor with --db pointing at the harness's store.
func (h *harness) dbRun(args ...string) result {
	h.t.Helper()
	return h.run(append(args, "--db", h.db)...)
}

// must fails the test unless the command succeeded.
func (h *harness) must(r result) result {
	h.t.Helper()
	if r.code != 0 {
		h.t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.errOut)
	}
	return r
}

// store opens the harness's store directly for checks.
func (h *harness) store() *store.Store {
	h.t.Helper()
	st, err := store.Open(context.Background(), h.db, store.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	return st
}

var admin = panel.Actor{Role: panel.RoleAdmin, Login: "test"}

func field(out, key string) string {
	m := regexp.MustCompile(`(?m)^` + key + `:\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestMigrate(t *testing.T) {
	h := newHarness(t)
	r := h.must(h.dbRun("migrate"))
	if !strings.Contains(r.out, "migrated "+h.db) {
		t.Errorf("migrate output: %q", r.out)
	}
	if _, err := os.Stat(h.db); err != nil {
		t.Fatal(err)
	}
	h.must(h.dbRun("migrate")) // again: nothing to do
}

func TestStoreMustExist(t *testing.T) {
	h := newHarness(t)
	r := h.dbRun("admin", "create", "--login", "boss")
	if r.code != 1 || !strings.Contains(r.errOut, "does not exist") || !strings.Contains(r.errOut, "kontor migrate") {
		t.Fatalf("admin create without store: %+v", r)
	}
	if _, err := os.Stat(h.db); err == nil {
		t.Error("the store was created anyway")
	}
}

func TestAdminCreate(t *testing.T) {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	ctx := context.Background()
	a := app.New(h.store(), nil)

	// Generated password: printed, within the policy, and it logs in.
	r := h.must(h.dbRun("admin", "create", "--login", "boss"))
	pw := field(r.out, "password")
	if field(r.out, "login") != "boss" || panel.DefaultPasswordPolicy().Check("password", pw) != nil {
		t.Fatalf("output %q", r.out)
	}
	if _, err := a.Login(ctx, "boss", pw, "127.0.0.1"); err != nil {
		t.Fatalf("login with printed password: %v", err)
	}

	// Given on the command line: not echoed.
	r = h.must(h.dbRun("admin", "create", "--login", "chief", "--password", "secret77"))
	if strings.Contains(r.out, "secret77") {
		t.Errorf("password echoed: %q", r.out)
	}
	if _, err := a.Login(ctx, "chief", "secret77", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}

	// From standard input.
	h.stdin = "fromstdin9\nignored\n"
	h.must(h.dbRun("admin", "create", "--login", "third", "--password-stdin"))
	if _, err := a.Login(ctx, "third", "fromstdin9", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}

	// Mistakes.
	for _, tc := range []struct {
		args   []string
		code   int
		substr string
	}{
		{[]string{"admin", "create"}, 2, "--login is required"},
		{[]string{"admin", "create", "--login", "x1", "--password", "abc"}, 1, "password: The password must have at least 6 and at most 12 characters."},
		{[]string{"admin", "create", "--login", "boss", "--password", "secret77"}, 1, "login: The login boss is already in use."},
		{[]string{"admin", "create", "--login", "Bad Login", "--password", "secret77"}, 1, "login: A login starts with a lower-case letter"},
		{[]string{"admin", "create", "--login", "x2", "--password", "secret77", "--password-stdin"}, 2, "either --password or --password-stdin"},
		{[]string{"admin", "create", "--login", "x3", "--password-stdin"}, 2, "no password"},
		{[]string{"admin", "create", "--nope"}, 2, "flag provided but not defined: -nope"},
	} {
		r := h.dbRun(tc.args...)
		if r.code != tc.code || !strings.Contains(r.errOut, tc.substr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.errOut, tc.code, tc.substr)
		}
	}
}

func resellerByLogin(t *testing.T, st *store.Store, login string) panel.Reseller {
	t.Helper()
	ctx := context.Background()
	cred, err := st.CredentialsByLogin(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Reseller(ctx, admin, cred.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResellersAndUsers(t *testing.T) {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	st := h.store()

	r := h.must(h.dbRun("reseller", "create", "--name", "Petra Schneider", "--company", "Schneider GmbH",
		"--email", "petra@example.com", "--lang", "de",
		"--limit", "users=3:hard", "--limit", "storage=100:hard", "--limit", "pop3=-1:unlimited",
		"--limit", "traffic=1000:max:unlimited", "--limit", "email=-1:hard:unlimited",
		"--service", "all", "--service", "coldfusion=0", "--service", "shell=sftp"))
	if field(r.out, "login") != "res1" || field(r.out, "password") == "" {
		t.Fatalf("reseller create output %q", r.out)
	}
	res := resellerByLogin(t, st, "res1")
	want := panel.ResellerLimits{
		panel.ResUsers:   {Value: 3, Mode: panel.ModeHard},
		panel.ResStorage: {Value: 100, Mode: panel.ModeHard},
		panel.ResPOP3:    {Value: -1, Mode: panel.ModeMaximum, AllowUnlimited: true},
		panel.ResTraffic: {Value: 1000, Mode: panel.ModeMaximum, AllowUnlimited: true},
		panel.ResEmail:   {Value: -1, Mode: panel.ModeHard, AllowUnlimited: true},
		panel.ResMySQL:   {Value: 0, Mode: panel.ModeMaximum},
	}
	for k, v := range want {
		if res.Limits[k] != v {
			t.Errorf("limit %s = %+v, want %+v", k, res.Limits[k], v)
		}
	}
	if res.Services[panel.SvcColdFusion] != 0 || res.Services[panel.SvcShell] != panel.ShellSFTP || res.Services[panel.SvcBackup] != panel.BackupUpload {
		t.Errorf("services = %v", res.Services)
	}
	if res.Language != "de" || res.Company != "Schneider GmbH" {
		t.Errorf("reseller = %+v", res)
	}

	// A second reseller with a chosen login and password.
	h.must(h.dbRun("reseller", "create", "--login", "acme", "--password", "acme-pass1", "--limit", "users=1:hard"))

	// set-limit: flags may follow the positional arguments.
	r = h.must(h.run("reseller", "set-limit", "res1", "storage=120:hard", "mysql_dbs=5", "--db", h.db))
	if !strings.Contains(r.out, "res1 storage: 120, hard") || !strings.Contains(r.out, "res1 mysql_dbs: 5, maximum") {
		t.Errorf("set-limit output %q", r.out)
	}
	res = resellerByLogin(t, st, "res1")
	if res.Limits[panel.ResStorage] != (panel.ResellerLimit{Value: 120, Mode: panel.ModeHard}) || res.Limits[panel.ResMySQL].Value != 5 {
		t.Errorf("after set-limit: %+v", res.Limits)
	}
	if res.Limits[panel.ResPOP3].Value != -1 {
		t.Errorf("set-limit touched pop3: %+v", res.Limits[panel.ResPOP3])
	}

	// Users until the storage hard limit refuses.
	r = h.must(h.dbRun("user", "create", "--reseller", "res1", "--name", "Hans Müller", "--email", "hans@example.com",
		"--domain", "müller-bäckerei.de", "--domain", "mueller-baeckerei.de",
		"--limit", "storage=50", "--limit", "pop3=-1", "--service", "php=1", "--service", "shell=sftp"))
	if field(r.out, "login") != "web1" || !strings.Contains(r.out, "müller-bäckerei.de (xn--") {
		t.Fatalf("user create output %q", r.out)
	}
	h.must(h.dbRun("user", "create", "--reseller", "res1", "--name", "Jane Doe", "--domain", "janedoe.example",
		"--limit", "storage=50"))
	r = h.dbRun("user", "create", "--reseller", "res1", "--name", "Too Much", "--limit", "storage=50")
	if r.code != 1 {
		t.Fatalf("grant over the hard limit: exit %d, %q", r.code, r.out)
	}
	if msg := "limit.storage: Storage space (MB): the hard limit is 120; 100 is already allocated, so 50 more cannot be granted."; !strings.Contains(r.errOut, msg) {
		t.Errorf("stderr %q lacks %q", r.errOut, msg)
	}
	// Within the storage limit, a third user passes; the fourth hits the
	// hard limit on the number of users.
	h.must(h.dbRun("user", "create", "--reseller", "res1", "--name", "Third", "--limit", "storage=20"))
	r = h.dbRun("user", "create", "--reseller", "res1", "--name", "Fourth")
	if r.code != 1 || !strings.Contains(r.errOut, "limit.users: Users: the hard limit is 3; 3 is already allocated") {
		t.Errorf("user limit: exit %d, stderr %q", r.code, r.errOut)
	}
	// Services the reseller does not offer and unlimited where not allowed.
	r = h.dbRun("user", "create", "--reseller", "acme", "--service", "php=1")
	if r.code != 1 || !strings.Contains(r.errOut, "PHP is not available to you") {
		t.Errorf("service not offered: exit %d, stderr %q", r.code, r.errOut)
	}
	r = h.dbRun("user", "create", "--reseller", "acme", "--limit", "storage=-1")
	if r.code != 1 || !strings.Contains(r.errOut, "not authorised to grant unlimited") {
		t.Errorf("unlimited not allowed: exit %d, stderr %q", r.code, r.errOut)
	}
	r = h.dbRun("user", "create", "--reseller", "nobody")
	if r.code != 1 || !strings.Contains(r.errOut, "--reseller: Not found: reseller nobody.") {
		t.Errorf("unknown reseller: exit %d, stderr %q", r.code, r.errOut)
	}
	r = h.dbRun("user", "create", "--reseller", "res1web0")
	if r.code != 1 || !strings.Contains(r.errOut, "Not found: reseller res1web0") {
		t.Errorf("user as reseller: exit %d, stderr %q", r.code, r.errOut)
	}

	// reseller list.
	r = h.must(h.dbRun("reseller", "list"))
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "LOGIN") ||
		!regexp.MustCompile(`^res1\s+Petra Schneider\s+enabled\s+3$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^acme\s+-\s+enabled\s+0$`).MatchString(lines[2]) || lines[3] != "2 resellers" {
		t.Errorf("reseller list:\n%s", r.out)
	}

	// user list: paging, search, reseller filter. res1 has web1–web3 and
	// its own res1web0.
	r = h.must(h.dbRun("user", "list", "--reseller", "res1", "--per", "2"))
	if !regexp.MustCompile(`(?m)^LOGIN\s+NAME\s+STATUS\s+DOMAINS$`).MatchString(r.out) ||
		!regexp.MustCompile(`(?m)^web1\s+Hans Müller\s+enabled\s+mueller-baeckerei.de, müller-bäckerei.de$`).MatchString(r.out) ||
		!strings.Contains(r.out, "2 of 4 users (page 1 of 2)") {
		t.Errorf("user list page 1:\n%s", r.out)
	}
	r = h.must(h.dbRun("user", "list", "--reseller", "res1", "--per", "2", "--page", "2"))
	if !regexp.MustCompile(`(?m)^web3\s+Third\s+enabled\s+-$`).MatchString(r.out) || strings.Contains(r.out, "web1 ") ||
		!strings.Contains(r.out, "2 of 4 users (page 2 of 2)") {
		t.Errorf("user list page 2:\n%s", r.out)
	}
	r = h.must(h.dbRun("user", "list", "--search", "müller"))
	if !strings.Contains(r.out, "web1") || strings.Contains(r.out, "web2") || !strings.Contains(r.out, "1 of 1 user (") {
		t.Errorf("user list search:\n%s", r.out)
	}
	r = h.must(h.dbRun("user", "list"))
	if !strings.Contains(r.out, "acmeweb0") || !strings.Contains(r.out, "5 of 5 users") {
		t.Errorf("user list all:\n%s", r.out)
	}
	if r := h.dbRun("user", "list", "--per", "500"); r.code != 2 || !strings.Contains(r.errOut, "--per") {
		t.Errorf("--per 500: %+v", r)
	}
}

func TestBadSpecs(t *testing.T) {
	h := newHarness(t)
	h.must(h.dbRun("migrate"))
	h.must(h.dbRun("reseller", "create", "--limit", "users=5:hard"))
	for _, tc := range []struct {
		args   []string
		substr string
	}{
		{[]string{"reseller", "create", "--limit", "storage"}, `--limit "storage": expected RES=VALUE`},
		{[]string{"reseller", "create", "--limit", "disk=5"}, `--limit "disk=5": unknown resource "disk"`},
		{[]string{"reseller", "create", "--limit", "storage=lots"}, `--limit "storage=lots": "lots" is not a limit`},
		{[]string{"reseller", "create", "--limit", "storage=-2"}, `--limit "storage=-2": "-2" is not a limit`},
		{[]string{"reseller", "create", "--limit", "storage=5:soft"}, `unknown modifier "soft"`},
		{[]string{"reseller", "create", "--limit", "traffic=5:hard"}, `traffic can never be a hard limit`},
		{[]string{"reseller", "create", "--limit", "storage=5:hard:unlimited"}, `cannot be combined with a finite hard limit`},
		{[]string{"reseller", "create", "--limit", "storage=5", "--limit", "storage=6"}, `storage is given twice`},
		{[]string{"reseller", "create", "--service", "telnet=1"}, `--service "telnet=1": unknown service "telnet"`},
		{[]string{"reseller", "create", "--service", "shell=3"}, `"3" is not a level of shell`},
		{[]string{"reseller", "set-limit", "res1", "pop3=x"}, `limit "pop3=x": "x" is not a limit`},
		{[]string{"reseller", "set-limit", "res1"}, `need a reseller login and at least one RES=VALUE`},
		{[]string{"user", "create", "--reseller", "res1", "--limit", "users=1"}, `unknown resource "users"`},
		{[]string{"user", "create", "--reseller", "res1", "--limit", "storage=5:hard"}, `are for reseller limits`},
		{[]string{"user", "create", "--reseller", "res1", "--service", "all"}, `expected NAME=LEVEL`},
		{[]string{"user", "create"}, `--reseller is required`},
	} {
		r := h.dbRun(tc.args...)
		if r.code != 2 || !strings.Contains(r.errOut, tc.substr) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.errOut, tc.substr)
		}
	}
	// Errors the store finds are exit 1 and name the field.
	r := h.dbRun("reseller", "create", "--lang", "fr")
	if r.code != 1 || !strings.Contains(r.errOut, "kontor: language: Unknown language.") {
		t.Errorf("--lang fr: %+v", r)
	}
	r = h.dbRun("reseller", "create", "--email", "not an address")
	if r.code != 1 || !strings.Contains(r.errOut, "kontor: email: ") {
		t.Errorf("--email: %+v", r)
	}
	r = h.dbRun("reseller", "set-limit", "nobody", "storage=5")
	if r.code != 1 || !strings.Contains(r.errOut, "kontor: reseller: Not found: reseller nobody.") {
		t.Errorf("set-limit unknown reseller: %+v", r)
	}
}

func TestDBSelection(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	envDB := filepath.Join(dir, "env.db")
	fileDB := filepath.Join(dir, "file.db")
	flagDB := filepath.Join(dir, "flag.db")
	cfgPath := filepath.Join(dir, "kontor.toml")
	if err := os.WriteFile(cfgPath, []byte("db = \""+fileDB+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The config file alone.
	if r := h.must(h.run("migrate", "--config", cfgPath)); !strings.Contains(r.out, fileDB) {
		t.Errorf("config: %q", r.out)
	}
	// The environment beats the file.
	h.env["KONTOR_DB"] = envDB
	if r := h.must(h.run("migrate", "--config", cfgPath)); !strings.Contains(r.out, envDB) {
		t.Errorf("env: %q", r.out)
	}
	// The flag beats both, after the command or before it.
	if r := h.must(h.run("migrate", "--config", cfgPath, "--db", flagDB)); !strings.Contains(r.out, flagDB) {
		t.Errorf("flag: %q", r.out)
	}
	if r := h.must(h.run("--config", cfgPath, "--db", flagDB, "reseller", "list")); !strings.Contains(r.out, "0 resellers") {
		t.Errorf("global flags: %q", r.out)
	}
	// A bad setting names its key and source.
	h.env["KONTOR_LOG_LEVEL"] = "chatty"
	r := h.run("migrate")
	if r.code != 1 || !strings.Contains(r.errOut, "kontor: log_level: ") || !strings.Contains(r.errOut, "KONTOR_LOG_LEVEL") {
		t.Errorf("bad env: %+v", r)
	}
	delete(h.env, "KONTOR_LOG_LEVEL")
	if err := os.WriteFile(cfgPath, []byte("dbase = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = h.run("migrate", "--config", cfgPath)
	if r.code != 1 || !strings.Contains(r.errOut, "kontor: dbase: unknown key") {
		t.Errorf("bad config: %+v", r)
	}
	r = h.run("serve", "--listen", "nowhere", "--db", flagDB)
	if r.code != 1 || !strings.Contains(r.errOut, "kontor: listen: ") || !strings.Contains(r.errOut, "--listen") {
		t.Errorf("bad --listen: %+v", r)
	}
}

func TestUsage(t *testing.T) {
	h := newHarness(t)
	// No arguments: the command list on stderr, exit 2.
	r := h.run()
	if r.code != 2 || !strings.Contains(r.errOut, "Commands:") {
		t.Errorf("no args: %+v", r)
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := h.run(args...)
		if r.code != 0 || r.errOut != "" {
			t.Errorf("%v: %+v", args, r)
		}
		for _, c := range commands() {
			if !strings.Contains(r.out, c.name) {
				t.Errorf("%v does not list %q", args, c.name)
			}
		}
	}
	for _, args := range [][]string{{"frobnicate"}, {"reseller", "frobnicate"}, {"help", "frobnicate"}} {
		r := h.run(args...)
		if r.code != 2 || !strings.Contains(r.errOut, "unknown command") || !strings.Contains(r.errOut, "Commands:") || r.out != "" {
			t.Errorf("%v: %+v", args, r)
		}
	}
	r = h.run("reseller")
	if r.code != 2 || !strings.Contains(r.errOut, "reseller create") {
		t.Errorf("group without subcommand: %+v", r)
	}
	r = h.run("user", "--help")
	if r.code != 0 || !strings.Contains(r.out, "user create") || !strings.Contains(r.out, "user list") {
		t.Errorf("user --help: %+v", r)
	}
	r = h.run("reseller", "list", "extra")
	if r.code != 2 || !strings.Contains(r.errOut, `unexpected argument "extra"`) {
		t.Errorf("extra argument: %+v", r)
	}
}

func TestCommandHelp(t *testing.T) {
	h := newHarness(t)
	for _, c := range commands() {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.setup(h.runner(&syncBuffer{}, &syncBuffer{}), fs)
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		for _, variant := range [][]string{
			append(strings.Fields(c.name), "--help"),
			append(strings.Fields(c.name), "-h"),
			append([]string{"help"}, strings.Fields(c.name)...),
		} {
			r := h.run(variant...)
			if r.code != 0 || r.errOut != "" {
				t.Errorf("%v: exit %d, stderr %q", variant, r.code, r.errOut)
				continue
			}
			if !strings.HasPrefix(r.out, "Usage: kontor "+c.name+" ") {
				t.Errorf("%v: output starts %q", variant, firstLine(r.out))
			}
			for _, n := range names {
				if !strings.Contains(r.out, "  --"+n+" ") && !strings.HasSuffix(r.out, "  --"+n+"\n") && !strings.Contains(r.out, "  --"+n+"\n") {
					t.Errorf("%v: help does not list --%s:\n%s", variant, n, r.out)
				}
			}
		}
		// The synopsis mentions every flag (store flags may be left to the list).
		for _, n := range names {
			if n == "db" || n == "config" || n == "password-stdin" {
				continue
			}
			if !strings.Contains(c.synopsis, "--"+n) {
				t.Errorf("%s: synopsis %q lacks --%s", c.name, c.synopsis, n)
			}
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestDemo(t *testing.T) {
	h := newHarness(t)
	dir := filepath.Join(t.TempDir(), "demo")

	start := func() (url string, out *syncBuffer, stop func() int) {
		t.Helper()
		out, errOut := &syncBuffer{}, &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		go func() {
			done <- h.runner(out, errOut).run(ctx, []string{"demo", "--dir", dir, "--listen", "127.0.0.1:0"})
		}()
		stop = func() int {
			cancel()
			select {
			case code := <-done:
				return code
			case <-time.After(20 * time.Second):
				t.Fatal("demo did not stop after cancel")
				return -1
			}
		}
		re := regexp.MustCompile(`(?m)^Serving (http://\S+/) until interrupted`)
		deadline := time.Now().Add(60 * time.Second)
		for {
			if m := re.FindStringSubmatch(out.String()); m != nil {
				return m[1], out, stop
			}
			select {
			case code := <-done:
				cancel()
				t.Fatalf("demo exited %d before serving\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("no URL printed\nstdout:\n%s\nstderr:\n%s", out, errOut)
			}
		}
	}

	url, out, stop := start()
	resp, err := http.Get(url + "login")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /login: %s", resp.Status)
	}
	if code := stop(); code != 0 {
		t.Errorf("demo exit %d", code)
	}
	text := out.String()
	for _, want := range []string{"seeded with demo accounts", "sandbox root: " + filepath.Join(dir, "root"),
		"admin-demo", "res1-demo", "res2-demo", "müller-bäckerei.de"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	for _, sub := range sandboxDirs {
		if fi, err := os.Stat(filepath.Join(dir, "root", sub)); err != nil || !fi.IsDir() {
			t.Errorf("sandbox %s: %v", sub, err)
		}
	}
	if !regexp.MustCompile(`(?m)^web1\s+web-demo-1\s+user\s+res1\s`).MatchString(text) {
		t.Errorf("no web1 row:\n%s", text)
	}

	// Again in the same directory: reused, not seeded twice.
	_, out2, stop2 := start()
	if code := stop2(); code != 0 {
		t.Errorf("second demo exit %d", code)
	}
	if !strings.Contains(out2.String(), "reusing it, not seeding again") {
		t.Errorf("second demo output:\n%s", out2)
	}
	first := regexp.MustCompile(`(?s)LOGIN.*?\n\n`).FindString(text)
	second := regexp.MustCompile(`(?s)LOGIN.*?\n\(`).FindString(out2.String())
	if first == "" || !strings.HasPrefix(second, strings.TrimSuffix(first, "\n\n")) {
		t.Errorf("login tables differ:\n%s\n---\n%s", first, second)
	}
}
