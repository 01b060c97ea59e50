package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kontor/internal/panel"
)

// The User stats pages (STA-1): users × resources with use against limit,
// filtered, sorted and paged in SQL, so a reseller with thousands of users
// loads one page of them. Use comes from the usage table (what the
// collector and the storage measurement write, in MB, and, once they
// exist, the counts of objects); a resource without a row is used 0.

// ResourceUse is the use of one resource by one user against its limit.
type ResourceUse struct {
	Resource panel.Resource
	Used     int64
	// Limit: -1 unlimited, 0 not available, n a cap (LIM-1).
	Limit int64
	// MeasuredAt is when storage or traffic was last measured; zero for
	// counted resources and never measured ones.
	MeasuredAt time.Time
}

// Over reports whether the use passed the limit (highlighted, never
// enforced here).
func (u ResourceUse) Over() bool { return u.Limit >= 0 && u.Used > u.Limit }

// UserResources is one user's row of the User stats table.
type UserResources struct {
	ID        int64
	Login     string
	Name      string
	IsDefault bool
	// Resources in the order of panel.Resources().
	Resources []ResourceUse
}

// Over reports whether any resource is over its limit.
func (u UserResources) Over() bool {
	for _, r := range u.Resources {
		if r.Over() {
			return true
		}
	}
	return false
}

// Use returns the figure of resource r.
func (u UserResources) Use(r panel.Resource) ResourceUse {
	for _, x := range u.Resources {
		if x.Resource == r {
			return x
		}
	}
	return ResourceUse{Resource: r}
}

// StatsUserFilter selects a page of a reseller's users for the User
// stats table.
type StatsUserFilter struct {
	Search string
	// Exceeders keeps only users with at least one resource over its limit.
	Exceeders bool
	Offset    int
	Limit     int
}

// overSQL is true for a usage row u over the user's limit l of the same
// resource: a limit of 0 means none at all, -1 unlimited, no limit row 0.
const overSQL = `(COALESCE(l.value, 0) >= 0 AND u.used > COALESCE(l.value, 0))`

func statsPage(offset, limit int) (int, int) {
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	return max(offset, 0), limit
}

// resellerOnly: the User stats belong to the reseller itself, not to an
// admin browsing or a reseller acting in a user's panel.
func resellerOnly(actor panel.Actor) error {
	if actor.Role != panel.RoleReseller || actor.ActingID != 0 {
		return panel.Forbidden("", "err.forbidden")
	}
	return nil
}

// StatsUserPage returns one page of the actor's (a reseller's) users with
// the use and limit of every resource, and how many users match.
func (s *Store) StatsUserPage(ctx context.Context, actor panel.Actor, f StatsUserFilter) ([]UserResources, int, error) {
	if err := resellerOnly(actor); err != nil {
		return nil, 0, err
	}
	f.Offset, f.Limit = statsPage(f.Offset, f.Limit)
	term, err := panel.CleanText("q", f.Search, false)
	if err != nil {
		return nil, 0, err
	}
	var out []UserResources
	var total int
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		where := ` FROM accounts a WHERE a.role = 'user' AND a.parent_id = ?`
		args := []any{actor.ID}
		if term != "" {
			where += ` AND a.search_text LIKE ? ESCAPE '!'`
			args = append(args, likePattern(term))
		}
		if f.Exceeders {
			// Limits without a usage row are used 0 and never over, so
			// the usage rows are the ones to look at.
			where += ` AND EXISTS (SELECT 1 FROM usage u LEFT JOIN user_limits l
				ON l.account_id = u.account_id AND l.resource = u.resource
				WHERE u.account_id = a.id AND ` + overSQL + `)`
		}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*)`+where), args...).Scan(&total); err != nil {
			return panel.Internal(fmt.Errorf("count stats users: %w", err))
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT a.id, a.login, a.name, a.is_default`+where+
			` ORDER BY a.is_default DESC, a.number, a.id LIMIT ? OFFSET ?`), append(args, f.Limit, f.Offset)...)
		if err != nil {
			return panel.Internal(fmt.Errorf("stats users: %w", err))
		}
		var ids []int64
		for rows.Next() {
			var u UserResources
			var def int
			if err := rows.Scan(&u.ID, &u.Login, &u.Name, &def); err != nil {
				rows.Close()
				return panel.Internal(err)
			}
			u.IsDefault = def == 1
			out = append(out, u)
			ids = append(ids, u.ID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return panel.Internal(err)
		}
		return s.fillResources(ctx, tx, out, ids)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// fillResources loads the limits and use of the users ids (the ids of
// list, in order) with two queries.
func (s *Store) fillResources(ctx context.Context, tx *sql.Tx, list []UserResources, ids []int64) error {
	type key struct {
		id  int64
		res string
	}
	limits, used, at := map[key]int64{}, map[key]int64{}, map[key]int64{}
	err := s.inChunks(ctx, tx, `SELECT account_id, resource, value FROM user_limits WHERE account_id IN (%s)`, nil, ids,
		func(rows *sql.Rows) error {
			var k key
			var v int64
			if err := rows.Scan(&k.id, &k.res, &v); err != nil {
				return err
			}
			limits[k] = v
			return nil
		})
	if err != nil {
		return err
	}
	err = s.inChunks(ctx, tx, `SELECT account_id, resource, used, measured_at FROM usage WHERE account_id IN (%s)`, nil, ids,
		func(rows *sql.Rows) error {
			var k key
			var v, t int64
			if err := rows.Scan(&k.id, &k.res, &v, &t); err != nil {
				return err
			}
			used[k], at[k] = v, t
			return nil
		})
	if err != nil {
		return err
	}
	for i := range list {
		for _, r := range panel.Resources() {
			k := key{list[i].ID, string(r)}
			u := ResourceUse{Resource: r, Used: used[k], Limit: limits[k]}
			if t := at[k]; t > 0 && r.Measured() {
				u.MeasuredAt = time.Unix(t, 0)
			}
			list[i].Resources = append(list[i].Resources, u)
		}
	}
	return nil
}

// StatsUserResources returns one user's use and limits of every
// resource; the user must be the actor's (a reseller's).
func (s *Store) StatsUserResources(ctx context.Context, actor panel.Actor, userID int64) (UserResources, error) {
	var out UserResources
	if err := resellerOnly(actor); err != nil {
		return out, err
	}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := s.trafficUser(ctx, tx, actor, userID); err != nil {
			return err
		}
		var def int
		err := tx.QueryRowContext(ctx, s.q(`SELECT id, login, name, is_default FROM accounts WHERE id = ?`), userID).
			Scan(&out.ID, &out.Login, &out.Name, &def)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.NotFound("user")
		}
		if err != nil {
			return panel.Internal(fmt.Errorf("stats user: %w", err))
		}
		out.IsDefault = def == 1
		list := []UserResources{out}
		if err := s.fillResources(ctx, tx, list, []int64{userID}); err != nil {
			return err
		}
		out = list[0]
		return nil
	})
	return out, err
}

