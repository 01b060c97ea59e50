package mysql

import (
	"sort"
	"strings"
)

// The functions in this file are pure: the server's current state and the
// desired state in, the statements that close the gap out. They run
// nothing, so the statement plan is tested without a server and a dry run
// prints exactly what a real run would execute.

// stmt is one statement. SQL is executed; Show is what logs, dry runs and
// error messages print: the same text with the password hash masked,
// because a mysql_native_password hash is enough to log in with the native
// protocol and must not end up in a log.
type stmt struct {
	SQL  string
	Show string
}

// hashMask replaces the hash in Show.
const hashMask = "'*…'"

// account is one login@host as the server has it.
type account struct {
	plugin string // "mysql_native_password" for ours
	hash   string // authentication_string
	locked bool
}

// grant is one row of mysql.db: database-level privileges of login@host.
type grant struct {
	all         bool // every privilege but GRANT OPTION
	grantOption bool // the login may pass its privileges on
}

// current is what the server has in the agent's name space, for the
// logins read.
type current struct {
	// accounts: login → host → account.
	accounts map[string]map[string]account
	// grants: login → host → database pattern as stored in mysql.db
	// (with `_` escaped, see grantDB) → grant.
	grants map[string]map[string]map[string]grant
	// dbs: owner login → its existing databases, sorted.
	dbs map[string][]string
}

func newCurrent() *current {
	return &current{
		accounts: map[string]map[string]account{},
		grants:   map[string]map[string]map[string]grant{},
		dbs:      map[string][]string{},
	}
}

