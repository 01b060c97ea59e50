package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kontor/internal/panel"
)

// NewReseller is what the admin enters to create a reseller.
type NewReseller struct {
	Login        string // empty: the next resN
	PasswordHash string
	// DefaultHash is the password hash of the reseller's own web0 account;
	// that account is also reachable with the reseller's password (ROLE-1).
	DefaultHash string
	Name        string
	Company     string
	Email       string
	Language    string
	Design      string
	Limits      panel.ResellerLimits
	Services    panel.ServiceSet
	// Secrets are the reseller's daemon-side credentials (SecretHtpasswd:
	// its line in its users' Webalizer protection, STA-4); DefaultSecrets
	// those of the default account, derived from that account's password.
	Secrets        map[string]string
	DefaultSecrets map[string]string
}

// CreateReseller adds a reseller and its default user account (admin only).
func (s *Store) CreateReseller(ctx context.Context, actor panel.Actor, nr NewReseller) (panel.Reseller, error) {
	if !actor.IsAdmin() {
		return panel.Reseller{}, panel.Forbidden("", "err.forbidden")
	}
	var err error
	if nr.Name, err = panel.CleanText("name", nr.Name, false); err != nil {
		return panel.Reseller{}, err
	}
	if nr.Company, err = panel.CleanText("company", nr.Company, false); err != nil {
		return panel.Reseller{}, err
	}
	if nr.Email, err = panel.ValidateEmail("email", nr.Email, false); err != nil {
		return panel.Reseller{}, err
	}
	if nr.Language == "" {
		nr.Language = "en"
	}
	if nr.Design == "" {
		nr.Design = "default"
	}
	if !panel.ValidLanguage(nr.Language) {
		return panel.Reseller{}, panel.Invalid("language", "err.language")
	}
	if !panel.ValidDesign(nr.Design) {
		return panel.Reseller{}, panel.Invalid("design", "err.design")
	}
	for r, l := range nr.Limits {
		if !r.Valid() {
			return panel.Reseller{}, panel.Invalid("limit", "err.limit.unknown", string(r))
		}
		if err := l.Validate(r); err != nil {
			return panel.Reseller{}, err
		}
	}
	if err := nr.Services.Validate(); err != nil {
		return panel.Reseller{}, err
	}
	if err := checkSecrets(panel.RoleReseller, nr.Secrets); err != nil {
		return panel.Reseller{}, err
	}
	if err := checkSecrets(panel.RoleUser, nr.DefaultSecrets); err != nil {
		return panel.Reseller{}, err
	}
	if nr.Login != "" {
		if err := panel.ValidateLogin("login", nr.Login); err != nil {
			return panel.Reseller{}, err
		}
	}
	var id int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var n int64
		if err := tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'reseller' RETURNING value`).Scan(&n); err != nil {
			return panel.Internal(fmt.Errorf("reseller counter: %w", err))
		}
		login := nr.Login
		if login == "" {
			login = panel.ResellerLogin(n)
		}
		id, err = s.insertAccount(ctx, tx, accountRow{login: login, role: panel.RoleReseller, hash: nr.PasswordHash,
			language: nr.Language, design: nr.Design, number: n,
			profile: panel.Profile{Name: nr.Name, Company: nr.Company, Email: nr.Email}})
		if err != nil {
			return err
		}
		for _, r := range panel.ResellerResources() {
			l, ok := nr.Limits[r]
			if !ok {
				l = panel.ResellerLimit{Value: 0, Mode: panel.ModeMaximum}
			}
			if err := s.putResellerLimit(ctx, tx, id, r, l); err != nil {
				return err
			}
		}
		if err := s.putServices(ctx, tx, id, nr.Services); err != nil {
			return err
		}
		if err := s.putSecrets(ctx, tx, id, nr.Secrets); err != nil {
			return err
		}
		// The reseller's own account: no limits until the reseller gives it some.
		duid, err := s.insertAccount(ctx, tx, accountRow{login: panel.DefaultUserLogin(login), role: panel.RoleUser,
			parentID: id, hash: nr.DefaultHash, language: nr.Language, design: nr.Design, isDefault: true,
			profile: panel.Profile{Name: nr.Name, Company: nr.Company, Email: nr.Email}})
		if err != nil {
			return err
		}
		if err := s.putSecrets(ctx, tx, duid, nr.DefaultSecrets); err != nil {
			return err
		}
		return s.journal(ctx, tx, duid, panel.DefaultUserLogin(login), "create")
	})
	if err != nil {
		return panel.Reseller{}, err
	}
	return s.Reseller(ctx, actor, id)
}

func (s *Store) putResellerLimit(ctx context.Context, tx *sql.Tx, id int64, r panel.Resource, l panel.ResellerLimit) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO reseller_limits (account_id, resource, value, mode, allow_unlimited) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account_id, resource) DO UPDATE SET value = excluded.value, mode = excluded.mode, allow_unlimited = excluded.allow_unlimited`),
		id, string(r), l.Value, string(l.Mode), b2i(l.AllowUnlimited))
	if err != nil {
		return panel.Internal(fmt.Errorf("reseller limit %s: %w", r, err))
	}
	return nil
}

