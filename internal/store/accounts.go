package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kontor/internal/panel"
)

// accountCols are the columns scanned by scanAccount, in order.
const accountCols = `a.id, a.login, a.role, COALESCE(a.parent_id, 0), a.status, a.language, a.design, a.created_at`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(r scanner, a *panel.Account) error {
	var created int64
	var role, status string
	if err := r.Scan(&a.ID, &a.Login, &role, &a.ParentID, &status, &a.Language, &a.Design, &created); err != nil {
		return err
	}
	a.Role, a.Status, a.CreatedAt = panel.Role(role), panel.Status(status), time.Unix(created, 0)
	return nil
}

// Credentials is what the login page needs about an account.
type Credentials struct {
	Account      panel.Account
	PasswordHash string
	// ParentHash is the reseller's password hash for users: the reseller's
	// password also opens its users' panels (ROLE-3).
	ParentHash   string
	ParentLogin  string
	ParentStatus panel.Status
}

// CredentialsByLogin looks an account up for login; it is the one lookup
// without an actor.
func (s *Store) CredentialsByLogin(ctx context.Context, login string) (Credentials, error) {
	var c Credentials
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+accountCols+`, a.password_hash,
		COALESCE(p.password_hash, ''), COALESCE(p.login, ''), COALESCE(p.status, '')
		FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id WHERE a.login = ?`), login)
	var pstatus string
	var created int64
	var role, status string
	a := &c.Account
	err := row.Scan(&a.ID, &a.Login, &role, &a.ParentID, &status, &a.Language, &a.Design, &created,
		&c.PasswordHash, &c.ParentHash, &c.ParentLogin, &pstatus)
	if errors.Is(err, sql.ErrNoRows) {
		return c, panel.NotFound("account")
	}
	if err != nil {
		return c, panel.Internal(fmt.Errorf("credentials of %q: %w", login, err))
	}
	a.Role, a.Status, a.CreatedAt = panel.Role(role), panel.Status(status), time.Unix(created, 0)
	c.ParentStatus = panel.Status(pstatus)
	return c, nil
}

// CreateAdmin adds an admin account; it is run from the CLI, not by an actor.
func (s *Store) CreateAdmin(ctx context.Context, login, passwordHash string) (panel.Account, error) {
	if err := panel.ValidateLogin("login", login); err != nil {
		return panel.Account{}, err
	}
	var a panel.Account
	err := s.tx(ctx, func(tx *sql.Tx) error {
		id, err := s.insertAccount(ctx, tx, accountRow{login: login, role: panel.RoleAdmin, hash: passwordHash, language: "en", design: "default"})
		if err != nil {
			return err
		}
		a, err = s.account(ctx, tx, id)
		return err
	})
	return a, err
}

// accountRow is the insert form of an account.
type accountRow struct {
	login     string
	role      panel.Role
	parentID  int64
	hash      string
	language  string
	design    string
	number    int64
	isDefault bool
	profile   panel.Profile
}

