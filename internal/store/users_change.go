package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kontor/internal/panel"
)

// This file holds the changes of existing users (USR-3) and the checks the
// create-user wizard runs before anything is stored (USR-2). Every method
// checks ownership inside its transaction, journals the user for the agent
// and leaves a notice in the reseller's Messages (GEN-4).

// changer refuses actors that may not change users at all: only the admin
// and resellers do; a user (or a reseller visiting a user's panel, who acts
// as that user) never changes its own limits, status or domains here.
func changer(actor panel.Actor) error {
	if actor.Role == panel.RoleAdmin || actor.Role == panel.RoleReseller && actor.ActingID == 0 {
		return nil
	}
	return panel.Forbidden("", "err.forbidden")
}

// visibleUser checks that id is a user in the actor's subtree and returns
// its reseller and login.
func (s *Store) visibleUser(ctx context.Context, tx *sql.Tx, actor panel.Actor, id int64) (reseller int64, login string, err error) {
	parent, err := s.visibleUserID(ctx, tx, actor, id)
	if err != nil {
		return 0, "", err
	}
	if err := tx.QueryRowContext(ctx, s.q(`SELECT login FROM accounts WHERE id = ?`), id).Scan(&login); err != nil {
		return 0, "", panel.Internal(fmt.Errorf("user %d: %w", id, err))
	}
	return parent, login, nil
}

// lockReseller takes the reseller's row lock that CreateUsers takes too, so
// that creations and limit changes of one reseller are serialised and a
// hard limit holds under any concurrency (LIM-3).
func (s *Store) lockReseller(ctx context.Context, tx *sql.Tx, resellerID int64) error {
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM accounts WHERE id = ? AND role = 'reseller'`+s.forUpdate()), resellerID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return panel.NotFound("reseller")
	}
	if err != nil {
		return panel.Internal(fmt.Errorf("lock reseller: %w", err))
	}
	return nil
}

// lockUserLimit checks that userID is a user in the actor's subtree,
// locks its row for the rest of the transaction and returns its limit of
// r: the count-and-insert of an object (a cron job, a database) then holds
// the limit however many requests run at once (LIM-4). A missing limit
// row is 0, not available.
func (s *Store) lockUserLimit(ctx context.Context, tx *sql.Tx, actor panel.Actor, userID int64, r panel.Resource) (reseller int64, login string, limit int64, err error) {
	reseller, login, err = s.visibleUser(ctx, tx, actor, userID)
	if err != nil {
		return 0, "", 0, err
	}
	// SQLite's immediate transaction already holds the write lock.
	if _, err := tx.ExecContext(ctx, s.q(`SELECT id FROM accounts WHERE id = ?`+s.forUpdate()), userID); err != nil {
		return 0, "", 0, panel.Internal(fmt.Errorf("lock user: %w", err))
	}
	err = tx.QueryRowContext(ctx, s.q(`SELECT value FROM user_limits WHERE account_id = ? AND resource = ?`), userID, string(r)).Scan(&limit)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, "", 0, panel.Internal(err)
	}
	return reseller, login, limit, nil
}

// DomainTaken reports whether any user on the server has the domain name
// (already normalized by panel.NormalizeDomain). The wizard asks before the
// user exists, so that a taken domain is refused at step 4, not at the end.
func (s *Store) DomainTaken(ctx context.Context, name string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM domains WHERE name = ?`), name).Scan(&n); err != nil {
		return false, panel.Internal(fmt.Errorf("domain taken: %w", err))
	}
	return n > 0, nil
}

