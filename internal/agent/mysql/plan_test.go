package mysql

import (
	"errors"
	"strings"
	"testing"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

const (
	hashA = "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19" // "password"
	hashB = "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9" // "123456"
)

var ns = names{prefix: "web"}

func shows(stmts []stmt) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = s.Show
	}
	return out
}

func equal(t *testing.T, got []stmt, want ...string) {
	t.Helper()
	g := shows(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(want, "\n  "))
	}
}

func mustWant(t *testing.T, u agent.User) want {
	t.Helper()
	w, err := ns.checkUser(u)
	if err != nil {
		t.Fatalf("checkUser: %v", err)
	}
	return w
}

func mustPlan(t *testing.T, cur *current, w want) []stmt {
	t.Helper()
	s, err := planUser(cur, w)
	if err != nil {
		t.Fatalf("planUser: %v", err)
	}
	return s
}

func TestPlanNewUser(t *testing.T) {
	w := mustWant(t, agent.User{ID: 1, Login: "web1", Databases: []string{"web1_shop", "web1_blog", "web1_shop"}, DBHash: hashA})
	got := mustPlan(t, newCurrent(), w)
	equal(t, got,
		"CREATE DATABASE IF NOT EXISTS `web1_blog` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
		"CREATE DATABASE IF NOT EXISTS `web1_shop` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
		"CREATE USER IF NOT EXISTS 'web1'@'localhost' IDENTIFIED BY PASSWORD '*…' ACCOUNT UNLOCK",
		"GRANT ALL PRIVILEGES ON `web1\\_blog`.* TO 'web1'@'localhost'",
		"GRANT ALL PRIVILEGES ON `web1\\_shop`.* TO 'web1'@'localhost'",
	)
	// The executed text carries the hash; the shown text never does.
	if !strings.Contains(got[2].SQL, "'"+hashA+"'") {
		t.Errorf("CREATE USER does not set the hash: %s", got[2].SQL)
	}
	for _, s := range got {
		if strings.Contains(s.Show, hashA[1:]) {
			t.Errorf("hash shown in %q", s.Show)
		}
	}
}

// state builds a current state where web1 is in line with user u.
func inLine(u want) *current {
	cur := newCurrent()
	cur.dbs[u.login] = append([]string(nil), u.dbs...)
	cur.accounts[u.login] = map[string]account{u.host: {plugin: "mysql_native_password", hash: u.hash, locked: u.locked}}
	g := map[string]grant{}
	for _, db := range u.dbs {
		g[grantDB(db)] = grant{all: true}
	}
	cur.grants[u.login] = map[string]map[string]grant{u.host: g}
	return cur
}

func TestPlanInLineIsEmpty(t *testing.T) {
	for _, ext := range []bool{false, true} {
		w := mustWant(t, agent.User{ID: 1, Login: "web1", Databases: []string{"web1_a"}, DBHash: hashA, DBExternal: ext, Locked: ext})
		if got := mustPlan(t, inLine(w), w); len(got) != 0 {
			t.Errorf("external=%v: nothing to do, but planned %q", ext, shows(got))
		}
	}
}

