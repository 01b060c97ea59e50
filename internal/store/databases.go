package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kontor/internal/panel"
)

// Database is one of a user's MySQL databases (USR-7, UP-4). Its name is
// "<login>_db<N>"; the agent creates it on the database server and grants
// it to the user's database login.
type Database struct {
	ID        int64
	UserID    int64
	Name      string
	CreatedAt time.Time
}

// databaseName is the name of a user's n-th database.
func databaseName(login string, n int) string { return login + "_db" + strconv.Itoa(n) }

// insertDatabase adds a database row and counts it as used: the "used" of
// mysql_dbs is the number of databases that exist (LIM-3), kept in usage
// like the measured resources, so that forgetUser and RecomputeTotals
// handle it with them. d collects the reseller's totals change.
func (s *Store) insertDatabase(ctx context.Context, tx *sql.Tx, userID int64, name string, d totalsDelta) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO databases (user_id, name, created_at) VALUES (?, ?, ?) RETURNING id`),
		userID, name, s.now().Unix()).Scan(&id)
	if isUnique(err) {
		return 0, panel.Conflict("database", "err.db.taken", name)
	}
	if err != nil {
		return 0, panel.Internal(fmt.Errorf("insert database %s: %w", name, err))
	}
	return id, s.countDatabases(ctx, tx, userID, d)
}

// countDatabases stores the user's database count as its mysql_dbs use.
func (s *Store) countDatabases(ctx context.Context, tx *sql.Tx, userID int64, d totalsDelta) error {
	var n, old int64
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM databases WHERE user_id = ?`), userID).Scan(&n); err != nil {
		return panel.Internal(err)
	}
	err := tx.QueryRowContext(ctx, s.q(`SELECT used FROM usage WHERE account_id = ? AND resource = ?`), userID, string(panel.ResMySQL)).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return panel.Internal(err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO usage (account_id, resource, used, measured_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, resource) DO UPDATE SET used = excluded.used, measured_at = excluded.measured_at`),
		userID, string(panel.ResMySQL), n, s.now().Unix()); err != nil {
		return panel.Internal(fmt.Errorf("database count: %w", err))
	}
	d.row(panel.ResMySQL).used += n - old
	return nil
}

// AddDatabase creates the next database "<login>_dbN" (the lowest N not
// in use) of a user the actor may see: the user itself, its reseller or
// the admin. The user's row is locked for the count-and-insert, so the
// mysql_dbs limit holds however many requests run at once (LIM-4).
func (s *Store) AddDatabase(ctx context.Context, actor panel.Actor, userID int64) (Database, error) {
	var db Database
	err := s.tx(ctx, func(tx *sql.Tx) error {
		reseller, login, limit, err := s.lockUserLimit(ctx, tx, actor, userID, panel.ResMySQL)
		if err != nil {
			return err
		}
		names, err := s.databaseNames(ctx, tx, userID)
		if err != nil {
			return err
		}
		if limit == 0 {
			return panel.Forbidden("database", "err.db.none")
		}
		if limit != panel.Unlimited && int64(len(names)) >= limit {
			return panel.Forbidden("database", "err.db.limit", limit)
		}
		used := map[int]bool{}
		prefix := login + "_db"
		for _, n := range names {
			if k, err := strconv.Atoi(strings.TrimPrefix(n, prefix)); err == nil && strings.HasPrefix(n, prefix) {
				used[k] = true
			}
		}
		next := 1
		for used[next] {
			next++
		}
		d := totalsDelta{}
		name := databaseName(login, next)
		id, err := s.insertDatabase(ctx, tx, userID, name, d)
		if err != nil {
			return err
		}
		if err := s.applyTotals(ctx, tx, reseller, d); err != nil {
			return err
		}
		if err := s.journal(ctx, tx, userID, login, "mysql"); err != nil {
			return err
		}
		db = Database{ID: id, UserID: userID, Name: name, CreatedAt: time.Unix(s.now().Unix(), 0)}
		return s.addMessage(ctx, tx, reseller, panel.MsgNotice, login, "msg.db.created", name)
	})
	return db, err
}

func (s *Store) databaseNames(ctx context.Context, tx *sql.Tx, userID int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT name FROM databases WHERE user_id = ?`), userID)
	if err != nil {
		return nil, panel.Internal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, panel.Internal(err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// DeleteDatabase removes a database of a user the actor may see; the agent
// drops it on the database server. A database of another user is "not
// found", whatever its id.
func (s *Store) DeleteDatabase(ctx context.Context, actor panel.Actor, userID, dbID int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		reseller, login, err := s.visibleUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		var name string
		err = tx.QueryRowContext(ctx, s.q(`SELECT name FROM databases WHERE id = ? AND user_id = ?`), dbID, userID).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.NotFound("database")
		}
		if err != nil {
			return panel.Internal(err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM databases WHERE id = ?`), dbID); err != nil {
			return panel.Internal(fmt.Errorf("delete database %s: %w", name, err))
		}
		d := totalsDelta{}
		if err := s.countDatabases(ctx, tx, userID, d); err != nil {
			return err
		}
		if err := s.applyTotals(ctx, tx, reseller, d); err != nil {
			return err
		}
		if err := s.journal(ctx, tx, userID, login, "mysql"); err != nil {
			return err
		}
		return s.addMessage(ctx, tx, reseller, panel.MsgNotice, login, "msg.db.deleted", name)
	})
}

// ListDatabases returns the databases of a user the actor may see, oldest
// first (so web1_db2 comes before web1_db10).
func (s *Store) ListDatabases(ctx context.Context, actor panel.Actor, userID int64) ([]Database, error) {
	var out []Database
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.visibleUserID(ctx, tx, actor, userID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id, user_id, name, created_at FROM databases WHERE user_id = ? ORDER BY id`), userID)
		if err != nil {
			return panel.Internal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var db Database
			var created int64
			if err := rows.Scan(&db.ID, &db.UserID, &db.Name, &created); err != nil {
				return panel.Internal(err)
			}
			db.CreatedAt = time.Unix(created, 0)
			out = append(out, db)
		}
		return rows.Err()
	})
	return out, err
}
