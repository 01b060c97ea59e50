package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// load reads the current state of the given logins from the server, or of
// the whole name space when logins is nil (a full run). Rows outside the
// name space are never looked at again: the patterns are applied here as
// well as in the queries.
func (n names) load(ctx context.Context, db *sql.DB, logins []string) (*current, error) {
	cur := newCurrent()
	want := func(login string) bool { return n.isLogin(login) }
	if logins != nil {
		set := make(map[string]bool, len(logins))
		for _, l := range logins {
			set[l] = true
		}
		want = func(login string) bool { return set[login] && n.isLogin(login) }
	}

	// Which users to ask for: a journal batch names a few logins; a full
	// run asks for the prefix.
	where, args := "User LIKE CONCAT(?, '%')", []any{n.prefix}
	if logins != nil {
		if len(logins) == 0 {
			return cur, nil
		}
		where = "User IN (?" + strings.Repeat(",?", len(logins)-1) + ")"
		args = make([]any, len(logins))
		for i, l := range logins {
			args[i] = l
		}
	}

	// mysql.global_priv holds every account as JSON since MariaDB 10.4,
	// the version that brought ACCOUNT LOCK; the mysql.user view has no
	// lock column.
	rows, err := db.QueryContext(ctx, `SELECT User, Host,
		IFNULL(JSON_VALUE(Priv, '$.plugin'), ''),
		IFNULL(JSON_VALUE(Priv, '$.authentication_string'), ''),
		IFNULL(JSON_VALUE(Priv, '$.account_locked'), 'false')
		FROM mysql.global_priv WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("mysql: reading accounts: %w", err)
	}
	for rows.Next() {
		var user, host, locked string
		var a account
		if err := rows.Scan(&user, &host, &a.plugin, &a.hash, &locked); err != nil {
			rows.Close()
			return nil, fmt.Errorf("mysql: reading accounts: %w", err)
		}
		if !want(user) {
			continue
		}
		a.locked = locked == "true" || locked == "1"
		if cur.accounts[user] == nil {
			cur.accounts[user] = map[string]account{}
		}
		cur.accounts[user][host] = a
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("mysql: reading accounts: %w", err)
	}

	if err := n.loadGrants(ctx, db, cur, where, args, want); err != nil {
		return nil, err
	}

	// Databases: every schema named <login>_… Matching in Go on the
	// first `_` (a login has none) keeps web11_x out of web1's list.
	var prefixes []string
	if logins == nil {
		prefixes = []string{n.prefix}
	} else {
		prefixes = logins
	}
	for _, p := range prefixes {
		rows, err := db.QueryContext(ctx,
			"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE CONCAT(?, '%')", p)
		if err != nil {
			return nil, fmt.Errorf("mysql: reading databases: %w", err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return nil, fmt.Errorf("mysql: reading databases: %w", err)
			}
			owner, err := n.database("", name)
			if err != nil || !want(owner) {
				continue
			}
			cur.dbs[owner] = append(cur.dbs[owner], name)
		}
		if err := closeRows(rows); err != nil {
			return nil, fmt.Errorf("mysql: reading databases: %w", err)
		}
	}
	for _, l := range cur.dbs {
		sort.Strings(l)
	}
	return cur, nil
}

// loadGrants reads mysql.db. Its privilege columns differ between
// versions (Delete_history_priv came with 10.3), so they are found by
// name: a grant is "all" when every *_priv column but Grant_priv is 'Y'.
func (n names) loadGrants(ctx context.Context, db *sql.DB, cur *current, where string, args []any, want func(string) bool) error {
	rows, err := db.QueryContext(ctx, "SELECT * FROM mysql.db WHERE "+where, args...)
	if err != nil {
		return fmt.Errorf("mysql: reading grants: %w", err)
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return fmt.Errorf("mysql: reading grants: %w", err)
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return fmt.Errorf("mysql: reading grants: %w", err)
		}
		var user, host, dbname string
		g := grant{all: true}
		for i, c := range cols {
			v := string(vals[i])
			switch {
			case strings.EqualFold(c, "User"):
				user = v
			case strings.EqualFold(c, "Host"):
				host = v
			case strings.EqualFold(c, "Db"):
				dbname = v
			case strings.EqualFold(c, "Grant_priv"):
				g.grantOption = v == "Y"
			case strings.HasSuffix(strings.ToLower(c), "_priv"):
				if v != "Y" {
					g.all = false
				}
			}
		}
		if !want(user) {
			continue
		}
		if cur.grants[user] == nil {
			cur.grants[user] = map[string]map[string]grant{}
		}
		if cur.grants[user][host] == nil {
			cur.grants[user][host] = map[string]grant{}
		}
		cur.grants[user][host][dbname] = g
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("mysql: reading grants: %w", err)
	}
	return nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
