package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kontor/internal/panel"
)

// Session is a server-side login session. The cookie carries a random
// token; only its hash is stored, so a leaked database opens no session.
type Session struct {
	TokenHash string
	AccountID int64
	ActingID  int64 // reseller acting in a user's panel (ROLE-3)
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Account is the session's account as read with it, so a request
	// needs one query for both.
	Account panel.Account
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, ss Session) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO sessions (token_hash, account_id, acting_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		ss.TokenHash, ss.AccountID, ss.ActingID, ss.CSRF, ss.CreatedAt.Unix(), ss.ExpiresAt.Unix())
	if err != nil {
		return panel.Internal(fmt.Errorf("create session: %w", err))
	}
	return nil
}

// SessionActor returns the session and the actor it belongs to. Expired
// sessions and sessions of locked accounts (or of users whose reseller is
// locked) are not found.
func (s *Store) SessionActor(ctx context.Context, tokenHash string) (Session, panel.Actor, error) {
	var ss Session
	var act panel.Actor
	var role, status, pstatus string
	var created, expires, parent, acreated int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT s.token_hash, s.account_id, s.acting_id, s.csrf, s.created_at, s.expires_at,
		a.login, a.role, a.status, COALESCE(a.parent_id, 0), COALESCE(p.status, 'enabled'), a.language, a.design, a.created_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN accounts p ON p.id = a.parent_id
		WHERE s.token_hash = ?`), tokenHash).Scan(&ss.TokenHash, &ss.AccountID, &ss.ActingID, &ss.CSRF, &created, &expires,
		&act.Login, &role, &status, &parent, &pstatus, &ss.Account.Language, &ss.Account.Design, &acreated)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, act, &panel.Error{Kind: panel.KindUnauthorized, Key: "err.session"}
	}
	if err != nil {
		return ss, act, panel.Internal(fmt.Errorf("session: %w", err))
	}
	ss.CreatedAt, ss.ExpiresAt = time.Unix(created, 0), time.Unix(expires, 0)
	if !s.now().Before(ss.ExpiresAt) || status != string(panel.StatusEnabled) || pstatus != string(panel.StatusEnabled) {
		return ss, act, &panel.Error{Kind: panel.KindUnauthorized, Key: "err.session"}
	}
	act.ID, act.Role, act.ActingID = ss.AccountID, panel.Role(role), ss.ActingID
	ss.Account.ID, ss.Account.Login, ss.Account.Role, ss.Account.ParentID = act.ID, act.Login, act.Role, parent
	ss.Account.Status, ss.Account.CreatedAt = panel.Status(status), time.Unix(acreated, 0)
	switch act.Role {
	case panel.RoleReseller:
		act.ResellerID = act.ID
	case panel.RoleUser:
		act.ResellerID = parent
	}
	return ss, act, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE token_hash = ?`), tokenHash); err != nil {
		return panel.Internal(err)
	}
	return nil
}

// DeleteOtherSessions ends every session of the account but keep (after a
// password change, other devices must log in again).
func (s *Store) DeleteOtherSessions(ctx context.Context, accountID int64, keep string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE account_id = ? AND token_hash <> ?`), accountID, keep); err != nil {
		return panel.Internal(err)
	}
	return nil
}

// PurgeSessions removes expired sessions.
func (s *Store) PurgeSessions(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_at <= ?`), s.now().Unix()); err != nil {
		return panel.Internal(err)
	}
	return nil
}

// LoginLockedUntil returns until when key (an account or an address) is
// locked out of login; the zero time when it is not.
func (s *Store) LoginLockedUntil(ctx context.Context, key string) (time.Time, error) {
	var until int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT locked_until FROM login_failures WHERE key = ?`), key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && until <= s.now().Unix()) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, panel.Internal(err)
	}
	return time.Unix(until, 0), nil
}

// RecordLoginFailure counts a failed login for key. When max failures fall
// within window, key is locked for lockFor and the lock's end is returned.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, max int, window, lockFor time.Duration) (time.Time, error) {
	now := s.now().Unix()
	var until int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var failures int
		var start int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT failures, window_start FROM login_failures WHERE key = ?`+s.forUpdate()), key).Scan(&failures, &start)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			failures, start = 0, now
		case err != nil:
			return panel.Internal(err)
		}
		if now-start > int64(window.Seconds()) {
			failures, start = 0, now
		}
		failures++
		if failures >= max {
			until = now + int64(lockFor.Seconds())
			failures, start = 0, now
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO login_failures (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
			locked_until = CASE WHEN excluded.locked_until > login_failures.locked_until THEN excluded.locked_until ELSE login_failures.locked_until END`),
			key, failures, start, until)
		if err != nil {
			return panel.Internal(err)
		}
		return nil
	})
	if until == 0 {
		return time.Time{}, err
	}
	return time.Unix(until, 0), err
}

// ClearLoginFailures forgets the failures of key after a good login.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM login_failures WHERE key = ?`), key); err != nil {
		return panel.Internal(err)
	}
	return nil
}