// CheckNewUser decides, without storing anything, whether the actor (a
// reseller) may create one more user with these limits and services: the
// wizard's step 2 check. It returns the resources where the grant passes a
// maximum (allowed, highlighted). CreateUser checks again under the
// reseller's lock, since another request may take the last slot meanwhile.
func (s *Store) CheckNewUser(ctx context.Context, actor panel.Actor, limits panel.Limits, services panel.ServiceSet) ([]panel.Resource, error) {
	if actor.Role != panel.RoleReseller || actor.ActingID != 0 {
		return nil, panel.Forbidden("", "err.forbidden")
	}
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	if err := services.Validate(); err != nil {
		return nil, err
	}
	var over []panel.Resource
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rl, err := s.resellerLimits(ctx, tx, actor.ID)
		if err != nil {
			return err
		}
		allowed, err := s.services(ctx, tx, actor.ID)
		if err != nil {
			return err
		}
		if err := panel.CheckServices(allowed, services); err != nil {
			return err
		}
		users, err := s.countUsers(ctx, tx, actor.ID)
		if err != nil {
			return err
		}
		o, err := panel.CheckGrant(panel.ResUsers, rl[panel.ResUsers], panel.Allocation{Sum: users}, 1)
		if err != nil {
			return err
		}
		if o {
			over = append(over, panel.ResUsers)
		}
		alloc, _, err := s.totals(ctx, tx, actor.ID)
		if err != nil {
			return err
		}
		for _, r := range panel.Resources() {
			o, err := panel.CheckGrant(r, rl[r], alloc[r], limits[r])
			if err != nil {
				return err
			}
			if o {
				over = append(over, r)
			}
		}
		return nil
	})
	return over, err
}

// SetUserProfile replaces a user's personal data and, unless empty, its
// language and design (USR-3 "change personal data").
func (s *Store) SetUserProfile(ctx context.Context, actor panel.Actor, userID int64, prof panel.Profile, lang, design string) error {
	if err := changer(actor); err != nil {
		return err
	}
	prof, err := prof.Clean(false)
	if err != nil {
		return err
	}
	if lang != "" && !panel.ValidLanguage(lang) {
		return panel.Invalid("language", "err.language")
	}
	if design != "" && !panel.ValidDesign(design) {
		return panel.Invalid("design", "err.design")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		reseller, login, err := s.visibleUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		p := prof
		_, err = tx.ExecContext(ctx, s.q(`UPDATE accounts SET name = ?, company = ?, street = ?, zip = ?, city = ?, country = ?,
			email = ?, phone = ?, custom1 = ?, custom2 = ?, custom3 = ?, show_fields = ?, updated_at = ? WHERE id = ?`),
			p.Name, p.Company, p.Street, p.Zip, p.City, p.Country, p.Email, p.Phone, p.Custom[0], p.Custom[1], p.Custom[2],
			p.ShowString(), s.now().Unix(), userID)
		if err != nil {
			return panel.Internal(fmt.Errorf("set profile: %w", err))
		}
		if lang != "" {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE accounts SET language = ? WHERE id = ?`), lang, userID); err != nil {
				return panel.Internal(err)
			}
		}
		if design != "" {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE accounts SET design = ? WHERE id = ?`), design, userID); err != nil {
				return panel.Internal(err)
			}
		}
		if err := s.refreshSearch(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.journal(ctx, tx, userID, login, "profile"); err != nil {
			return err
		}
		return s.addMessage(ctx, tx, reseller, panel.MsgNotice, login, "msg.user.changed")
	})
}