func (s *Store) insertAccount(ctx context.Context, tx *sql.Tx, r accountRow) (int64, error) {
	now := s.now().Unix()
	var parent any
	if r.parentID != 0 {
		parent = r.parentID
	}
	p := r.profile
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO accounts (login, role, parent_id, password_hash, language, design,
		number, is_default, name, company, street, zip, city, country, email, phone, custom1, custom2, custom3,
		show_fields, created_at, updated_at) VALUES (`+placeholders(22)+`) RETURNING id`),
		r.login, string(r.role), parent, r.hash, r.language, r.design, r.number, b2i(r.isDefault),
		p.Name, p.Company, p.Street, p.Zip, p.City, p.Country, p.Email, p.Phone,
		p.Custom[0], p.Custom[1], p.Custom[2], p.ShowString(), now, now).Scan(&id)
	if isUnique(err) {
		return 0, panel.Conflict("login", "err.login.taken", r.login)
	}
	if err != nil {
		return 0, panel.Internal(fmt.Errorf("insert account %q: %w", r.login, err))
	}
	return id, nil
}

func (s *Store) account(ctx context.Context, tx *sql.Tx, id int64) (panel.Account, error) {
	var a panel.Account
	err := scanAccount(tx.QueryRowContext(ctx, s.q(`SELECT `+accountCols+` FROM accounts a WHERE a.id = ?`), id), &a)
	if errors.Is(err, sql.ErrNoRows) {
		return a, panel.NotFound("account")
	}
	if err != nil {
		return a, panel.Internal(fmt.Errorf("account %d: %w", id, err))
	}
	return a, nil
}

// Account returns the actor's own account.
func (s *Store) Account(ctx context.Context, actor panel.Actor) (panel.Account, error) {
	var a panel.Account
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = s.account(ctx, tx, actor.ID)
		return err
	})
	return a, err
}

// visible checks that the account id lies in the actor's subtree and
// returns its role and parent. Anything outside is reported as not found,
// so ids of other resellers' objects tell nothing (ROLE-4).
func (s *Store) visible(ctx context.Context, tx *sql.Tx, actor panel.Actor, id int64) (panel.Role, int64, error) {
	var role string
	var parent int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT role, COALESCE(parent_id, 0) FROM accounts WHERE id = ?`), id).Scan(&role, &parent)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, panel.NotFound("account")
	}
	if err != nil {
		return "", 0, panel.Internal(fmt.Errorf("account %d: %w", id, err))
	}
	ok := false
	switch actor.Role {
	case panel.RoleAdmin:
		ok = true
	case panel.RoleReseller:
		ok = id == actor.ID || parent == actor.ID
	case panel.RoleUser:
		ok = id == actor.ID
	}
	if !ok {
		return "", 0, panel.NotFound("account")
	}
	return panel.Role(role), parent, nil
}

// visibleUserID is visible for an id that must be a user: anything else,
// like a foreign id, is "user not found". It returns the user's reseller.
func (s *Store) visibleUserID(ctx context.Context, tx *sql.Tx, actor panel.Actor, id int64) (int64, error) {
	role, parent, err := s.visible(ctx, tx, actor, id)
	if err != nil {
		return 0, err
	}
	if role != panel.RoleUser {
		return 0, panel.NotFound("user")
	}
	return parent, nil
}

// SetPassword stores a new password hash for an account in the actor's
// subtree (or the actor's own). The account's daemon-side secrets go with
// the old password; callers that hold the plaintext use SetPasswordSecrets.
func (s *Store) SetPassword(ctx context.Context, actor panel.Actor, id int64, hash string) error {
	return s.SetPasswordSecrets(ctx, actor, id, hash, nil)
}

// PasswordHash returns the stored hash of the actor's own account, for the
// change-password form's "old password" check.
func (s *Store) PasswordHash(ctx context.Context, actor panel.Actor) (string, error) {
	var h string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT password_hash FROM accounts WHERE id = ?`), actor.ID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", panel.NotFound("account")
	}
	if err != nil {
		return "", panel.Internal(err)
	}
	return h, nil
}

// SetLanguageDesign sets the language (and, unless design is empty, the
// design) of the actor's own account. Users may not change their design
// (GEN-3); the caller passes "" for them.
func (s *Store) SetLanguageDesign(ctx context.Context, actor panel.Actor, lang, design string) error {
	if !panel.ValidLanguage(lang) {
		return panel.Invalid("language", "err.language")
	}
	if design != "" && !panel.ValidDesign(design) {
		return panel.Invalid("design", "err.design")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if design == "" {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE accounts SET language = ?, updated_at = ? WHERE id = ?`), lang, s.now().Unix(), actor.ID)
		} else {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE accounts SET language = ?, design = ?, updated_at = ? WHERE id = ?`), lang, design, s.now().Unix(), actor.ID)
		}
		if err != nil {
			return panel.Internal(fmt.Errorf("set language: %w", err))
		}
		return nil
	})
}

// SetStatus locks or unlocks an account below the actor (a reseller for the
// admin, a user for its reseller). Sessions of a locked account end at once.
func (s *Store) SetStatus(ctx context.Context, actor panel.Actor, id int64, st panel.Status) error {
	if st != panel.StatusEnabled && st != panel.StatusLocked {
		return panel.Invalid("status", "err.status")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		role, parent, err := s.visible(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if id == actor.ID || role == panel.RoleAdmin {
			return panel.Forbidden("status", "err.status.self")
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE accounts SET status = ?, updated_at = ? WHERE id = ?`), string(st), s.now().Unix(), id); err != nil {
			return panel.Internal(fmt.Errorf("set status: %w", err))
		}
		if st == panel.StatusLocked {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE account_id = ?`), id); err != nil {
				return panel.Internal(fmt.Errorf("end sessions: %w", err))
			}
		}
		var login string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT login FROM accounts WHERE id = ?`), id).Scan(&login); err != nil {
			return panel.Internal(err)
		}
		key := "msg.account.locked"
		if st == panel.StatusEnabled {
			key = "msg.account.unlocked"
		}
		if role == panel.RoleUser {
			if err := s.journal(ctx, tx, id, login, "status"); err != nil {
				return err
			}
			return s.addMessage(ctx, tx, parent, panel.MsgNotice, login, key)
		}
		return nil
	})
}