// ResourceRow is one user's use of one resource.
type ResourceRow struct {
	ID    int64
	Login string
	ResourceUse
}

// StatsResourceFilter selects a page of users by their use of a resource.
type StatsResourceFilter struct {
	Resource  panel.Resource
	Exceeders bool
	Offset    int
	Limit     int
}

// StatsResource returns one page of the actor's (a reseller's) users
// sorted by their use of one resource, most first, and how many match.
func (s *Store) StatsResource(ctx context.Context, actor panel.Actor, f StatsResourceFilter) ([]ResourceRow, int, error) {
	if err := resellerOnly(actor); err != nil {
		return nil, 0, err
	}
	known := false
	for _, r := range panel.Resources() {
		known = known || r == f.Resource
	}
	if !known {
		return nil, 0, panel.NotFound("resource")
	}
	f.Offset, f.Limit = statsPage(f.Offset, f.Limit)
	var out []ResourceRow
	var total int
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		from := ` FROM accounts a
			LEFT JOIN usage u ON u.account_id = a.id AND u.resource = ?
			LEFT JOIN user_limits l ON l.account_id = a.id AND l.resource = ?
			WHERE a.role = 'user' AND a.parent_id = ?`
		args := []any{string(f.Resource), string(f.Resource), actor.ID}
		if f.Exceeders {
			from += ` AND u.used IS NOT NULL AND ` + overSQL
		}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*)`+from), args...).Scan(&total); err != nil {
			return panel.Internal(fmt.Errorf("count resource users: %w", err))
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT a.id, a.login, COALESCE(u.used, 0), COALESCE(l.value, 0), COALESCE(u.measured_at, 0)`+
			from+` ORDER BY COALESCE(u.used, 0) DESC, a.number, a.id LIMIT ? OFFSET ?`), append(args, f.Limit, f.Offset)...)
		if err != nil {
			return panel.Internal(fmt.Errorf("resource users: %w", err))
		}
		defer rows.Close()
		for rows.Next() {
			r := ResourceRow{ResourceUse: ResourceUse{Resource: f.Resource}}
			var at int64
			if err := rows.Scan(&r.ID, &r.Login, &r.Used, &r.Limit, &at); err != nil {
				return panel.Internal(err)
			}
			if at > 0 && f.Resource.Measured() {
				r.MeasuredAt = time.Unix(at, 0)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// CollectorRun is the record of one collector run that stored something.
type CollectorRun struct {
	Finished   time.Time
	Lines      int64
	Bytes      int64
	Malformed  int64
	Unassigned int64
}

// CollectorRuns returns the latest runs, newest first (admin only).
func (s *Store) CollectorRuns(ctx context.Context, actor panel.Actor, limit int) ([]CollectorRun, error) {
	if !actor.IsAdmin() {
		return nil, panel.Forbidden("", "err.forbidden")
	}
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT finished_at, lines, bytes, malformed, unassigned FROM stats_runs
		ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, panel.Internal(fmt.Errorf("collector runs: %w", err))
	}
	defer rows.Close()
	var out []CollectorRun
	for rows.Next() {
		var r CollectorRun
		var at int64
		if err := rows.Scan(&at, &r.Lines, &r.Bytes, &r.Malformed, &r.Unassigned); err != nil {
			return nil, panel.Internal(err)
		}
		r.Finished = time.Unix(at, 0)
		out = append(out, r)
	}
	return out, rows.Err()
}

// AdminIDs returns the ids of every admin account: the background jobs
// of serve address their error messages (GEN-4) to all of them.
func (s *Store) AdminIDs(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM accounts WHERE role = 'admin' ORDER BY id`)
	if err != nil {
		return nil, panel.Internal(fmt.Errorf("admins: %w", err))
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, panel.Internal(err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