// SetUserPlan changes a user's limits and services (USR-3 "change
// services", "services from a template"). Only the resources present in
// limits change; services, when not nil, replace the user's services
// entirely. The check runs under the reseller's row lock with the
// reseller's allocation minus this user's old value, so a hard limit holds
// however many changes run at once. Lowering is always allowed, even when
// the reseller is over a limit the admin lowered meanwhile. fromTemplate
// names the template the values come from, for the notice. It returns the
// resources where a raise passes a maximum (allowed, highlighted).
func (s *Store) SetUserPlan(ctx context.Context, actor panel.Actor, userID int64, limits panel.Limits, services panel.ServiceSet, fromTemplate string) ([]panel.Resource, error) {
	if err := changer(actor); err != nil {
		return nil, err
	}
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	if _, ok := limits[panel.ResUsers]; ok {
		return nil, panel.Invalid(panel.ResUsers.Field(), "err.limit.unknown", string(panel.ResUsers))
	}
	if err := services.Validate(); err != nil {
		return nil, err
	}
	var over []panel.Resource
	err := s.tx(ctx, func(tx *sql.Tx) error {
		over = nil
		reseller, login, err := s.visibleUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		if err := s.lockReseller(ctx, tx, reseller); err != nil {
			return err
		}
		old, err := s.userLimits(ctx, tx, userID)
		if err != nil {
			return err
		}
		rl, err := s.resellerLimits(ctx, tx, reseller)
		if err != nil {
			return err
		}
		alloc, _, err := s.totals(ctx, tx, reseller)
		if err != nil {
			return err
		}
		delta := totalsDelta{}
		changed := false
		for _, r := range panel.Resources() {
			nv, ok := limits[r]
			if !ok || nv == old[r] {
				continue
			}
			ov := old[r]
			raise := nv == panel.Unlimited || ov != panel.Unlimited && nv > ov
			if raise {
				// The reseller's allocation without this user's old value:
				// the user gives back what it had and asks for the new value.
				rest := alloc[r]
				if ov != panel.Unlimited {
					rest.Sum -= ov
				}
				o, err := panel.CheckGrant(r, rl[r], rest, nv)
				if err != nil {
					return err
				}
				if o {
					over = append(over, r)
				}
			}
			delta.limit(r, ov, nv)
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO user_limits (account_id, resource, value) VALUES (?, ?, ?)
				ON CONFLICT (account_id, resource) DO UPDATE SET value = excluded.value`), userID, string(r), nv)
			if err != nil {
				return panel.Internal(fmt.Errorf("user limit %s: %w", r, err))
			}
			changed = true
		}
		if services != nil {
			allowed, err := s.services(ctx, tx, reseller)
			if err != nil {
				return err
			}
			oldSvc, err := s.services(ctx, tx, userID)
			if err != nil {
				return err
			}
			for _, sv := range panel.Services() {
				// A service the admin took from the reseller may stay where
				// it is, but it cannot be switched on or raised.
				if services[sv] > allowed[sv] && services[sv] > oldSvc[sv] {
					return panel.Forbidden(sv.Field(), "err.service.not_offered", sv)
				}
				if services[sv] != oldSvc[sv] {
					changed = true
				}
			}
			// FrontPage excludes custom error files and protected
			// directories (USR-5); the user's row lock orders this check
			// against a concurrent FrontPage switch.
			if _, err := tx.ExecContext(ctx, s.q(`SELECT id FROM accounts WHERE id = ?`+s.forUpdate()), userID); err != nil {
				return panel.Internal(err)
			}
			fp, err := s.frontPage(ctx, tx, userID)
			if err != nil {
				return err
			}
			if err := panel.CheckFrontPage(services, fp.On); err != nil {
				return err
			}
			if err := s.putServices(ctx, tx, userID, services); err != nil {
				return err
			}
		}
		if err := s.applyTotals(ctx, tx, reseller, delta); err != nil {
			return err
		}
		if !changed && fromTemplate == "" {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE accounts SET updated_at = ? WHERE id = ?`), s.now().Unix(), userID); err != nil {
			return panel.Internal(err)
		}
		if err := s.journal(ctx, tx, userID, login, "services"); err != nil {
			return err
		}
		if fromTemplate != "" {
			return s.addMessage(ctx, tx, reseller, panel.MsgNotice, login, "msg.user.template", fromTemplate)
		}
		return s.addMessage(ctx, tx, reseller, panel.MsgNotice, login, "msg.user.services")
	})
	return over, err
}