func TestPlanChanges(t *testing.T) {
	base := agent.User{ID: 1, Login: "web1", Databases: []string{"web1_a"}, DBHash: hashA}
	cur := inLine(mustWant(t, base))

	t.Run("external on", func(t *testing.T) {
		u := base
		u.DBExternal = true
		equal(t, mustPlan(t, cur, mustWant(t, u)),
			"CREATE USER IF NOT EXISTS 'web1'@'%' IDENTIFIED BY PASSWORD '*…' ACCOUNT UNLOCK",
			"GRANT ALL PRIVILEGES ON `web1\\_a`.* TO 'web1'@'%'",
			"DROP USER IF EXISTS 'web1'@'localhost'",
		)
	})
	t.Run("lock", func(t *testing.T) {
		u := base
		u.Locked = true
		equal(t, mustPlan(t, cur, mustWant(t, u)), "ALTER USER 'web1'@'localhost' ACCOUNT LOCK")
	})
	t.Run("password and lock together", func(t *testing.T) {
		u := base
		u.Locked, u.DBHash = true, hashB
		got := mustPlan(t, cur, mustWant(t, u))
		equal(t, got, "ALTER USER 'web1'@'localhost' IDENTIFIED BY PASSWORD '*…' ACCOUNT LOCK")
		if !strings.Contains(got[0].SQL, hashB) {
			t.Errorf("new hash missing: %s", got[0].SQL)
		}
	})
	t.Run("foreign plugin", func(t *testing.T) {
		c := inLine(mustWant(t, base))
		c.accounts["web1"]["localhost"] = account{plugin: "unix_socket"}
		equal(t, mustPlan(t, c, mustWant(t, base)),
			"ALTER USER 'web1'@'localhost' IDENTIFIED BY PASSWORD '*…' ACCOUNT UNLOCK")
	})
	t.Run("database removed keeps data, loses grant", func(t *testing.T) {
		u := base
		u.Databases = []string{"web1_b"}
		equal(t, mustPlan(t, cur, mustWant(t, u)),
			"CREATE DATABASE IF NOT EXISTS `web1_b` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
			"GRANT ALL PRIVILEGES ON `web1\\_b`.* TO 'web1'@'localhost'",
			"REVOKE ALL PRIVILEGES ON `web1\\_a`.* FROM 'web1'@'localhost'",
		)
	})
	t.Run("no databases: login dropped, databases kept", func(t *testing.T) {
		u := base
		u.Databases, u.DBHash = nil, ""
		equal(t, mustPlan(t, cur, mustWant(t, u)), "DROP USER IF EXISTS 'web1'@'localhost'")
	})
	t.Run("partial and foreign grants", func(t *testing.T) {
		c := inLine(mustWant(t, base))
		c.grants["web1"]["localhost"][`web1\_a`] = grant{all: false, grantOption: true}
		// A grant an admin typed by hand, wildcard and backtick included.
		c.grants["web1"]["localhost"]["we`b%"] = grant{all: true, grantOption: true}
		equal(t, mustPlan(t, c, mustWant(t, base)),
			"GRANT ALL PRIVILEGES ON `web1\\_a`.* TO 'web1'@'localhost'",
			"REVOKE GRANT OPTION ON `web1\\_a`.* FROM 'web1'@'localhost'",
			"REVOKE ALL PRIVILEGES ON `we``b%`.* FROM 'web1'@'localhost'",
			"REVOKE GRANT OPTION ON `we``b%`.* FROM 'web1'@'localhost'",
		)
	})
	t.Run("unexpected host is refused, not quoted", func(t *testing.T) {
		c := inLine(mustWant(t, base))
		c.accounts["web1"]["x' OR '1"] = account{}
		if _, err := planUser(c, mustWant(t, base)); err == nil || !strings.Contains(err.Error(), "unexpected host") {
			t.Errorf("err = %v, want unexpected host", err)
		}
	})
}

func TestPlanGoneAndOrphans(t *testing.T) {
	cur := newCurrent()
	cur.dbs["web1"] = []string{"web1_a", "web1_b"}
	cur.accounts["web1"] = map[string]account{"localhost": {}, "%": {}}
	cur.dbs["web11"] = []string{"web11_x"}
	cur.accounts["web12"] = map[string]account{"localhost": {}}
	got, err := planGone(cur, "web1")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, got,
		"DROP DATABASE IF EXISTS `web1_a`",
		"DROP DATABASE IF EXISTS `web1_b`",
		"DROP USER IF EXISTS 'web1'@'%'",
		"DROP USER IF EXISTS 'web1'@'localhost'",
	)
	if o := orphans(cur, map[string]bool{"web1": true}); strings.Join(o, ",") != "web11,web12" {
		t.Errorf("orphans = %q, want web11, web12", o)
	}
}

// TestGrantEscapesWildcard: GRANT treats `_` as a wildcard, so an
// unescaped grant on web1_1_x would open web111_x of user web111.
func TestGrantEscapesWildcard(t *testing.T) {
	if got := grantDB("web1_1_x"); got != `web1\_1\_x` {
		t.Errorf("grantDB = %q", got)
	}
}

