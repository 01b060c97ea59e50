package mysql

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// Identifiers cannot be bound as statement parameters, so every name that
// reaches a statement is checked here against an allow-list pattern first:
// only [a-z0-9_] in names and a fixed alphabet in hashes and hosts, so no
// quote, backtick, backslash, NUL, CR/LF or wildcard ever reaches SQL text.

const (
	// maxDBName is MariaDB's limit for a database name.
	maxDBName = 64
	// maxSuffix caps the part of a database name after "<login>_".
	maxSuffix = 40
	// maxLogin keeps logins far below MariaDB's user-name limit (80).
	maxLogin = 32
)

var (
	prefixRe = regexp.MustCompile(`^[a-z]{1,16}$`)
	suffixRe = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)
	hashRe   = regexp.MustCompile(`^\*[0-9A-F]{40}$`)
	digitsRe = regexp.MustCompile(`^[0-9]{1,12}$`)
	// hostRe is what a login's host read back from the server may look
	// like before we name it in DROP USER: host names, addresses and the
	// wildcard patterns an admin might have typed, never a quote.
	hostRe = regexp.MustCompile(`^[A-Za-z0-9.%_:-]{1,255}$`)
)

// Host names of a login: only local connections, or from anywhere.
const (
	hostLocal = "localhost"
	hostAny   = "%"
)

// errNotOurs marks a login outside the agent's name space.
var errNotOurs = errors.New("login outside the agent's name space")

// names is the checked name space: logins <prefix><digits> and databases
// <login>_<suffix>.
type names struct{ prefix string }

// login checks that s is a login of our name space.
func (n names) login(field, s string) error {
	if len(s) > maxLogin || !strings.HasPrefix(s, n.prefix) || !digitsRe.MatchString(s[len(n.prefix):]) {
		return fmt.Errorf("%w: %w", panel.Invalid(field, "err.login.chars"), errNotOurs)
	}
	return nil
}

// database checks that s is a database of our name space and returns its
// owner's login.
func (n names) database(field, s string) (owner string, err error) {
	login, suffix, ok := strings.Cut(s, "_")
	if !ok || len(s) > maxDBName || n.login(field, login) != nil || !suffixRe.MatchString(suffix) {
		return "", panel.Invalid(field, "err.db.name", maxDBName)
	}
	return login, nil
}

// isLogin and isDatabase test names read back from the server.
func (n names) isLogin(s string) bool { return n.login("", s) == nil }

func (n names) isDatabase(s string) bool {
	_, err := n.database("", s)
	return err == nil
}

// want is the checked desired state of one user's MariaDB side.
type want struct {
	id     int64
	login  string
	dbs    []string // sorted, no duplicates; each "<login>_…"
	hash   string   // "" when dbs is empty
	host   string   // hostLocal or hostAny
	locked bool
}

// checkUser validates u. A login outside the name space wraps errNotOurs:
// such a user owns nothing the agent manages.
func (n names) checkUser(u agent.User) (want, error) {
	w := want{id: u.ID, login: u.Login, host: hostLocal, locked: u.Locked}
	if err := n.login("login", u.Login); err != nil {
		return w, err
	}
	if u.DBExternal {
		w.host = hostAny
	}
	seen := make(map[string]bool, len(u.Databases))
	for i, db := range u.Databases {
		field := fmt.Sprintf("databases[%d]", i)
		owner, err := n.database(field, db)
		if err != nil {
			return w, err
		}
		if owner != u.Login {
			// Another user's database: never grant it.
			return w, panel.Invalid(field, "err.db.owner")
		}
		if !seen[db] {
			seen[db] = true
			w.dbs = append(w.dbs, db)
		}
	}
	sort.Strings(w.dbs)
	if len(w.dbs) > 0 {
		if !hashRe.MatchString(u.DBHash) {
			return w, panel.Invalid("db_hash", "err.hash.format")
		}
		w.hash = u.DBHash
	}
	return w, nil
}

// checkHost refuses a host read back from the server that we could not
// name safely in a statement.
func checkHost(login, host string) error {
	if !hostRe.MatchString(host) {
		return fmt.Errorf("mysql: login %s has an account with an unexpected host %q; remove it by hand", login, host)
	}
	return nil
}