// SetUserPassword stores a new password hash for a user in the actor's
// subtree, ends the user's sessions (a reset usually means the old
// password leaked) and journals the user, whose FTP and mail logins change
// too. It removes the user's daemon-side secrets (they belong to the old
// password); callers that hold the plaintext use SetUserPasswordSecrets.
func (s *Store) SetUserPassword(ctx context.Context, actor panel.Actor, userID int64, hash string) error {
	return s.SetUserPasswordSecrets(ctx, actor, userID, hash, nil)
}

// SetUserPasswordSecrets is SetUserPassword that also replaces the user's
// daemon-side secrets, derived from the same plaintext (SecretMySQL,
// SecretHtpasswd), in the same transaction.
func (s *Store) SetUserPasswordSecrets(ctx context.Context, actor panel.Actor, userID int64, hash string, secrets map[string]string) error {
	if err := changer(actor); err != nil {
		return err
	}
	if hash == "" {
		return panel.Invalid("password", "err.required")
	}
	if err := checkSecrets(panel.RoleUser, secrets); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		reseller, login, err := s.visibleUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?`), hash, s.now().Unix(), userID); err != nil {
			return panel.Internal(fmt.Errorf("set password: %w", err))
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE account_id = ?`), userID); err != nil {
			return panel.Internal(fmt.Errorf("end sessions: %w", err))
		}
		if err := s.putSecrets(ctx, tx, userID, secrets); err != nil {
			return err
		}
		if err := s.journal(ctx, tx, userID, login, "password"); err != nil {
			return err
		}
		return s.addMessage(ctx, tx, reseller, panel.MsgNotice, login, "msg.user.password")
	})
}

// Domain returns a domain of a user in the actor's subtree.
func (s *Store) Domain(ctx context.Context, actor panel.Actor, domainID int64) (panel.Domain, error) {
	var d panel.Domain
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var dns, dnr int
		err := tx.QueryRowContext(ctx, s.q(`SELECT id, user_id, name, dns, dnr, COALESCE(ip_id, 0) FROM domains WHERE id = ?`), domainID).Scan(
			&d.ID, &d.UserID, &d.Name, &dns, &dnr, &d.IPID)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.NotFound("domain")
		}
		if err != nil {
			return panel.Internal(err)
		}
		d.DNS, d.DNR = dns == 1, dnr == 1
		if _, _, err := s.visible(ctx, tx, actor, d.UserID); err != nil {
			return panel.NotFound("domain")
		}
		return nil
	})
	return d, err
}

