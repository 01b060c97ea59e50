package unix

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"kontor/internal/agent"
)

// The account databases, read through env.FS.
const (
	passwdFile = "/etc/passwd"
	groupFile  = "/etc/group"
	shadowFile = "/etc/shadow"
)

// marker is the GECOS field of every account the agent creates. The full
// sweep removes only accounts that carry it, so an account an admin made
// by hand inside the uid range is left alone.
const marker = "Kontor"

// passwdEntry is one line of /etc/passwd.
type passwdEntry struct {
	Name  string
	UID   int
	GID   int
	Gecos string
	Home  string
	Shell string
}

// groupEntry is one line of /etc/group.
type groupEntry struct {
	Name    string
	GID     int
	Members []string
}

// accountDB is what the agent knows about the existing accounts.
type accountDB struct {
	users  []passwdEntry
	groups []groupEntry
	// shadow maps a login to its password field; a login missing from it
	// (no shadow file, as in a bare sandbox) counts as not locked.
	shadow map[string]string
}

// readDB reads passwd, group and shadow. A missing file is empty (a new
// sandbox); a file that cannot be read is an error, because acting on a
// partial view could create a duplicate uid.
func readDB(fsys agent.FS) (*accountDB, error) {
	db := &accountDB{shadow: map[string]string{}}
	read := func(p string) ([]string, error) {
		b, err := fsys.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		return strings.Split(string(b), "\n"), nil
	}
	lines, err := read(passwdFile)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		f := strings.Split(l, ":")
		if len(f) != 7 || skipLine(l) {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		db.users = append(db.users, passwdEntry{Name: f[0], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6]})
	}
	if lines, err = read(groupFile); err != nil {
		return nil, err
	}
	for _, l := range lines {
		f := strings.Split(l, ":")
		if len(f) != 4 || skipLine(l) {
			continue
		}
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		var members []string
		if f[3] != "" {
			members = strings.Split(f[3], ",")
		}
		db.groups = append(db.groups, groupEntry{Name: f[0], GID: gid, Members: members})
	}
	if lines, err = read(shadowFile); err != nil {
		return nil, err
	}
	for _, l := range lines {
		f := strings.Split(l, ":")
		if len(f) < 2 || skipLine(l) {
			continue
		}
		db.shadow[f[0]] = f[1]
	}
	return db, nil
}

// skipLine reports comments and NIS compat entries ("+", "-"), which name
// no local account.
func skipLine(l string) bool {
	return l == "" || l[0] == '#' || l[0] == '+' || l[0] == '-'
}

func (db *accountDB) user(name string) *passwdEntry {
	for i := range db.users {
		if db.users[i].Name == name {
			return &db.users[i]
		}
	}
	return nil
}

func (db *accountDB) userByUID(uid int) *passwdEntry {
	for i := range db.users {
		if db.users[i].UID == uid {
			return &db.users[i]
		}
	}
	return nil
}

func (db *accountDB) group(name string) *groupEntry {
	for i := range db.groups {
		if db.groups[i].Name == name {
			return &db.groups[i]
		}
	}
	return nil
}

func (db *accountDB) groupByGID(gid int) *groupEntry {
	for i := range db.groups {
		if db.groups[i].GID == gid {
			return &db.groups[i]
		}
	}
	return nil
}

// supplementary returns the groups that list login as a member, in file
// order.
func (db *accountDB) supplementary(login string) []string {
	var out []string
	for _, g := range db.groups {
		if slices.Contains(g.Members, login) {
			out = append(out, g.Name)
		}
	}
	return out
}

// locked reports whether the password of login is locked (usermod -L
// puts a "!" in front of it).
func (db *accountDB) locked(login string) bool {
	return strings.HasPrefix(db.shadow[login], "!")
}

// unlockable reports whether usermod -U would leave a usable password:
// "!" alone (never set, as useradd leaves it) or "!!"/"!*" have nothing
// behind them, and usermod refuses to unlock them.
func (db *accountDB) unlockable(login string) bool {
	p := db.shadow[login]
	if !strings.HasPrefix(p, "!") {
		return false
	}
	rest := strings.TrimLeft(p, "!")
	return rest != "" && rest[0] != '*'
}
