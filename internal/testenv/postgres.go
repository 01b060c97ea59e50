package testenv

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// pgWhat names PostgreSQL in skip and failure messages.
const pgWhat = "PostgreSQL (initdb/postgres, Debian package postgresql)"

// pgSuperuser is the superuser created by initdb; it authenticates with
// "trust", so DSNs carry no password.
const pgSuperuser = "postgres"

// pgDirPrefix prefixes the temporary directory of each cluster.
const pgDirPrefix = "kontor-pg-"

// pgCluster is a private PostgreSQL cluster started for this test binary.
type pgCluster struct {
	dir     string // temporary directory holding everything; removed on stop
	dataDir string
	sockDir string
	logFile string
	port    int

	proc    *os.Process
	exited  <-chan struct{} // closed once the postmaster has exited
	waitErr error           // valid after exited is closed

	admin   *sql.DB // connection to the "postgres" database
	version int     // server_version_num
}

var (
	pgMu      sync.Mutex
	pg        *pgCluster // running cluster, if any
	pgMissing string     // why PostgreSQL is unavailable (sticky)
	pgErr     error      // why the cluster could not be started (sticky)
	pgStopped bool       // stopPostgres ran: do not start again
	pgSeq     atomic.Int64
)

// PostgresDSN returns the DSN of a fresh, empty database created for the
// calling test on a private PostgreSQL cluster, for example
//
//	postgres://postgres@127.0.0.1:40123/kt_3_testfoo?sslmode=disable
//
// to be opened with sql.Open("pgx", dsn) (github.com/jackc/pgx/v5/stdlib) or
// pgx.Connect. The user is a superuser. The database is dropped (with FORCE,
// so leftover connections do not matter) when the test and its subtests
// finish.
//
// The cluster is started on first use (initdb in a temporary directory,
// 127.0.0.1 on a free port, fsync off) and shared by all tests of the test
// binary; packages using PostgresDSN must call Main from TestMain so that it
// is stopped and removed at the end.
//
// Without KONTOR_INTEGRATION=1 the test is skipped; with it, the test fails
// if PostgreSQL is not installed or cannot be started.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	if !Integration() {
		Need(t, pgWhat)
	}
	c, missing, err := postgresCluster()
	if missing != "" {
		NeedReason(t, pgWhat, missing)
	}
	if err != nil {
		t.Fatalf("testenv: cannot start PostgreSQL: %v", err)
	}

	name := pgDBName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.admin.ExecContext(ctx, "CREATE DATABASE "+pgQuoteIdent(name)); err != nil {
		t.Fatalf("testenv: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := c.dropDatabase(name); err != nil {
			// Harmless: the whole cluster is thrown away at the end.
			t.Logf("testenv: dropping database %s: %v", name, err)
		}
	})
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", pgSuperuser, c.port, name)
}

// pgDBName builds a unique database name that also tells which test made it.
func pgDBName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := fmt.Sprintf("kt_%d_%s", pgSeq.Add(1), b.String())
	if len(name) > 63 { // NAMEDATALEN-1
		name = name[:63]
	}
	return name
}

func pgQuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func (c *pgCluster) dropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if c.version >= 130000 {
		_, err := c.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgQuoteIdent(name)+" WITH (FORCE)")
		return err
	}
	if _, err := c.admin.ExecContext(ctx,
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name); err != nil {
		return err
	}
	_, err := c.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgQuoteIdent(name))
	return err
}

// postgresCluster returns the running cluster, starting it if needed. When
// PostgreSQL is not installed it returns a non-empty missing reason.
func postgresCluster() (c *pgCluster, missing string, err error) {
	pgMu.Lock()
	defer pgMu.Unlock()
	switch {
	case pg != nil:
		return pg, "", nil
	case pgMissing != "" || pgErr != nil:
		return nil, pgMissing, pgErr
	case pgStopped:
		return nil, "", errors.New("the PostgreSQL cluster has already been stopped")
	}

	bin, missing := findPostgresBin()
	if missing != "" {
		pgMissing = missing
		return nil, missing, nil
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root: run them as the
		// "postgres" system user created by the Debian package.
		cred, missing = postgresUser()
		if missing != "" {
			pgMissing = missing
			return nil, missing, nil
		}
	}
	pg, pgErr = startPostgres(bin, cred)
	return pg, "", pgErr
}