// SetDomainFlags switches a domain's DNS (our name servers serve the zone)
// and DNR (the provider handles the registration) flags (USR-2 step 4).
func (s *Store) SetDomainFlags(ctx context.Context, actor panel.Actor, domainID int64, dns, dnr bool) error {
	if err := changer(actor); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var userID int64
		var name string
		var odns, odnr int
		err := tx.QueryRowContext(ctx, s.q(`SELECT user_id, name, dns, dnr FROM domains WHERE id = ?`), domainID).Scan(&userID, &name, &odns, &odnr)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.NotFound("domain")
		}
		if err != nil {
			return panel.Internal(err)
		}
		reseller, login, err := s.visibleUser(ctx, tx, actor, userID)
		if err != nil {
			return panel.NotFound("domain")
		}
		if odns == b2i(dns) && odnr == b2i(dnr) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE domains SET dns = ?, dnr = ? WHERE id = ?`), b2i(dns), b2i(dnr), domainID); err != nil {
			return panel.Internal(fmt.Errorf("domain flags: %w", err))
		}
		if err := s.journal(ctx, tx, userID, login, "domain"); err != nil {
			return err
		}
		return s.addMessage(ctx, tx, reseller, panel.MsgNotice, login, "msg.domain.changed", name)
	})
}

// One-time form tokens protect a form whose submission must act once: a
// reload or a double click of the wizard's final "Create" creates one user
// (USR-2). They live in account_settings of the actor, under keys
// "once:<purpose>:<issued unix time>:<random>", so that old ones can be
// swept by key order without a table of their own.
const (
	tokenNew  = "new"
	tokenBusy = "busy"
	tokenDone = "done:"
	tokenTTL  = 24 * time.Hour
)

func tokenKey(purpose, token string) (string, error) {
	ts, rnd, ok := strings.Cut(token, ".")
	if !ok || len(ts) != 10 || len(rnd) != 32 || strings.Trim(ts, "0123456789") != "" || strings.Trim(rnd, "0123456789abcdef") != "" {
		return "", panel.Invalid("once", "err.once.expired")
	}
	return "once:" + purpose + ":" + ts + ":" + rnd, nil
}

// NewFormToken issues a one-time token for a form of the actor and sweeps
// the actor's tokens of that purpose older than a day.
func (s *Store) NewFormToken(ctx context.Context, actor panel.Actor, purpose string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", panel.Internal(err)
	}
	now := s.now()
	token := fmt.Sprintf("%010d.%s", now.Unix(), hex.EncodeToString(b))
	key, err := tokenKey(purpose, token)
	if err != nil {
		return "", panel.Internal(err)
	}
	cutoff := fmt.Sprintf("once:%s:%010d", purpose, now.Add(-tokenTTL).Unix())
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM account_settings WHERE account_id = ? AND key LIKE ? AND key < ?`),
			actor.ID, "once:"+purpose+":%", cutoff); err != nil {
			return panel.Internal(fmt.Errorf("sweep tokens: %w", err))
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO account_settings (account_id, key, value) VALUES (?, ?, ?)`), actor.ID, key, tokenNew); err != nil {
			return panel.Internal(fmt.Errorf("new token: %w", err))
		}
		return nil
	})
	return token, err
}

// ClaimFormToken takes a token for one submission. It returns claimed when
// this request may act; otherwise doneID is the object an earlier
// submission with this token made (0 while that one is still running, with
// a conflict error). An unknown or expired token is invalid.
func (s *Store) ClaimFormToken(ctx context.Context, actor panel.Actor, purpose, token string) (claimed bool, doneID int64, err error) {
	key, err := tokenKey(purpose, token)
	if err != nil {
		return false, 0, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE account_settings SET value = ? WHERE account_id = ? AND key = ? AND value = ?`),
			tokenBusy, actor.ID, key, tokenNew)
		if err != nil {
			return panel.Internal(fmt.Errorf("claim token: %w", err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return panel.Internal(err)
		} else if n == 1 {
			claimed = true
			return nil
		}
		var v string
		err = tx.QueryRowContext(ctx, s.q(`SELECT value FROM account_settings WHERE account_id = ? AND key = ?`), actor.ID, key).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.Invalid("once", "err.once.expired")
		}
		if err != nil {
			return panel.Internal(err)
		}
		if id, ok := strings.CutPrefix(v, tokenDone); ok {
			doneID, _ = strconv.ParseInt(id, 10, 64)
			return nil
		}
		return panel.Conflict("once", "err.once.busy")
	})
	return claimed, doneID, err
}

// FinishFormToken records what the claimed submission made.
func (s *Store) FinishFormToken(ctx context.Context, actor panel.Actor, purpose, token string, id int64) error {
	return s.setToken(ctx, actor, purpose, token, tokenDone+strconv.FormatInt(id, 10))
}

// ReleaseFormToken hands a claimed token back after the submission failed,
// so that the corrected form can be sent again.
func (s *Store) ReleaseFormToken(ctx context.Context, actor panel.Actor, purpose, token string) error {
	return s.setToken(ctx, actor, purpose, token, tokenNew)
}

func (s *Store) setToken(ctx context.Context, actor panel.Actor, purpose, token, value string) error {
	key, err := tokenKey(purpose, token)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE account_settings SET value = ? WHERE account_id = ? AND key = ?`), value, actor.ID, key); err != nil {
		return panel.Internal(fmt.Errorf("token: %w", err))
	}
	return nil
}
