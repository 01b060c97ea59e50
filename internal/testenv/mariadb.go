package testenv

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mariaWhat names MariaDB in skip and failure messages.
const mariaWhat = "MariaDB (mariadbd/mariadb-install-db, Debian package mariadb-server)"

// MariaDBServer is a private MariaDB server started for one test.
type MariaDBServer struct {
	// RootDSN connects as root over the unix socket, in the form the
	// go-sql-driver/mysql driver takes: "root@unix(/tmp/…/mysqld.sock)/".
	// root has no password (the datadir was made with
	// --auth-root-authentication-method=normal), so the DSN works whoever
	// runs the tests.
	RootDSN string
	// Socket is the unix socket, Port the TCP port on 127.0.0.1.
	Socket string
	Port   int
	// Dir holds the datadir, the socket and the error log; it is removed
	// when the test ends.
	Dir string
}

// TCPDSN returns a DSN for login/password over TCP to 127.0.0.1:Port, the
// way a customer's application connects; db may be "".
func (s *MariaDBServer) TCPDSN(login, password, db string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = login, password
	cfg.Net, cfg.Addr = "tcp", "127.0.0.1:"+strconv.Itoa(s.Port)
	cfg.DBName = db
	cfg.Timeout = 10 * time.Second
	return cfg.FormatDSN()
}

// MariaDB starts a private MariaDB server for the calling test and stops it
// (and removes its files) when the test and its subtests end:
// mariadb-install-db into a fresh datadir, then mariadbd with --no-defaults
// (the machine's /etc/mysql is never read), its socket in that directory
// and TCP on 127.0.0.1 at a free high port. It waits by polling the socket,
// not by sleeping. Starting takes about a second, so a test that needs
// several scenarios should start one server and use subtests.
//
// Without KONTOR_INTEGRATION=1 the test is skipped; with it, the test fails
// if MariaDB is not installed or does not start.
func MariaDB(t testing.TB) *MariaDBServer {
	t.Helper()
	if !Integration() {
		Need(t, mariaWhat)
	}
	server, install, missing := findMariaDB()
	if missing != "" {
		NeedReason(t, mariaWhat, missing)
	}
	dir, err := os.MkdirTemp(mariaTempBase(), "kontor-maria-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	m := &mariaServer{dir: dir}
	t.Cleanup(m.stop)
	if err := m.start(server, install); err != nil {
		t.Fatalf("testenv: cannot start MariaDB: %v", err)
	}
	return &MariaDBServer{
		RootDSN: "root@unix(" + m.socket + ")/",
		Socket:  m.socket,
		Port:    m.port,
		Dir:     dir,
	}
}

// findMariaDB returns the paths of mariadbd and mariadb-install-db.
func findMariaDB() (server, install, missing string) {
	look := func(name, fallback string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if isExecutable(fallback) {
			return fallback
		}
		return ""
	}
	server = look("mariadbd", "/usr/sbin/mariadbd")
	install = look("mariadb-install-db", "/usr/bin/mariadb-install-db")
	if server == "" || install == "" {
		return "", "", "mariadbd/mariadb-install-db were not found (run `make deps` or `bash scripts/test-deps.sh`)"
	}
	return server, install, ""
}

// mariaTempBase keeps the socket path well under the 108 bytes a unix
// socket address holds.
func mariaTempBase() string {
	if d := os.TempDir(); len(d) <= 40 {
		return d
	}
	return "/tmp"
}

// mariaServer is the running process behind a MariaDBServer.
type mariaServer struct {
	dir     string
	socket  string
	port    int
	logFile string

	proc    *os.Process
	exited  <-chan struct{}
	waitErr error // valid after exited is closed
}

// runAs returns the --user option: mariadbd refuses to run as root unless
// told so explicitly. Running as root (the tests' usual case) keeps the
// files in our own temp directory readable without chown games.
func runAs() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

func (m *mariaServer) start(server, install string) error {
	dataDir := filepath.Join(m.dir, "data")
	m.socket = filepath.Join(m.dir, "mysqld.sock")
	m.logFile = filepath.Join(m.dir, "error.log")

	args := append([]string{"--no-defaults", "--datadir=" + dataDir,
		"--auth-root-authentication-method=normal", "--skip-test-db"}, runAs()...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, install, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mariadb-install-db: %v\n%s", err, bytes.TrimSpace(out))
	}

	// A port that was free a moment ago may be taken by the time the
	// server binds it: try a few.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		err = m.run(server, dataDir, port)
		if err == nil || !errors.Is(err, errPortInUse) || attempt == 4 {
			return err
		}
	}
}

func (m *mariaServer) run(server, dataDir string, port int) error {
	args := append([]string{"--no-defaults",
		"--datadir=" + dataDir,
		"--socket=" + m.socket,
		"--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(m.dir, "mariadbd.pid"),
		"--log-error=" + m.logFile,
		"--skip-log-bin",
		"--innodb-buffer-pool-size=16M",
		"--innodb-flush-log-at-trx-commit=0",
	}, runAs()...)
	_ = os.Remove(m.logFile)
	cmd := exec.Command(server, args...)
	cmd.Dir = m.dir
	exited, err := startOwned(cmd, syscall.SIGTERM, &m.waitErr)
	if err != nil {
		return fmt.Errorf("starting mariadbd: %v", err)
	}
	m.proc, m.exited, m.port = cmd.Process, exited, port

	// Poll the socket in our private directory: a server answering there
	// is ours even if something else grabbed the TCP port meanwhile.
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", m.socket
	cfg.Timeout = 2 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		m.kill()
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			m.proc = nil
			log := m.log()
			if strings.Contains(log, "ddress already in use") {
				return fmt.Errorf("%w: %d", errPortInUse, port)
			}
			return fmt.Errorf("mariadbd exited during startup (%v); log:\n%s", m.waitErr, log)
		default:
		}
		if time.Now().After(deadline) {
			m.kill()
			return fmt.Errorf("mariadbd not ready after 60s (last error: %v); log:\n%s", err, m.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *mariaServer) log() string {
	b, _ := os.ReadFile(m.logFile)
	return string(bytes.TrimSpace(b))
}

// kill asks for a normal shutdown (SIGTERM) and waits, escalating to
// SIGKILL; the data is thrown away anyway, but a clean stop is quick.
func (m *mariaServer) kill() {
	if m.proc == nil {
		return
	}
	stopOwned(m.proc, m.exited, syscall.SIGTERM, 20*time.Second)
	m.proc = nil
}

func (m *mariaServer) stop() {
	m.kill()
	_ = os.RemoveAll(m.dir)
}