func TestCheckUserRefuses(t *testing.T) {
	long := "web1_" + strings.Repeat("a", 41)
	ok := agent.User{ID: 1, Login: "web1", Databases: []string{"web1_a"}, DBHash: hashA}
	for _, c := range []struct {
		name  string
		edit  func(u *agent.User)
		field string
	}{
		{"quote in login", func(u *agent.User) { u.Login = "web1'@'%" }, "login"},
		{"backtick in login", func(u *agent.User) { u.Login = "web1`" }, "login"},
		{"foreign login", func(u *agent.User) { u.Login = "root" }, "login"},
		{"upper case login", func(u *agent.User) { u.Login = "WEB1" }, "login"},
		{"backtick in database", func(u *agent.User) { u.Databases = []string{"web1_a`; DROP DATABASE mysql; -- "} }, "databases[0]"},
		{"quote in database", func(u *agent.User) { u.Databases = []string{"web1_a", "web1_b'"} }, "databases[1]"},
		{"wildcard in database", func(u *agent.User) { u.Databases = []string{"web1_%"} }, "databases[0]"},
		{"dot in database", func(u *agent.User) { u.Databases = []string{"web1_a.b"} }, "databases[0]"},
		{"newline in database", func(u *agent.User) { u.Databases = []string{"web1_a\nb"} }, "databases[0]"},
		{"NUL in database", func(u *agent.User) { u.Databases = []string{"web1_a\x00"} }, "databases[0]"},
		{"empty suffix", func(u *agent.User) { u.Databases = []string{"web1_"} }, "databases[0]"},
		{"too long", func(u *agent.User) { u.Databases = []string{long} }, "databases[0]"},
		{"system database", func(u *agent.User) { u.Databases = []string{"mysql"} }, "databases[0]"},
		{"another user's database", func(u *agent.User) { u.Databases = []string{"web11_x"} }, "databases[0]"},
		{"prefix-sharing user's database", func(u *agent.User) { u.Login = "web11"; u.Databases = []string{"web1_1x"} }, "databases[0]"},
		{"no hash", func(u *agent.User) { u.DBHash = "" }, "db_hash"},
		{"quote in hash", func(u *agent.User) { u.DBHash = "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1'" }, "db_hash"},
		{"injection in hash", func(u *agent.User) { u.DBHash = "' OR 1=1 -- " }, "db_hash"},
		{"lower-case hash", func(u *agent.User) { u.DBHash = strings.ToLower(hashA) }, "db_hash"},
		{"plain password as hash", func(u *agent.User) { u.DBHash = "password" }, "db_hash"},
		{"hash with newline", func(u *agent.User) { u.DBHash = hashA + "\n" }, "db_hash"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := ok
			u.Databases = append([]string(nil), ok.Databases...)
			c.edit(&u)
			_, err := ns.checkUser(u)
			var pe *panel.Error
			if !errors.As(err, &pe) {
				t.Fatalf("checkUser accepted %+v (err %v)", u, err)
			}
			if pe.Field != c.field || pe.Kind != panel.KindInvalid {
				t.Errorf("error %v names field %q, want %q", err, pe.Field, c.field)
			}
		})
	}
	if _, err := ns.checkUser(ok); err != nil {
		t.Fatalf("valid user refused: %v", err)
	}
	// The longest names: 12 digits and a suffix of 40.
	u := ok
	u.Login = "web123456789012"
	u.Databases = []string{"web123456789012_" + strings.Repeat("z", 40)}
	if _, err := ns.checkUser(u); err != nil {
		t.Errorf("valid long name refused: %v", err)
	}
	u.Login = "web1234567890123"
	u.Databases = []string{"web1234567890123_z"}
	if _, err := ns.checkUser(u); err == nil {
		t.Errorf("login of %d characters accepted", len(u.Login))
	}
}

func TestNamesFromServerFiltered(t *testing.T) {
	for _, s := range []string{"web1_a", "web1_1_x", "web99_a_b"} {
		if !ns.isDatabase(s) {
			t.Errorf("%q not recognized as ours", s)
		}
	}
	for _, s := range []string{"mysql", "web_a", "webx_a", "web1", "web1_A", "web1_a-b", "other_web1_a", "web1_a`"} {
		if ns.isDatabase(s) {
			t.Errorf("%q taken as ours", s)
		}
	}
	for _, s := range []string{"root", "mariadb.sys", "web", "web1x", "", "web1 "} {
		if ns.isLogin(s) {
			t.Errorf("login %q taken as ours", s)
		}
	}
}

func TestSessionCut(t *testing.T) {
	withAccounts := func(hosts map[string]account) *current {
		cur := newCurrent()
		cur.accounts["web1"] = hosts
		cur.dbs["web1"] = []string{"web1_a"}
		return cur
	}
	user := agent.User{ID: 1, Login: "web1", Databases: []string{"web1_a"}, DBHash: hashA}
	locked, external, none := user, user, user
	locked.Locked = true
	external.DBExternal = true
	none.Databases, none.DBHash = nil, ""
	for _, tc := range []struct {
		name string
		cur  *current
		u    agent.User
		want sessionCut
	}{
		{"new login", newCurrent(), user, keepSessions},
		{"in line", withAccounts(map[string]account{hostLocal: {}}), user, keepSessions},
		{"locked now", withAccounts(map[string]account{hostLocal: {}}), locked, endAll},
		{"locked before", withAccounts(map[string]account{hostLocal: {locked: true}}), locked, keepSessions},
		{"locked while external goes off", withAccounts(map[string]account{hostAny: {}}), locked, endAll},
		{"external off", withAccounts(map[string]account{hostAny: {}}), user, endRemote},
		{"external on", withAccounts(map[string]account{hostLocal: {}}), external, keepSessions},
		{"no databases: login dropped", withAccounts(map[string]account{hostLocal: {}}), none, endAll},
	} {
		if got := cutFor(tc.cur, mustWant(t, tc.u)); got != tc.want {
			t.Errorf("%s: cut %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := cutGone(withAccounts(map[string]account{hostLocal: {}}), "web1"); got != endAll {
		t.Errorf("gone with a login: %d, want endAll", got)
	}
	if got := cutGone(newCurrent(), "web1"); got != keepSessions {
		t.Errorf("gone without a login: %d, want keepSessions", got)
	}
	for host, want := range map[string]bool{
		"localhost": true, "localhost:41234": true, "127.0.0.1:5000": true, "::1": true, "::1:5000": true, "[::1]:5000": true,
		"127.0.0.2:5000": false, "192.0.2.7:3306": false, "localhost.evil.example:1": false, "": false, "2001:db8::1": false,
	} {
		if got := localClient(host); got != want {
			t.Errorf("localClient(%q) = %v, want %v", host, got, want)
		}
	}
}
