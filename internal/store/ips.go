package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"

	"kontor/internal/panel"
)

// IP is an address of the server: shared by all, or exclusive and owned by
// one reseller, who assigns it to one of its users' domains (ROLE-5, USR-2).
type IP struct {
	ID            int64
	Address       string
	Shared        bool
	ResellerID    int64
	ResellerLogin string
	Domains       int // domains using it
}

// AddIP registers an address (admin only). Exclusive addresses may be given
// to a reseller at once.
func (s *Store) AddIP(ctx context.Context, actor panel.Actor, address string, shared bool, resellerID int64) (IP, error) {
	if !actor.IsAdmin() {
		return IP{}, panel.Forbidden("", "err.forbidden")
	}
	a, err := netip.ParseAddr(address)
	if err != nil || a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
		return IP{}, panel.Invalid("address", "err.ip")
	}
	if shared && resellerID != 0 {
		return IP{}, panel.Invalid("reseller", "err.ip.shared_owner")
	}
	var id int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if resellerID != 0 {
			if err := s.isReseller(ctx, tx, resellerID); err != nil {
				return err
			}
		}
		var owner any
		if resellerID != 0 {
			owner = resellerID
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO ip_addresses (address, shared, reseller_id) VALUES (?, ?, ?) RETURNING id`),
			a.String(), b2i(shared), owner).Scan(&id)
		if isUnique(err) {
			return panel.Conflict("address", "err.ip.taken", a.String())
		}
		if err != nil {
			return panel.Internal(err)
		}
		return nil
	})
	if err != nil {
		return IP{}, err
	}
	return IP{ID: id, Address: a.String(), Shared: shared, ResellerID: resellerID}, nil
}

func (s *Store) isReseller(ctx context.Context, q queryer, id int64) error {
	var n int
	if err := q.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts WHERE id = ? AND role = 'reseller'`), id).Scan(&n); err != nil {
		return panel.Internal(err)
	}
	if n == 0 {
		return panel.NotFound("reseller")
	}
	return nil
}

// IPs lists addresses: all for the admin, its own exclusive ones and the
// shared ones for a reseller.
func (s *Store) IPs(ctx context.Context, actor panel.Actor) ([]IP, error) {
	where, args := "", []any{}
	switch actor.Role {
	case panel.RoleAdmin:
	case panel.RoleReseller:
		where, args = ` WHERE i.shared = 1 OR i.reseller_id = ?`, []any{actor.ID}
	default:
		return nil, panel.Forbidden("", "err.forbidden")
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT i.id, i.address, i.shared, COALESCE(i.reseller_id, 0), COALESCE(a.login, ''),
		(SELECT COUNT(*) FROM domains d WHERE d.ip_id = i.id)
		FROM ip_addresses i LEFT JOIN accounts a ON a.id = i.reseller_id`+where+` ORDER BY i.address`), args...)
	if err != nil {
		return nil, panel.Internal(err)
	}
	defer rows.Close()
	var out []IP
	for rows.Next() {
		var ip IP
		var shared int
		if err := rows.Scan(&ip.ID, &ip.Address, &shared, &ip.ResellerID, &ip.ResellerLogin, &ip.Domains); err != nil {
			return nil, panel.Internal(err)
		}
		ip.Shared = shared == 1
		out = append(out, ip)
	}
	return out, rows.Err()
}

// SetIPOwner gives an exclusive address to a reseller, or takes it back
// (resellerID 0). An address still used by domains cannot change hands.
func (s *Store) SetIPOwner(ctx context.Context, actor panel.Actor, ipID, resellerID int64) error {
	if !actor.IsAdmin() {
		return panel.Forbidden("", "err.forbidden")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var shared, used int
		var owner int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT shared, COALESCE(reseller_id, 0), (SELECT COUNT(*) FROM domains d WHERE d.ip_id = ip_addresses.id)
			FROM ip_addresses WHERE id = ?`), ipID).Scan(&shared, &owner, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.NotFound("ip")
		}
		if err != nil {
			return panel.Internal(err)
		}
		if shared == 1 {
			return panel.Invalid("reseller", "err.ip.shared_owner")
		}
		if used > 0 && owner != resellerID {
			return panel.Conflict("reseller", "err.ip.in_use", used)
		}
		var newOwner any
		if resellerID != 0 {
			if err := s.isReseller(ctx, tx, resellerID); err != nil {
				return err
			}
			newOwner = resellerID
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE ip_addresses SET reseller_id = ? WHERE id = ?`), newOwner, ipID); err != nil {
			return panel.Internal(fmt.Errorf("ip owner: %w", err))
		}
		return nil
	})
}

// DeleteIP removes an address no domain uses (admin only).
func (s *Store) DeleteIP(ctx context.Context, actor panel.Actor, ipID int64) error {
	if !actor.IsAdmin() {
		return panel.Forbidden("", "err.forbidden")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var used int
		err := tx.QueryRowContext(ctx, s.q(`SELECT (SELECT COUNT(*) FROM domains d WHERE d.ip_id = ip_addresses.id) FROM ip_addresses WHERE id = ?`), ipID).Scan(&used)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.NotFound("ip")
		}
		if err != nil {
			return panel.Internal(err)
		}
		if used > 0 {
			return panel.Conflict("id", "err.ip.in_use", used)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM ip_addresses WHERE id = ?`), ipID); err != nil {
			return panel.Internal(err)
		}
		return nil
	})
}

// SetDomainIP puts a domain on an address: 0 for the server's default, a
// shared address, or an exclusive address of the user's reseller that no
// other user uses ("only for this user", USR-2 step 4).
func (s *Store) SetDomainIP(ctx context.Context, actor panel.Actor, domainID, ipID int64) error {
	if actor.Role == panel.RoleUser {
		return panel.Forbidden("ip", "err.forbidden")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var userID int64
		var name string
		err := tx.QueryRowContext(ctx, s.q(`SELECT user_id, name FROM domains WHERE id = ?`), domainID).Scan(&userID, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.NotFound("domain")
		}
		if err != nil {
			return panel.Internal(err)
		}
		_, reseller, err := s.visible(ctx, tx, actor, userID)
		if err != nil {
			return panel.NotFound("domain")
		}
		var ip any
		if ipID != 0 {
			var shared int
			var owner int64
			err := tx.QueryRowContext(ctx, s.q(`SELECT shared, COALESCE(reseller_id, 0) FROM ip_addresses WHERE id = ?`+s.forUpdate()), ipID).Scan(&shared, &owner)
			if errors.Is(err, sql.ErrNoRows) {
				return panel.NotFound("ip")
			}
			if err != nil {
				return panel.Internal(err)
			}
			if shared == 0 {
				if owner != reseller {
					return panel.NotFound("ip")
				}
				var others int
				if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM domains WHERE ip_id = ? AND user_id <> ?`), ipID, userID).Scan(&others); err != nil {
					return panel.Internal(err)
				}
				if others > 0 {
					return panel.Conflict("ip", "err.ip.exclusive_taken")
				}
			}
			ip = ipID
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE domains SET ip_id = ? WHERE id = ?`), ip, domainID); err != nil {
			return panel.Internal(err)
		}
		var login string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT login FROM accounts WHERE id = ?`), userID).Scan(&login); err != nil {
			return panel.Internal(err)
		}
		return s.journal(ctx, tx, userID, login, "domain")
	})
}