// findPostgresBin returns the directory holding initdb and postgres, looking
// in PATH first, then in /usr/lib/postgresql/*/bin (highest version first).
func findPostgresBin() (dir, missing string) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		d := filepath.Dir(p)
		if isExecutable(filepath.Join(d, "postgres")) {
			return d, ""
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		return versionLess(filepath.Base(filepath.Dir(dirs[j])), filepath.Base(filepath.Dir(dirs[i])))
	})
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, ""
		}
	}
	return "", "initdb/postgres were not found in PATH nor in /usr/lib/postgresql/*/bin (run `make deps` or `bash scripts/test-deps.sh`)"
}

// versionLess compares versions such as "9.6" and "15" numerically.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		if errx != nil || erry != nil {
			if as[i] != bs[i] {
				return as[i] < bs[i]
			}
			continue
		}
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// postgresUser returns the credentials of the "postgres" system user.
func postgresUser() (*syscall.Credential, string) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, "running as root and the \"postgres\" system user does not exist (it comes with the Debian package postgresql): " + err.Error()
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Sprintf("unexpected uid/gid %q/%q for user postgres", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, ""
}

// errPortInUse reports that the postmaster could not bind its port.
var errPortInUse = errors.New("port already in use")

func startPostgres(bin string, cred *syscall.Credential) (_ *pgCluster, err error) {
	base := pgTempBase(cred != nil)
	reapStalePostgres(base)

	dir, err := os.MkdirTemp(base, pgDirPrefix)
	if err != nil {
		return nil, err
	}
	c := &pgCluster{
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		sockDir: dir, // short path: unix socket paths are limited to ~107 bytes
		logFile: filepath.Join(dir, "postgres.log"),
	}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	// owner.pid lets reapStalePostgres recognise directories left behind by
	// test binaries that died without cleaning up (e.g. go test -timeout).
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}

	initdb := exec.Command(filepath.Join(bin, "initdb"),
		"--pgdata="+c.dataDir,
		"--username="+pgSuperuser,
		"--auth=trust",
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync",
	)
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}

	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		err = c.start(bin, cred, port)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortInUse) || attempt == 10 {
			return nil, err
		}
	}

	c.admin, err = sql.Open("pgx", c.adminDSN())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var v string
	if err := c.admin.QueryRowContext(ctx, "SHOW server_version_num").Scan(&v); err != nil {
		return nil, fmt.Errorf("querying server version: %v", err)
	}
	if c.version, err = strconv.Atoi(v); err != nil {
		return nil, fmt.Errorf("bad server_version_num %q", v)
	}

	pgHandleSignals()
	return c, nil
}

func (c *pgCluster) adminDSN() string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable connect_timeout=5",
		c.sockDir, c.port, pgSuperuser)
}

