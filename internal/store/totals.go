package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"kontor/internal/panel"
)

// totalsDelta collects changes to reseller_totals within one transaction,
// so a batch of users costs one upsert per resource.
type totalsDelta map[panel.Resource]*totalRow

type totalRow struct{ allocated, unlimited, used int64 }

func (d totalsDelta) row(r panel.Resource) *totalRow {
	if d[r] == nil {
		d[r] = &totalRow{}
	}
	return d[r]
}

// limit records a user's limit of r changing from old to new.
func (d totalsDelta) limit(r panel.Resource, old, new int64) {
	t := d.row(r)
	if old == panel.Unlimited {
		t.unlimited--
	} else {
		t.allocated -= old
	}
	if new == panel.Unlimited {
		t.unlimited++
	} else {
		t.allocated += new
	}
}

func (s *Store) applyTotals(ctx context.Context, tx *sql.Tx, resellerID int64, d totalsDelta) error {
	for r, t := range d {
		if *t == (totalRow{}) {
			continue
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO reseller_totals (reseller_id, resource, allocated, unlimited, used) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (reseller_id, resource) DO UPDATE SET allocated = reseller_totals.allocated + excluded.allocated,
			unlimited = reseller_totals.unlimited + excluded.unlimited, used = reseller_totals.used + excluded.used`),
			resellerID, string(r), t.allocated, t.unlimited, t.used)
		if err != nil {
			return panel.Internal(fmt.Errorf("reseller totals %s: %w", r, err))
		}
	}
	return nil
}

// totals reads a reseller's allocations and measured use.
func (s *Store) totals(ctx context.Context, q queryer, resellerID int64) (map[panel.Resource]panel.Allocation, map[panel.Resource]int64, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT resource, allocated, unlimited, used FROM reseller_totals WHERE reseller_id = ?`), resellerID)
	if err != nil {
		return nil, nil, panel.Internal(fmt.Errorf("reseller totals: %w", err))
	}
	defer rows.Close()
	alloc := map[panel.Resource]panel.Allocation{}
	used := map[panel.Resource]int64{}
	for rows.Next() {
		var r string
		var t totalRow
		if err := rows.Scan(&r, &t.allocated, &t.unlimited, &t.used); err != nil {
			return nil, nil, panel.Internal(err)
		}
		alloc[panel.Resource(r)] = panel.Allocation{Sum: t.allocated, Unlimited: t.unlimited > 0}
		used[panel.Resource(r)] = t.used
	}
	return alloc, used, rows.Err()
}

// SetUsage records the measured use of a user (storage in MB, traffic in MB
// this month) and keeps its reseller's total in step. It is called by the
// stats collector, which acts for the system, not for a person.
func (s *Store) SetUsage(ctx context.Context, userID int64, r panel.Resource, used int64) error {
	if !r.Valid() || used < 0 {
		return panel.Invalid("usage", "err.limit.unknown", string(r))
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var parent int64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(parent_id, 0) FROM accounts WHERE id = ? AND role = 'user'`), userID).Scan(&parent); err != nil {
			if err == sql.ErrNoRows {
				return panel.NotFound("user")
			}
			return panel.Internal(err)
		}
		var old int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT used FROM usage WHERE account_id = ? AND resource = ?`), userID, string(r)).Scan(&old)
		if err != nil && err != sql.ErrNoRows {
			return panel.Internal(err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO usage (account_id, resource, used, measured_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, resource) DO UPDATE SET used = excluded.used, measured_at = excluded.measured_at`),
			userID, string(r), used, s.now().Unix()); err != nil {
			return panel.Internal(err)
		}
		d := totalsDelta{}
		d.row(r).used = used - old
		return s.applyTotals(ctx, tx, parent, d)
	})
}

// forgetUser subtracts a user's limits and use from its reseller's totals
// before the user is deleted.
func (s *Store) forgetUser(ctx context.Context, tx *sql.Tx, userID, resellerID int64) error {
	d := totalsDelta{}
	limits, err := s.userLimits(ctx, tx, userID)
	if err != nil {
		return err
	}
	for r, v := range limits {
		d.limit(r, v, 0)
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT resource, used FROM usage WHERE account_id = ?`), userID)
	if err != nil {
		return panel.Internal(err)
	}
	for rows.Next() {
		var r string
		var v int64
		if err := rows.Scan(&r, &v); err != nil {
			rows.Close()
			return panel.Internal(err)
		}
		d.row(panel.Resource(r)).used -= v
	}
	rows.Close()
	return s.applyTotals(ctx, tx, resellerID, d)
}

// RecomputeTotals rebuilds reseller_totals from the users' limits and use.
// The totals are kept in step by every change; this repairs them after a
// manual edit of the database.
func (s *Store) RecomputeTotals(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmts := []string{
			`DELETE FROM reseller_totals`,
			`INSERT INTO reseller_totals (reseller_id, resource, allocated, unlimited, used)
			 SELECT a.parent_id, l.resource, SUM(CASE WHEN l.value > 0 THEN l.value ELSE 0 END),
			 SUM(CASE WHEN l.value = -1 THEN 1 ELSE 0 END), 0
			 FROM user_limits l JOIN accounts a ON a.id = l.account_id WHERE a.parent_id IS NOT NULL
			 GROUP BY a.parent_id, l.resource`,
			`INSERT INTO reseller_totals (reseller_id, resource, allocated, unlimited, used)
			 SELECT a.parent_id, u.resource, 0, 0, SUM(u.used)
			 FROM usage u JOIN accounts a ON a.id = u.account_id WHERE a.parent_id IS NOT NULL
			 GROUP BY a.parent_id, u.resource
			 ON CONFLICT (reseller_id, resource) DO UPDATE SET used = excluded.used`,
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return panel.Internal(fmt.Errorf("recompute totals: %w", err))
			}
		}
		return nil
	})
}

// refreshSearch rebuilds a user's search_text from its login, name, e-mail
// and domains.
func (s *Store) refreshSearch(ctx context.Context, tx *sql.Tx, userID int64) error {
	var login, name, email string
	if err := tx.QueryRowContext(ctx, s.q(`SELECT login, name, email FROM accounts WHERE id = ?`), userID).Scan(&login, &name, &email); err != nil {
		return panel.Internal(fmt.Errorf("search text: %w", err))
	}
	parts := []string{login, strings.ToLower(name), strings.ToLower(email)}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT name, display FROM domains WHERE user_id = ?`), userID)
	if err != nil {
		return panel.Internal(err)
	}
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return panel.Internal(err)
		}
		parts = append(parts, n)
		if d != n {
			parts = append(parts, d)
		}
	}
	rows.Close()
	// A separator no search term can contain keeps terms from matching
	// across two fields.
	_, err = tx.ExecContext(ctx, s.q(`UPDATE accounts SET search_text = ? WHERE id = ?`), strings.Join(parts, "\x1f"), userID)
	if err != nil {
		return panel.Internal(err)
	}
	return nil
}
