package mysql

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"kontor/internal/agent"
	"kontor/internal/panel"
	"kontor/internal/testenv"
)

// These tests run the daemon against a real MariaDB started for the test
// and check what a customer sees: a MySQL client logging in with the
// password over TCP, and what it may do.

// nativeHash is the mysql_native_password hash of pw: "*" and the upper-case
// hex of SHA1(SHA1(pw)), as the panel stores it.
func nativeHash(pw string) string {
	a := sha1.Sum([]byte(pw))
	b := sha1.Sum(a[:])
	return "*" + strings.ToUpper(hex.EncodeToString(b[:]))
}

type fixture struct {
	t    *testing.T
	srv  *testenv.MariaDBServer
	d    *Daemon
	root *sql.DB
}

func newFixture(t *testing.T) *fixture {
	srv := testenv.MariaDB(t)
	root, err := sql.Open("mysql", srv.RootDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	d := New(Options{DSN: srv.RootDSN})
	t.Cleanup(func() { d.Close() })
	return &fixture{t: t, srv: srv, d: d, root: root}
}

// at returns f reporting to t (a subtest).
func (f *fixture) at(t *testing.T) *fixture {
	g := *f
	g.t = t
	return &g
}

// apply runs a batch and fails the test on a daemon-wide error; it returns
// the result and the planned statements.
func (f *fixture) apply(b agent.Batch, dry bool) (agent.Result, []string) {
	f.t.Helper()
	var plan []string
	env := agent.Env{DryRun: dry, Plan: func(s string) { plan = append(plan, s) }, Now: time.Now}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := f.d.Apply(ctx, env, b)
	if res.Err != nil {
		f.t.Fatalf("Apply: %v", res.Err)
	}
	return res, plan
}

func (f *fixture) applyOK(users ...agent.User) {
	f.t.Helper()
	res, _ := f.apply(agent.Batch{Users: users}, false)
	for id, err := range res.Failed {
		f.t.Fatalf("user %d failed: %v", id, err)
	}
}

// login connects as a customer's application would: over TCP to
// 127.0.0.1 with login and password.
func (f *fixture) login(login, pw, db string) (*sql.DB, error) {
	c, err := sql.Open("mysql", f.srv.TCPDSN(login, pw, db))
	if err != nil {
		return nil, err
	}
	c.SetMaxIdleConns(0) // every query logs in afresh
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.PingContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	f.t.Cleanup(func() { c.Close() })
	return c, nil
}

func (f *fixture) mustLogin(login, pw string) *sql.DB {
	f.t.Helper()
	c, err := f.login(login, pw, "")
	if err != nil {
		f.t.Fatalf("%s cannot log in: %v", login, err)
	}
	return c
}

// session opens one connection as login over TCP from the loopback
// address from (127.0.0.1 is this machine; 127.0.0.2 stands for another
// host, which only the '%' account admits) and keeps it open, as a
// long-running application or an intruder would.
func (f *fixture) session(login, pw, from string) *sql.Conn {
	f.t.Helper()
	cfg, err := mysql.ParseDSN(f.srv.TCPDSN(login, pw, ""))
	if err != nil {
		f.t.Fatal(err)
	}
	cfg.Net = "tcp-from-" + from
	mysql.RegisterDialContext(cfg.Net, func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		return d.DialContext(ctx, "tcp", addr)
	})
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	db := sql.OpenDB(c)
	f.t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		f.t.Fatalf("%s cannot open a session from %s: %v", login, from, err)
	}
	f.t.Cleanup(func() { conn.Close() })
	if !alive(conn) {
		f.t.Fatalf("the new session of %s from %s does not answer", login, from)
	}
	return conn
}

// alive reports whether a session still answers a query.
func alive(c *sql.Conn) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var one int
	return c.QueryRowContext(ctx, "SELECT 1").Scan(&one) == nil && one == 1
}

// loginRefused checks that login cannot log in, with MariaDB's error
// number code (1045 access denied, 4151 account locked).
func (f *fixture) loginRefused(login, pw string, code uint16) {
	f.t.Helper()
	_, err := f.login(login, pw, "")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != code {
		f.t.Fatalf("%s logging in: err = %v, want MySQL error %d", login, err, code)
	}
}