// start runs the postmaster on port and waits until it accepts connections.
func (c *pgCluster) start(bin string, cred *syscall.Credential, port int) error {
	logf, err := os.OpenFile(c.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	if cred != nil {
		_ = logf.Chown(int(cred.Uid), int(cred.Gid))
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)

	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", c.dataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+c.sockDir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		"-c", "logging_collector=off",
	)
	cmd.Dir = c.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// The postmaster does an immediate shutdown on SIGQUIT.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	exited, err := startOwned(cmd, syscall.SIGQUIT, &c.waitErr)
	if err != nil {
		return fmt.Errorf("starting postgres: %v", err)
	}
	c.proc, c.exited, c.port = cmd.Process, exited, port

	// Poll until the server accepts connections. The unix socket lives in
	// our private directory, so a server that answers there is ours even
	// if some other process grabbed the TCP port meanwhile.
	db, err := sql.Open("pgx", c.adminDSN())
	if err != nil {
		c.kill()
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			log := c.logSince(logStart)
			c.proc = nil
			if strings.Contains(log, "could not bind") || strings.Contains(log, "ddress already in use") {
				return fmt.Errorf("%w: %d", errPortInUse, port)
			}
			return fmt.Errorf("postgres exited during startup (%v); log:\n%s", c.waitErr, log)
		default:
		}
		if time.Now().After(deadline) {
			c.kill()
			return fmt.Errorf("postgres not ready after 90s (last error: %v); log:\n%s", err, c.logSince(logStart))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (c *pgCluster) logSince(off int64) string {
	b, _ := os.ReadFile(c.logFile)
	if off > 0 && off <= int64(len(b)) {
		b = b[off:]
	}
	return string(bytes.TrimSpace(b))
}

// kill shuts the postmaster down like `pg_ctl stop -m immediate` (SIGQUIT)
// and waits for it, escalating to SIGKILL.
func (c *pgCluster) kill() {
	if c.proc == nil {
		return
	}
	stopOwned(c.proc, c.exited, syscall.SIGQUIT, 15*time.Second)
	c.proc = nil
}

// stop stops the cluster and removes its directory.
func (c *pgCluster) stop() {
	if c.admin != nil {
		c.admin.Close()
	}
	c.kill()
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// stopPostgres stops the cluster of this test binary, if any.
func stopPostgres() {
	pgMu.Lock()
	defer pgMu.Unlock()
	pgStopped = true
	if pg != nil {
		pg.stop()
		pg = nil
	}
}

var pgSignalsOnce sync.Once

// pgHandleSignals stops the cluster on SIGINT/SIGTERM, then lets the signal
// do its usual job.
func pgHandleSignals() {
	pgSignalsOnce.Do(func() {
		var sigs []os.Signal
		for _, s := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
			if !signal.Ignored(s) { // e.g. SIGINT in background jobs
				sigs = append(sigs, s)
			}
		}
		if len(sigs) == 0 {
			return
		}
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, sigs...)
		go func() {
			sig := <-ch
			stopPostgres()
			signal.Stop(ch)
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		}()
	})
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pgTempBase picks the directory for the cluster's temporary directory. When
// the server runs as another user, every parent directory must be
// traversable by that user; the unix socket path must also stay short.
func pgTempBase(otherUser bool) string {
	d := os.TempDir()
	if len(d) > 64 || (otherUser && !traversable(d)) {
		return "/tmp"
	}
	return d
}

// traversable reports whether everybody may search d and all its parents.
func traversable(d string) bool {
	d, err := filepath.Abs(d)
	if err != nil {
		return false
	}
	for {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(d)
		if parent == d {
			return true
		}
		d = parent
	}
}

// reapStalePostgres removes cluster directories left in base by test
// binaries that are gone, shutting down their postmaster if it survived.
func reapStalePostgres(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, pgDirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue // being set up right now, or not ours
		}
		owner, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || owner <= 0 || processAlive(owner) {
			continue
		}
		dataDir := filepath.Join(d, "data")
		if pm := postmasterPID(dataDir); pm > 0 && processAlive(pm) {
			if !isPostmasterOf(pm, dataDir) {
				continue // pid reused by something else: leave it all alone
			}
			_ = syscall.Kill(pm, syscall.SIGQUIT)
			for i := 0; i < 100 && processAlive(pm); i++ {
				time.Sleep(50 * time.Millisecond)
			}
			if processAlive(pm) {
				continue
			}
		}
		_ = os.RemoveAll(d)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// postmasterPID reads the first line of dataDir/postmaster.pid.
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// isPostmasterOf reports whether process pid is a postgres started with
// -D dataDir.
func isPostmasterOf(pid int, dataDir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	return len(args) > 0 && filepath.Base(args[0]) == "postgres" && strings.Contains(string(b), "\x00"+dataDir+"\x00")
}