func (s *Store) putServices(ctx context.Context, tx *sql.Tx, id int64, ss panel.ServiceSet) error {
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM services WHERE account_id = ?`), id); err != nil {
		return panel.Internal(err)
	}
	for _, sv := range panel.Services() {
		if lvl := ss[sv]; lvl > 0 {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO services (account_id, service, level) VALUES (?, ?, ?)`), id, string(sv), lvl); err != nil {
				return panel.Internal(fmt.Errorf("service %s: %w", sv, err))
			}
		}
	}
	return nil
}

func (s *Store) services(ctx context.Context, q queryer, id int64) (panel.ServiceSet, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT service, level FROM services WHERE account_id = ?`), id)
	if err != nil {
		return nil, panel.Internal(err)
	}
	defer rows.Close()
	ss := panel.ServiceSet{}
	for rows.Next() {
		var sv string
		var lvl int
		if err := rows.Scan(&sv, &lvl); err != nil {
			return nil, panel.Internal(err)
		}
		ss[panel.Service(sv)] = lvl
	}
	return ss, rows.Err()
}

func (s *Store) resellerLimits(ctx context.Context, q queryer, id int64) (panel.ResellerLimits, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT resource, value, mode, allow_unlimited FROM reseller_limits WHERE account_id = ?`), id)
	if err != nil {
		return nil, panel.Internal(err)
	}
	defer rows.Close()
	out := panel.ResellerLimits{}
	for rows.Next() {
		var r, mode string
		var l panel.ResellerLimit
		var au int
		if err := rows.Scan(&r, &l.Value, &mode, &au); err != nil {
			return nil, panel.Internal(err)
		}
		l.Mode, l.AllowUnlimited = panel.Mode(mode), au == 1
		out[panel.Resource(r)] = l
	}
	return out, rows.Err()
}

// queryer is a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Reseller returns a reseller the actor may see: any for the admin, itself
// for a reseller.
func (s *Store) Reseller(ctx context.Context, actor panel.Actor, id int64) (panel.Reseller, error) {
	var r panel.Reseller
	if !(actor.IsAdmin() || actor.Role == panel.RoleReseller && actor.ID == id) {
		return r, panel.NotFound("reseller")
	}
	err := s.db.QueryRowContext(ctx, s.q(`SELECT `+accountCols+`, a.name, a.company, a.email,
		COALESCE((SELECT d.id FROM accounts d WHERE d.parent_id = a.id AND d.is_default = 1), 0)
		FROM accounts a WHERE a.id = ? AND a.role = 'reseller'`), id).Scan(
		&r.ID, &r.Login, &r.Role, &r.ParentID, &r.Status, &r.Language, &r.Design, new(int64),
		&r.Name, &r.Company, &r.Email, &r.DefaultUserID)
	if errors.Is(err, sql.ErrNoRows) {
		return r, panel.NotFound("reseller")
	}
	if err != nil {
		return r, panel.Internal(fmt.Errorf("reseller %d: %w", id, err))
	}
	if r.Limits, err = s.resellerLimits(ctx, s.db, id); err != nil {
		return r, err
	}
	if r.Services, err = s.services(ctx, s.db, id); err != nil {
		return r, err
	}
	ext, err := s.AccountSetting(ctx, id, settingMySQLExternal, "0")
	r.MySQLExternal = ext == "1"
	return r, err
}

// settingMySQLExternal is the account setting that lets a reseller open
// its users' databases to external hosts (ROLE-5, USR-7).
const settingMySQLExternal = "mysql_external"