func (f *fixture) hosts(login string) []string {
	f.t.Helper()
	rows, err := f.root.Query("SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host", login)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var hs []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			f.t.Fatal(err)
		}
		hs = append(hs, h)
	}
	return hs
}

func (f *fixture) databases(like string) []string {
	f.t.Helper()
	rows, err := f.root.Query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1", like)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, s)
	}
	slices.Sort(out) // byte order, not the server's collation
	return out
}

func (f *fixture) exec(q string) {
	f.t.Helper()
	if _, err := f.root.Exec(q); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func canCreate(c *sql.DB, db, table string) error {
	_, err := c.Exec("CREATE TABLE `" + db + "`.`" + table + "` (id INT PRIMARY KEY)")
	return err
}

func eq(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestMariaDB(t *testing.T) {
	f := newFixture(t)
	const pw1, pw11 = "web1-Secret", "eleven-Secret"
	web1 := agent.User{ID: 1, Login: "web1", Databases: []string{"web1_shop", "web1_1_x"}, DBHash: nativeHash(pw1)}
	// web111's database web111_x is what an unescaped grant on web1_1_x
	// (`_` matches any one character in GRANT: web1 ? 1 ? x) would open
	// to web1.
	web111 := agent.User{ID: 11, Login: "web111", Databases: []string{"web111_x"}, DBHash: nativeHash(pw11)}

	t.Run("dry run changes nothing", func(t *testing.T) {
		f := f.at(t)
		res, plan := f.apply(agent.Batch{Users: []agent.User{web1}}, true)
		if !res.Changed || len(res.Failed) != 0 {
			t.Errorf("result %+v", res)
		}
		eq(t, "plan", plan,
			"CREATE DATABASE IF NOT EXISTS `web1_1_x` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
			"CREATE DATABASE IF NOT EXISTS `web1_shop` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
			"CREATE USER IF NOT EXISTS 'web1'@'localhost' IDENTIFIED BY PASSWORD '*…' ACCOUNT UNLOCK",
			"GRANT ALL PRIVILEGES ON `web1\\_1\\_x`.* TO 'web1'@'localhost'",
			"GRANT ALL PRIVILEGES ON `web1\\_shop`.* TO 'web1'@'localhost'",
		)
		eq(t, "databases", f.databases("web%"))
		eq(t, "hosts", f.hosts("web1"))
	})

	f.applyOK(web1, web111)

	t.Run("login and grants", func(t *testing.T) {
		f := f.at(t)
		eq(t, "databases", f.databases("web%"), "web111_x", "web1_1_x", "web1_shop")
		eq(t, "web1 hosts", f.hosts("web1"), "localhost")
		c := f.mustLogin("web1", pw1)
		for _, db := range web1.Databases {
			if err := canCreate(c, db, "t"); err != nil {
				t.Errorf("web1 cannot create a table in its own %s: %v", db, err)
			}
		}
		if err := canCreate(c, "web111_x", "t"); err == nil {
			t.Errorf("web1 created a table in web111's database")
		}
		if err := canCreate(c, "mysql", "t"); err == nil {
			t.Errorf("web1 created a table in mysql")
		}
		c11 := f.mustLogin("web111", pw11)
		if err := canCreate(c11, "web1_shop", "u"); err == nil {
			t.Errorf("web111 created a table in web1's database")
		}
		f.loginRefused("web1", "wrong", 1045)
		var charset string
		if err := f.root.QueryRow("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'web1_shop'").Scan(&charset); err != nil || charset != "utf8mb4" {
			t.Errorf("charset %q, %v; want utf8mb4", charset, err)
		}
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		f := f.at(t)
		res, plan := f.apply(agent.Batch{Users: []agent.User{web1, web111}, Full: true}, false)
		if res.Changed || len(plan) != 0 || len(res.Failed) != 0 {
			t.Errorf("in-line state: changed=%v plan=%q failed=%v", res.Changed, plan, res.Failed)
		}
	})

	t.Run("drift repaired", func(t *testing.T) {
		f := f.at(t)
		// Someone gave web1 the right to pass its privileges on, a grant
		// on web111's database, and took a privilege away.
		f.exec("GRANT ALL PRIVILEGES ON `web1\\_shop`.* TO 'web1'@'localhost' WITH GRANT OPTION")
		f.exec("GRANT SELECT, INSERT ON `web111\\_x`.* TO 'web1'@'localhost' WITH GRANT OPTION")
		f.exec("REVOKE DROP ON `web1\\_1\\_x`.* FROM 'web1'@'localhost'")
		f.exec("CREATE TABLE web111_x.secret (v INT)")
		var n int
		if err := f.mustLogin("web1", pw1).QueryRow("SELECT COUNT(*) FROM web111_x.secret").Scan(&n); err != nil {
			t.Fatalf("the drift did not open web111_x: %v", err)
		}
		res, plan := f.apply(agent.Batch{Users: []agent.User{web1}}, true)
		eq(t, "plan", plan,
			"GRANT ALL PRIVILEGES ON `web1\\_1\\_x`.* TO 'web1'@'localhost'",
			"REVOKE GRANT OPTION ON `web1\\_shop`.* FROM 'web1'@'localhost'",
			"REVOKE ALL PRIVILEGES ON `web111\\_x`.* FROM 'web1'@'localhost'",
			"REVOKE GRANT OPTION ON `web111\\_x`.* FROM 'web1'@'localhost'",
		)
		if !res.Changed {
			t.Errorf("dry run with a plan reports no change")
		}
		f.applyOK(web1)
		var grants []string
		rows, err := f.root.Query("SELECT CONCAT(Db, ':', Grant_priv, Drop_priv) FROM mysql.db WHERE User = 'web1' ORDER BY Db")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var g string
			if err := rows.Scan(&g); err != nil {
				t.Fatal(err)
			}
			grants = append(grants, g)
		}
		rows.Close()
		slices.Sort(grants)
		eq(t, "grants", grants, `web1\_1\_x:NY`, `web1\_shop:NY`)
		err = f.mustLogin("web1", pw1).QueryRow("SELECT COUNT(*) FROM web111_x.secret").Scan(&n)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1142 {
			t.Errorf("web1 reading web111's table: %v, want error 1142 (command denied)", err)
		}
	})

	t.Run("external access", func(t *testing.T) {
		f := f.at(t)
		u := web1
		u.DBExternal = true
		f.applyOK(u, web111)
		eq(t, "hosts with external on", f.hosts("web1"), "%")
		c := f.mustLogin("web1", pw1)
		if err := canCreate(c, "web1_shop", "ext"); err != nil {
			t.Errorf("web1@%% cannot use its database: %v", err)
		}
		local, remote := f.session("web1", pw1, "127.0.0.1"), f.session("web1", pw1, "127.0.0.2")
		_, plan := f.apply(agent.Batch{Users: []agent.User{web1}}, true)
		eq(t, "dry plan", plan,
			"CREATE USER IF NOT EXISTS 'web1'@'localhost' IDENTIFIED BY PASSWORD '*…' ACCOUNT UNLOCK",
			"GRANT ALL PRIVILEGES ON `web1\\_1\\_x`.* TO 'web1'@'localhost'",
			"GRANT ALL PRIVILEGES ON `web1\\_shop`.* TO 'web1'@'localhost'",
			"DROP USER IF EXISTS 'web1'@'%'",
			"KILL CONNECTION of each session of 'web1' from another host",
		)
		if !alive(remote) {
			t.Fatalf("the dry run ended a session")
		}
		f.applyOK(web1)
		eq(t, "hosts with external off", f.hosts("web1"), "localhost")
		f.mustLogin("web1", pw1)
		if alive(remote) {
			t.Errorf("the session from another host still runs after external access was switched off")
		}
		if !alive(local) {
			t.Errorf("the local session was ended, though local access stays")
		}
	})

	t.Run("lock and unlock", func(t *testing.T) {
		f := f.at(t)
		u := web1
		u.Locked = true
		open := f.session("web1", pw1, "127.0.0.1")
		f.applyOK(u)
		f.loginRefused("web1", pw1, 4151)
		if alive(open) {
			t.Errorf("a session opened before the lock still runs")
		}
		// A killed session can stay listed, as "Killed", until its
		// thread notices the flag (MariaDB's KILL only sets it); it runs
		// nothing more. Sessions not killed must be none.
		var n0 int
		if err := f.root.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'web1' AND COMMAND <> 'Killed'").Scan(&n0); err != nil || n0 != 0 {
			t.Errorf("web1 sessions after the lock: %d (%v), want 0", n0, err)
		}
		eq(t, "databases kept while locked", f.databases("web1\\_%"), "web1_1_x", "web1_shop")
		f.applyOK(web1)
		c := f.mustLogin("web1", pw1)
		var n int
		if err := c.QueryRow("SELECT COUNT(*) FROM web1_shop.t").Scan(&n); err != nil {
			t.Errorf("table lost over lock/unlock: %v", err)
		}
	})

	t.Run("password change, dry then real", func(t *testing.T) {
		f := f.at(t)
		u := web1
		u.DBHash = nativeHash("new-Secret")
		_, plan := f.apply(agent.Batch{Users: []agent.User{u}}, true)
		eq(t, "plan", plan, "ALTER USER 'web1'@'localhost' IDENTIFIED BY PASSWORD '*…' ACCOUNT UNLOCK")
		f.mustLogin("web1", pw1)
		f.applyOK(u)
		f.loginRefused("web1", pw1, 1045)
		f.mustLogin("web1", "new-Secret")
		f.applyOK(web1)
	})

	t.Run("database removed from the list keeps its data", func(t *testing.T) {
		f := f.at(t)
		u := web1
		u.Databases = []string{"web1_shop"}
		f.applyOK(u)
		eq(t, "databases", f.databases("web1\\_%"), "web1_1_x", "web1_shop")
		c := f.mustLogin("web1", pw1)
		if err := canCreate(c, "web1_1_x", "t2"); err == nil {
			t.Errorf("web1 still has access to a database it no longer lists")
		}
		f.applyOK(web1)
	})

	t.Run("bad input fails that user only", func(t *testing.T) {
		f := f.at(t)
		bad := agent.User{ID: 5, Login: "web5", Databases: []string{"web5_a`; DROP DATABASE web111_x; -- "}, DBHash: nativeHash("x")}
		badHash := agent.User{ID: 6, Login: "web6", Databases: []string{"web6_a"}, DBHash: "*' OR ''='"}
		res, _ := f.apply(agent.Batch{Users: []agent.User{bad, badHash, web111}}, false)
		var pe *panel.Error
		if !errors.As(res.Failed[5], &pe) || pe.Field != "databases[0]" {
			t.Errorf("web5: %v, want an error naming databases[0]", res.Failed[5])
		}
		if !errors.As(res.Failed[6], &pe) || pe.Field != "db_hash" {
			t.Errorf("web6: %v, want an error naming db_hash", res.Failed[6])
		}
		if _, ok := res.Failed[11]; ok || len(res.Failed) != 2 {
			t.Errorf("failed = %v, want web5 and web6 only", res.Failed)
		}
		eq(t, "databases", f.databases("web%"), "web111_x", "web1_1_x", "web1_shop")
		eq(t, "web5/web6 hosts", append(f.hosts("web5"), f.hosts("web6")...))
	})

	t.Run("server refusal names the statement", func(t *testing.T) {
		f := f.at(t)
		// An admin connection that may read the grant tables and create
		// databases but not users: the server refuses CREATE USER.
		f.exec("CREATE USER 'limited'@'localhost' IDENTIFIED BY 'limited-pw'")
		f.exec("GRANT SELECT ON mysql.* TO 'limited'@'localhost'")
		f.exec("GRANT CREATE ON *.* TO 'limited'@'localhost'")
		d := New(Options{DSN: "limited:limited-pw@unix(" + f.srv.Socket + ")/"})
		defer d.Close()
		u := agent.User{ID: 8, Login: "web8", Databases: []string{"web8_a"}, DBHash: nativeHash("x")}
		res := d.Apply(context.Background(), agent.Env{Plan: func(string) {}, Now: time.Now}, agent.Batch{Users: []agent.User{u, web111}})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		err := res.Failed[8]
		var me *mysql.MySQLError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "CREATE USER IF NOT EXISTS 'web8'@'localhost'") ||
			!strings.Contains(err.Error(), "Access denied") {
			t.Errorf("error %v does not show the statement and the server's text", err)
		}
		if strings.Contains(err.Error(), nativeHash("x")[1:]) {
			t.Errorf("error shows the hash: %v", err)
		}
		if len(res.Failed) != 1 {
			t.Errorf("failed = %v, want web8 only", res.Failed)
		}
		f.exec("DROP USER 'limited'@'localhost'")
		f.exec("DROP DATABASE web8_a")
	})

	t.Run("user without databases loses its login", func(t *testing.T) {
		f := f.at(t)
		u := web111
		u.Databases, u.DBHash = nil, ""
		f.applyOK(u)
		eq(t, "web111 hosts", f.hosts("web111"))
		eq(t, "web111 databases kept", f.databases("web111\\_%"), "web111_x")
		f.loginRefused("web111", pw11, 1045)
		f.applyOK(web111)
		f.mustLogin("web111", pw11)
	})

	t.Run("deleted user", func(t *testing.T) {
		f := f.at(t)
		_, plan := f.apply(agent.Batch{Gone: []agent.Gone{{ID: 1, Login: "web1"}}}, true)
		eq(t, "dry plan", plan,
			"DROP DATABASE IF EXISTS `web1_1_x`",
			"DROP DATABASE IF EXISTS `web1_shop`",
			"DROP USER IF EXISTS 'web1'@'localhost'",
			"KILL CONNECTION of each session of 'web1'",
		)
		f.mustLogin("web1", pw1)
		open := f.session("web1", pw1, "127.0.0.1")
		res, _ := f.apply(agent.Batch{Gone: []agent.Gone{{ID: 1, Login: "web1"}}}, false)
		if alive(open) {
			t.Errorf("a session of the deleted user still runs")
		}
		if len(res.Failed) != 0 {
			t.Fatalf("failed: %v", res.Failed)
		}
		eq(t, "web1 databases", f.databases("web1\\_%"))
		eq(t, "web1 hosts", f.hosts("web1"))
		f.loginRefused("web1", pw1, 1045)
		eq(t, "web111 untouched", f.databases("web111\\_%"), "web111_x")
		f.mustLogin("web111", pw11)
	})

	t.Run("full run drops orphans only", func(t *testing.T) {
		f := f.at(t)
		// web7 was deleted while the agent was down; alice and
		// customer_keep are outside the name space.
		for _, q := range []string{
			"CREATE DATABASE web7_left", "CREATE USER 'web7'@'%' IDENTIFIED BY 'x'",
			"CREATE DATABASE customer_keep", "CREATE USER 'alice'@'localhost' IDENTIFIED BY 'x'",
			"CREATE DATABASE web7x", "CREATE DATABASE `web7_UPPER`",
		} {
			f.exec(q)
		}
		res, _ := f.apply(agent.Batch{Users: []agent.User{web111}, Full: true}, false)
		if len(res.Failed) != 0 || len(res.Notices) != 0 {
			t.Fatalf("failed %v, notices %v", res.Failed, res.Notices)
		}
		eq(t, "web7 databases", f.databases("web7\\_left"))
		eq(t, "web7 hosts", f.hosts("web7"))
		eq(t, "outside the name space", f.databases("%keep"), "customer_keep")
		eq(t, "names not ours", f.databases("web7%"), "web7_UPPER", "web7x")
		eq(t, "alice", f.hosts("alice"), "localhost")
		eq(t, "web111", f.databases("web111\\_%"), "web111_x")
		f.mustLogin("web111", pw11)
	})
}