// ident quotes a name for SQL. Names are checked against strict patterns
// before they get here; the doubling of backticks is MariaDB's own rule
// and keeps even an unexpected name (a grant row an admin typed) inert.
func ident(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// grantDB is the database pattern GRANT and REVOKE take for database db.
// In those statements `_` and `%` are wildcards: an unescaped grant on
// web1_1_x would also match web111_x, a database of user web111. Our names
// contain no `%`, so escaping `_` makes the pattern match db only.
func grantDB(db string) string { return strings.ReplaceAll(db, "_", `\_`) }

// userHost is the account name 'login'@'host'. Both are checked (login
// against the name space, host is ours or passed checkHost), so they
// contain no quote or backslash.
func userHost(login, host string) string { return "'" + login + "'@'" + host + "'" }

func plain(s string) stmt { return stmt{SQL: s, Show: s} }

func lockClause(locked bool) string {
	if locked {
		return " ACCOUNT LOCK"
	}
	return " ACCOUNT UNLOCK"
}

// planUser returns the statements that bring login w.login in line with w:
// databases created (never dropped: a database the user no longer lists
// keeps its data and only loses the grant), the login on its one host with
// the hash and lock state, ALL on each of its databases and nothing else,
// the login on any other host dropped. A user without databases has no
// login.
func planUser(cur *current, w want) ([]stmt, error) {
	var out []stmt
	have := map[string]bool{}
	for _, db := range cur.dbs[w.login] {
		have[db] = true
	}
	for _, db := range w.dbs {
		if !have[db] {
			out = append(out, plain("CREATE DATABASE IF NOT EXISTS "+ident(db)+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
		}
	}
	accounts := cur.accounts[w.login]
	if len(w.dbs) == 0 {
		return dropLogin(out, w.login, accounts)
	}

	uh := userHost(w.login, w.host)
	if acc, ok := accounts[w.host]; !ok {
		pre := "CREATE USER IF NOT EXISTS " + uh + " IDENTIFIED BY PASSWORD "
		out = append(out, stmt{
			SQL:  pre + "'" + w.hash + "'" + lockClause(w.locked),
			Show: pre + hashMask + lockClause(w.locked),
		})
	} else {
		pwd := acc.plugin != "mysql_native_password" || acc.hash != w.hash
		lock := acc.locked != w.locked
		switch {
		case pwd:
			// One statement sets both, so an unlocked account never
			// has the old password or a locked one the new.
			pre := "ALTER USER " + uh + " IDENTIFIED BY PASSWORD "
			out = append(out, stmt{
				SQL:  pre + "'" + w.hash + "'" + lockClause(w.locked),
				Show: pre + hashMask + lockClause(w.locked),
			})
		case lock:
			out = append(out, plain("ALTER USER "+uh+lockClause(w.locked)))
		}
	}

	granted := cur.grants[w.login][w.host]
	wanted := map[string]bool{}
	for _, db := range w.dbs {
		p := grantDB(db)
		wanted[p] = true
		g, ok := granted[p]
		if !ok || !g.all {
			out = append(out, plain("GRANT ALL PRIVILEGES ON "+ident(p)+".* TO "+uh))
		}
		if g.grantOption {
			out = append(out, plain("REVOKE GRANT OPTION ON "+ident(p)+".* FROM "+uh))
		}
	}
	for _, p := range sortedKeys(granted) {
		if !wanted[p] {
			// ALL does not include GRANT OPTION; MariaDB has no
			// combined form at database level.
			out = append(out, plain("REVOKE ALL PRIVILEGES ON "+ident(p)+".* FROM "+uh))
			if granted[p].grantOption {
				out = append(out, plain("REVOKE GRANT OPTION ON "+ident(p)+".* FROM "+uh))
			}
		}
	}

	// The other host goes last, so switching external access on or off
	// never leaves a moment without a working login.
	others := map[string]account{}
	for h, a := range accounts {
		if h != w.host {
			others[h] = a
		}
	}
	return dropLogin(out, w.login, others)
}

// dropLogin appends DROP USER for every account of login (which also
// removes its grants).
func dropLogin(out []stmt, login string, accounts map[string]account) ([]stmt, error) {
	for _, h := range sortedKeys(accounts) {
		if err := checkHost(login, h); err != nil {
			return nil, err
		}
		out = append(out, plain("DROP USER IF EXISTS "+userHost(login, h)))
	}
	return out, nil
}

// planGone removes a deleted user: its databases (every database named
// <login>_…) and its login on every host.
func planGone(cur *current, login string) ([]stmt, error) {
	var out []stmt
	for _, db := range cur.dbs[login] {
		out = append(out, plain("DROP DATABASE IF EXISTS "+ident(db)))
	}
	return dropLogin(out, login, cur.accounts[login])
}

// orphans returns, for a full run, the logins of the name space that own
// a database or a login on the server but belong to none of the users in
// owners: users deleted while the agent was down or lost.
func orphans(cur *current, owners map[string]bool) []string {
	set := map[string]bool{}
	for l := range cur.dbs {
		if !owners[l] {
			set[l] = true
		}
	}
	for l := range cur.accounts {
		if !owners[l] {
			set[l] = true
		}
	}
	return sortedKeys(set)
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// sessionCut says which open sessions of a login must end once its
// statements ran. MariaDB checks an account only when a session logs in:
// ACCOUNT LOCK, DROP USER and dropping the '%' account leave the sessions
// already open working with their old rights.
type sessionCut uint8

const (
	keepSessions sessionCut = iota
	// endRemote ends the sessions from other hosts than this one:
	// external access was switched off.
	endRemote
	// endAll ends every session: the login was locked or dropped.
	endAll
)

// cutFor is the cut after planUser's statements for w.
func cutFor(cur *current, w want) sessionCut {
	accounts := cur.accounts[w.login]
	if len(accounts) == 0 {
		return keepSessions // no account, no session
	}
	if len(w.dbs) == 0 {
		return endAll // the login is dropped
	}
	if w.locked {
		for _, a := range accounts {
			if !a.locked {
				return endAll
			}
		}
	}
	if _, ext := accounts[hostAny]; ext && w.host == hostLocal {
		return endRemote
	}
	return keepSessions
}

// cutGone is the cut after planGone's statements for login.
func cutGone(cur *current, login string) sessionCut {
	if len(cur.accounts[login]) == 0 {
		return keepSessions
	}
	return endAll
}

// plan is how a dry run shows the cut.
func (c sessionCut) plan(login string) string {
	if c == endRemote {
		return "KILL CONNECTION of each session of '" + login + "' from another host"
	}
	return "KILL CONNECTION of each session of '" + login + "'"
}

// localClient reports whether a PROCESSLIST host ("localhost" for the
// socket, "host:port" over TCP) is this machine, which the 'localhost'
// account admits.
func localClient(host string) bool {
	local := func(h string) bool {
		switch strings.Trim(h, "[]") {
		case "localhost", "127.0.0.1", "::1", "::ffff:127.0.0.1":
			return true
		}
		return false
	}
	if local(host) {
		return true
	}
	i := strings.LastIndexByte(host, ':')
	return i > 0 && i < len(host)-1 && strings.Trim(host[i+1:], "0123456789") == "" && local(host[:i])
}