// SetResellerMySQLExternal allows or forbids a reseller to grant MySQL
// external access (admin only).
func (s *Store) SetResellerMySQLExternal(ctx context.Context, actor panel.Actor, id int64, allowed bool) error {
	if !actor.IsAdmin() {
		return panel.Forbidden("", "err.forbidden")
	}
	if err := s.isReseller(ctx, s.db, id); err != nil {
		return err
	}
	v := "0"
	if allowed {
		v = "1"
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO account_settings (account_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value`), id, settingMySQLExternal, v)
	if err != nil {
		return panel.Internal(err)
	}
	return nil
}

// ResellerRow is a line of the admin's reseller list.
type ResellerRow struct {
	ID      int64
	Login   string
	Name    string
	Company string
	Status  panel.Status
	Users   int
}

// Resellers lists resellers for the admin, with their user counts.
func (s *Store) Resellers(ctx context.Context, actor panel.Actor) ([]ResellerRow, error) {
	if !actor.IsAdmin() {
		return nil, panel.Forbidden("", "err.forbidden")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, a.login, a.name, a.company, a.status,
		(SELECT COUNT(*) FROM accounts u WHERE u.parent_id = a.id AND u.is_default = 0)
		FROM accounts a WHERE a.role = 'reseller' ORDER BY a.number, a.id`)
	if err != nil {
		return nil, panel.Internal(err)
	}
	defer rows.Close()
	var out []ResellerRow
	for rows.Next() {
		var r ResellerRow
		var st string
		if err := rows.Scan(&r.ID, &r.Login, &r.Name, &r.Company, &st, &r.Users); err != nil {
			return nil, panel.Internal(err)
		}
		r.Status = panel.Status(st)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetResellerLimits replaces limits of a reseller (admin only). Lowering a
// limit below what is allocated is allowed: it shows as over in the
// overview and stops further grants.
func (s *Store) SetResellerLimits(ctx context.Context, actor panel.Actor, id int64, limits panel.ResellerLimits) error {
	if !actor.IsAdmin() {
		return panel.Forbidden("", "err.forbidden")
	}
	for r, l := range limits {
		if !r.Valid() {
			return panel.Invalid("limit", "err.limit.unknown", string(r))
		}
		if err := l.Validate(r); err != nil {
			return err
		}
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		role, _, err := s.visible(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if role != panel.RoleReseller {
			return panel.NotFound("reseller")
		}
		for r, l := range limits {
			if err := s.putResellerLimit(ctx, tx, id, r, l); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetResellerServices replaces the services a reseller may offer (admin only).
func (s *Store) SetResellerServices(ctx context.Context, actor panel.Actor, id int64, ss panel.ServiceSet) error {
	if !actor.IsAdmin() {
		return panel.Forbidden("", "err.forbidden")
	}
	if err := ss.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		role, _, err := s.visible(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if role != panel.RoleReseller {
			return panel.NotFound("reseller")
		}
		return s.putServices(ctx, tx, id, ss)
	})
}

// Usage returns the LIM-3 table of a reseller: for each resource the
// measured or counted use, the allocation to its users and the reseller's
// limit. It reads the reseller's running totals; no user is loaded.
func (s *Store) Usage(ctx context.Context, actor panel.Actor, resellerID int64) ([]panel.UsageRow, error) {
	if !(actor.IsAdmin() || actor.Role == panel.RoleReseller && actor.ID == resellerID) {
		return nil, panel.NotFound("reseller")
	}
	var out []panel.UsageRow
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts WHERE id = ? AND role = 'reseller'`), resellerID).Scan(&n); err != nil {
			return panel.Internal(err)
		}
		if n == 0 {
			return panel.NotFound("reseller")
		}
		limits, err := s.resellerLimits(ctx, tx, resellerID)
		if err != nil {
			return err
		}
		alloc, used, err := s.totals(ctx, tx, resellerID)
		if err != nil {
			return err
		}
		users, err := s.countUsers(ctx, tx, resellerID)
		if err != nil {
			return err
		}
		used[panel.ResUsers] = users
		alloc[panel.ResUsers] = panel.Allocation{Sum: users}
		for _, r := range panel.ResellerResources() {
			out = append(out, panel.UsageRow{Resource: r, Used: used[r], Allocated: alloc[r], Limit: limits[r]})
		}
		return nil
	})
	return out, err
}

func (s *Store) countUsers(ctx context.Context, tx *sql.Tx, resellerID int64) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts WHERE parent_id = ? AND is_default = 0`), resellerID).Scan(&n)
	if err != nil {
		return 0, panel.Internal(err)
	}
	return n, nil
}