// DeleteAccount removes a reseller (admin only; its users go with it) or a
// user (its reseller or the admin). A reseller's default account goes only
// with the reseller.
func (s *Store) DeleteAccount(ctx context.Context, actor panel.Actor, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		role, parent, err := s.visible(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if id == actor.ID || role == panel.RoleAdmin {
			return panel.Forbidden("id", "err.delete.self")
		}
		var login string
		var isDefault int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT login, is_default FROM accounts WHERE id = ?`), id).Scan(&login, &isDefault); err != nil {
			return panel.Internal(err)
		}
		if isDefault == 1 {
			return panel.Forbidden("id", "err.delete.default")
		}
		// Journal every user that goes (the reseller's own users, or the
		// user itself), so the agent removes it from the system. A
		// reseller has nothing on the system of its own: its web space is
		// its default account, one of its users.
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id, login FROM accounts WHERE role = 'user' AND (id = ? OR parent_id = ?)`), id, id)
		if err != nil {
			return panel.Internal(err)
		}
		type gone struct {
			id    int64
			login string
		}
		var all []gone
		for rows.Next() {
			var g gone
			if err := rows.Scan(&g.id, &g.login); err != nil {
				rows.Close()
				return panel.Internal(err)
			}
			all = append(all, g)
		}
		rows.Close()
		for _, g := range all {
			if err := s.journal(ctx, tx, g.id, g.login, "delete"); err != nil {
				return err
			}
		}
		if role == panel.RoleUser {
			if err := s.forgetUser(ctx, tx, id, parent); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM accounts WHERE id = ?`), id); err != nil {
			return panel.Internal(fmt.Errorf("delete %s: %w", login, err))
		}
		if role == panel.RoleUser {
			return s.addMessage(ctx, tx, parent, panel.MsgNotice, login, "msg.user.deleted")
		}
		return nil
	})
}

// AccountSetting returns a per-account setting, def when unset.
func (s *Store) AccountSetting(ctx context.Context, accountID int64, key, def string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM account_settings WHERE account_id = ? AND key = ?`), accountID, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return def, panel.Internal(err)
	}
	return v, nil
}

// SetAccountSetting stores a per-account setting of the actor itself.
func (s *Store) SetAccountSetting(ctx context.Context, actor panel.Actor, key, value string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO account_settings (account_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value`), actor.ID, key, value)
	if err != nil {
		return panel.Internal(err)
	}
	return nil
}

// Settings returns the server settings as stored.
func (s *Store) Settings(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return nil, panel.Internal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, panel.Internal(err)
		}
		m[k] = v
	}
	return m, rows.Err()
}

// SetSettings stores server settings (admin only).
func (s *Store) SetSettings(ctx context.Context, actor panel.Actor, kv map[string]string) error {
	if !actor.IsAdmin() {
		return panel.Forbidden("", "err.forbidden")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		// Before the writes: it compares with the stored values.
		if err := s.journalServerFacts(ctx, tx, kv); err != nil {
			return err
		}
		for k, v := range kv {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO settings (key, value) VALUES (?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`), k, v); err != nil {
				return panel.Internal(err)
			}
		}
		return nil
	})
}

// journal records a change to a user's desired state for the agent.
func (s *Store) journal(ctx context.Context, tx *sql.Tx, id int64, login, what string) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO changes (account_id, login, what, created_at) VALUES (?, ?, ?, ?)`),
		id, login, what, s.now().Unix())
	if err != nil {
		return panel.Internal(fmt.Errorf("journal: %w", err))
	}
	return nil
}

// likePattern escapes a search term for LIKE … ESCAPE '!'.
func likePattern(term string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(strings.ToLower(term)) + "%"
}
