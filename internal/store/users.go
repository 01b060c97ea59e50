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

// NewUser is a user as the reseller's wizard (or the CLI) submits it.
type NewUser struct {
	ResellerID   int64
	PasswordHash string
	Language     string
	Design       string
	Profile      panel.Profile
	Limits       panel.Limits
	Services     panel.ServiceSet
	Domains      []NewDomain
	// Secrets are the daemon-side credentials derived from the password
	// (kind → value: SecretMySQL, SecretHtpasswd), stored with the user.
	Secrets map[string]string
}

// NewDomain is a domain to add; Name must already be normalized.
type NewDomain struct {
	Name string
	DNS  bool
	DNR  bool
}

// CreateResult tells what CreateUser did beyond creating the user.
type CreateResult struct {
	User panel.User
	// Over lists resources where the grant passed a reseller maximum: it
	// was allowed, and the overview highlights it (LIM-3).
	Over []panel.Resource
}

// CreateUser adds the next webN for a reseller. The reseller's row is
// locked for the whole check-and-insert, so hard limits hold under any
// number of concurrent requests (LIM-3).
func (s *Store) CreateUser(ctx context.Context, actor panel.Actor, nu NewUser) (CreateResult, error) {
	res, err := s.CreateUsers(ctx, actor, nu.ResellerID, []NewUser{nu})
	if err != nil {
		return CreateResult{}, err
	}
	return res[0], nil
}

// CreateUsers adds several users of one reseller in one transaction (an
// import from another panel, or the demo): all or none, with the limits
// checked as if they were created one after the other.
func (s *Store) CreateUsers(ctx context.Context, actor panel.Actor, resellerID int64, batch []NewUser) ([]CreateResult, error) {
	if !(actor.IsAdmin() || actor.Role == panel.RoleReseller && actor.ID == resellerID && actor.ActingID == 0) {
		return nil, panel.NotFound("reseller")
	}
	profiles := make([]panel.Profile, len(batch))
	seen := map[string]bool{}
	for i := range batch {
		nu := &batch[i]
		if nu.ResellerID != resellerID {
			return nil, panel.NotFound("reseller")
		}
		if nu.Language != "" && !panel.ValidLanguage(nu.Language) {
			return nil, panel.Invalid("language", "err.language")
		}
		if nu.Design != "" && !panel.ValidDesign(nu.Design) {
			return nil, panel.Invalid("design", "err.design")
		}
		if err := nu.Limits.Validate(); err != nil {
			return nil, err
		}
		if err := nu.Services.Validate(); err != nil {
			return nil, err
		}
		if err := checkSecrets(panel.RoleUser, nu.Secrets); err != nil {
			return nil, err
		}
		var err error
		if profiles[i], err = nu.Profile.Clean(false); err != nil {
			return nil, err
		}
		doms := make([]NewDomain, len(nu.Domains))
		for j, d := range nu.Domains {
			field := fmt.Sprintf("domains.%d", j)
			name, err := panel.NormalizeDomain(field, d.Name)
			if err != nil {
				return nil, err
			}
			if seen[name] {
				return nil, panel.Conflict(field, "err.domain.taken", name)
			}
			seen[name] = true
			d.Name = name
			doms[j] = d
		}
		nu.Domains = doms
	}
	ids := make([]int64, len(batch))
	overs := make([][]panel.Resource, len(batch))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var rlang, rdesign string
		err := tx.QueryRowContext(ctx, s.q(`SELECT language, design FROM accounts WHERE id = ? AND role = 'reseller'`+s.forUpdate()),
			resellerID).Scan(&rlang, &rdesign)
		if errors.Is(err, sql.ErrNoRows) {
			return panel.NotFound("reseller")
		}
		if err != nil {
			return panel.Internal(fmt.Errorf("lock reseller: %w", err))
		}
		limits, err := s.resellerLimits(ctx, tx, resellerID)
		if err != nil {
			return err
		}
		allowed, err := s.services(ctx, tx, resellerID)
		if err != nil {
			return err
		}
		users, err := s.countUsers(ctx, tx, resellerID)
		if err != nil {
			return err
		}
		alloc, _, err := s.totals(ctx, tx, resellerID)
		if err != nil {
			return err
		}
		delta := totalsDelta{}
		for i, nu := range batch {
			if err := panel.CheckServices(allowed, nu.Services); err != nil {
				return err
			}
			over, err := panel.CheckGrant(panel.ResUsers, limits[panel.ResUsers], panel.Allocation{Sum: users}, 1)
			if err != nil {
				return err
			}
			if over {
				overs[i] = append(overs[i], panel.ResUsers)
			}
			for _, r := range panel.Resources() {
				over, err := panel.CheckGrant(r, limits[r], alloc[r], nu.Limits[r])
				if err != nil {
					return err
				}
				if over {
					overs[i] = append(overs[i], r)
				}
				alloc[r] = alloc[r].Add(nu.Limits[r])
				delta.limit(r, 0, nu.Limits[r])
			}
			users++
			lang, design := nu.Language, nu.Design
			if lang == "" {
				lang = rlang // GEN-3: the reseller's choice is the default
			}
			if design == "" {
				design = rdesign
			}
			if ids[i], err = s.insertUser(ctx, tx, resellerID, nu, profiles[i], lang, design, delta); err != nil {
				return err
			}
		}
		return s.applyTotals(ctx, tx, resellerID, delta)
	})
	if err != nil {
		return nil, err
	}
	out := make([]CreateResult, len(batch))
	for i, id := range ids {
		out[i].Over = overs[i]
		if len(batch) == 1 {
			if out[i].User, err = s.User(ctx, actor, id); err != nil {
				return nil, err
			}
		} else {
			out[i].User = panel.User{Account: panel.Account{ID: id, Role: panel.RoleUser, ParentID: resellerID}}
		}
	}
	return out, nil
}

// insertUser writes one user with the next server-wide number, its secrets
// and, when it may have databases, its first one; d collects the
// reseller's totals change.
func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, resellerID int64, nu NewUser, prof panel.Profile, lang, design string, d totalsDelta) (int64, error) {
	var n int64
	if err := tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'user' RETURNING value`).Scan(&n); err != nil {
		return 0, panel.Internal(fmt.Errorf("user counter: %w", err))
	}
	login := panel.UserLogin(n)
	id, err := s.insertAccount(ctx, tx, accountRow{login: login, role: panel.RoleUser, parentID: resellerID,
		hash: nu.PasswordHash, language: lang, design: design, number: n, profile: prof})
	if err != nil {
		return 0, err
	}
	if err := s.putUserLimits(ctx, tx, id, nu.Limits); err != nil {
		return 0, err
	}
	if err := s.putServices(ctx, tx, id, nu.Services); err != nil {
		return 0, err
	}
	for i, d := range nu.Domains {
		if err := s.insertDomain(ctx, tx, id, fmt.Sprintf("domains.%d", i), d); err != nil {
			return 0, err
		}
	}
	if err := s.putSecrets(ctx, tx, id, nu.Secrets); err != nil {
		return 0, err
	}
	// A user with MySQL gets its first database at once, as the guide's
	// panel did, so the login the registration mail names has one.
	if nu.Limits[panel.ResMySQL] != 0 {
		if _, err := s.insertDatabase(ctx, tx, id, databaseName(login, 1), d); err != nil {
			return 0, err
		}
	}
	if err := s.refreshSearch(ctx, tx, id); err != nil {
		return 0, err
	}
	if err := s.journal(ctx, tx, id, login, "create"); err != nil {
		return 0, err
	}
	return id, s.addMessage(ctx, tx, resellerID, panel.MsgNotice, login, "msg.user.created")
}

func (s *Store) putUserLimits(ctx context.Context, tx *sql.Tx, id int64, l panel.Limits) error {
	for _, r := range panel.Resources() {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO user_limits (account_id, resource, value) VALUES (?, ?, ?)
			ON CONFLICT (account_id, resource) DO UPDATE SET value = excluded.value`), id, string(r), l[r])
		if err != nil {
			return panel.Internal(fmt.Errorf("user limit %s: %w", r, err))
		}
	}
	return nil
}

// userLimits reads a user's limits.
func (s *Store) userLimits(ctx context.Context, q queryer, id int64) (panel.Limits, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT resource, value FROM user_limits WHERE account_id = ?`), id)
	if err != nil {
		return nil, panel.Internal(fmt.Errorf("limits of %d: %w", id, err))
	}
	defer rows.Close()
	l := panel.Limits{}
	for rows.Next() {
		var r string
		var v int64
		if err := rows.Scan(&r, &v); err != nil {
			return nil, panel.Internal(err)
		}
		l[panel.Resource(r)] = v
	}
	if err := rows.Err(); err != nil {
		return nil, panel.Internal(err)
	}
	return l, nil
}

func (s *Store) insertDomain(ctx context.Context, tx *sql.Tx, userID int64, field string, d NewDomain) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO domains (user_id, name, display, dns, dnr, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
		userID, d.Name, strings.ToLower(panel.DisplayDomain(d.Name)), b2i(d.DNS), b2i(d.DNR), s.now().Unix())
	if isUnique(err) {
		return panel.Conflict(field, "err.domain.taken", d.Name)
	}
	if err != nil {
		return panel.Internal(fmt.Errorf("insert domain %s: %w", d.Name, err))
	}
	return nil
}

// User returns a user in the actor's subtree with limits, services and domains.
func (s *Store) User(ctx context.Context, actor panel.Actor, id int64) (panel.User, error) {
	var u panel.User
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		_, err := s.visibleUserID(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		var created int64
		var isDefault int
		var show string
		p := &u.Profile
		err = tx.QueryRowContext(ctx, s.q(`SELECT a.id, a.login, a.role, a.parent_id, a.status, a.language, a.design, a.created_at,
			a.number, a.is_default, r.login, a.name, a.company, a.street, a.zip, a.city, a.country, a.email, a.phone,
			a.custom1, a.custom2, a.custom3, a.show_fields
			FROM accounts a JOIN accounts r ON r.id = a.parent_id WHERE a.id = ?`), id).Scan(
			&u.ID, &u.Login, &u.Role, &u.ParentID, &u.Status, &u.Language, &u.Design, &created,
			&u.Number, &isDefault, &u.ResellerLogin, &p.Name, &p.Company, &p.Street, &p.Zip, &p.City, &p.Country,
			&p.Email, &p.Phone, &p.Custom[0], &p.Custom[1], &p.Custom[2], &show)
		if err != nil {
			return panel.Internal(fmt.Errorf("user %d: %w", id, err))
		}
		u.IsDefault = isDefault == 1
		u.CreatedAt = time.Unix(created, 0)
		if show != "" {
			p.Show = strings.Split(show, ",")
		}
		if u.Limits, err = s.userLimits(ctx, tx, id); err != nil {
			return err
		}
		if u.Services, err = s.services(ctx, tx, id); err != nil {
			return err
		}
		u.Domains, err = s.domains(ctx, tx, id)
		return err
	})
	return u, err
}

// UserByLogin finds a user in the actor's subtree by login.
func (s *Store) UserByLogin(ctx context.Context, actor panel.Actor, login string) (panel.User, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id FROM accounts WHERE login = ? AND role = 'user'`), login).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return panel.User{}, panel.NotFound("user")
	}
	if err != nil {
		return panel.User{}, panel.Internal(err)
	}
	return s.User(ctx, actor, id)
}

func (s *Store) domains(ctx context.Context, q queryer, userID int64) ([]panel.Domain, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT id, user_id, name, dns, dnr, COALESCE(ip_id, 0) FROM domains WHERE user_id = ? ORDER BY name`), userID)
	if err != nil {
		return nil, panel.Internal(err)
	}
	defer rows.Close()
	var out []panel.Domain
	for rows.Next() {
		var d panel.Domain
		var dns, dnr int
		if err := rows.Scan(&d.ID, &d.UserID, &d.Name, &dns, &dnr, &d.IPID); err != nil {
			return nil, panel.Internal(err)
		}
		d.DNS, d.DNR = dns == 1, dnr == 1
		out = append(out, d)
	}
	return out, rows.Err()
}

// UserFilter selects a page of a reseller's users.
type UserFilter struct {
	ResellerID int64  // required unless the actor is a reseller (then its own)
	Search     string // login, name or domain contains this
	Offset     int
	Limit      int
}

// UserRow is a line of the user list.
type UserRow struct {
	ID        int64
	Login     string
	Name      string
	Email     string
	Status    panel.Status
	IsDefault bool
	Domains   []string // punycode
}

// Users returns one page of a reseller's users, searched and counted in
// SQL, with the domains of just that page.
func (s *Store) Users(ctx context.Context, actor panel.Actor, f UserFilter) ([]UserRow, int, error) {
	switch actor.Role {
	case panel.RoleReseller:
		if actor.ActingID != 0 {
			return nil, 0, panel.Forbidden("", "err.forbidden")
		}
		if f.ResellerID == 0 {
			f.ResellerID = actor.ID
		}
		if f.ResellerID != actor.ID {
			return nil, 0, panel.NotFound("reseller")
		}
	case panel.RoleAdmin:
	default:
		return nil, 0, panel.Forbidden("", "err.forbidden")
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 25
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	where := `a.role = 'user'`
	var args []any
	if f.ResellerID != 0 {
		where += ` AND a.parent_id = ?`
		args = append(args, f.ResellerID)
	}
	t, err := panel.CleanText("q", f.Search, false)
	if err != nil {
		return nil, 0, err
	}
	if t != "" {
		where += ` AND a.search_text LIKE ? ESCAPE '!'`
		args = append(args, likePattern(t))
	}
	var total int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts a WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, panel.Internal(fmt.Errorf("count users: %w", err))
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT a.id, a.login, a.name, a.email, a.status, a.is_default FROM accounts a
		WHERE `+where+` ORDER BY a.number, a.id LIMIT ? OFFSET ?`), append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, panel.Internal(fmt.Errorf("list users: %w", err))
	}
	var out []UserRow
	byID := map[int64]int{}
	for rows.Next() {
		var r UserRow
		var st string
		var def int
		if err := rows.Scan(&r.ID, &r.Login, &r.Name, &r.Email, &st, &def); err != nil {
			rows.Close()
			return nil, 0, panel.Internal(err)
		}
		r.Status, r.IsDefault = panel.Status(st), def == 1
		byID[r.ID] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, panel.Internal(err)
	}
	if len(out) > 0 {
		ids := make([]any, 0, len(out))
		for _, r := range out {
			ids = append(ids, r.ID)
		}
		drows, err := s.db.QueryContext(ctx, s.q(`SELECT user_id, name FROM domains WHERE user_id IN (`+placeholders(len(ids))+`) ORDER BY name`), ids...)
		if err != nil {
			return nil, 0, panel.Internal(err)
		}
		defer drows.Close()
		for drows.Next() {
			var uid int64
			var name string
			if err := drows.Scan(&uid, &name); err != nil {
				return nil, 0, panel.Internal(err)
			}
			out[byID[uid]].Domains = append(out[byID[uid]].Domains, name)
		}
	}
	return out, total, nil
}

// AddDomain adds a domain to a user in the actor's subtree.
func (s *Store) AddDomain(ctx context.Context, actor panel.Actor, userID int64, d NewDomain) (panel.Domain, error) {
	name, err := panel.NormalizeDomain("domain", d.Name)
	if err != nil {
		return panel.Domain{}, err
	}
	d.Name = name
	if actor.Role == panel.RoleUser {
		return panel.Domain{}, panel.Forbidden("domain", "err.forbidden")
	}
	var out panel.Domain
	err = s.tx(ctx, func(tx *sql.Tx) error {
		parent, err := s.visibleUserID(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		if err := s.insertDomain(ctx, tx, userID, "domain", d); err != nil {
			return err
		}
		var login string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT login FROM accounts WHERE id = ?`), userID).Scan(&login); err != nil {
			return panel.Internal(err)
		}
		if err := s.refreshSearch(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.journal(ctx, tx, userID, login, "domain"); err != nil {
			return err
		}
		if err := s.addMessage(ctx, tx, parent, panel.MsgNotice, login, "msg.domain.created", name); err != nil {
			return err
		}
		ds, err := s.domains(ctx, tx, userID)
		for _, x := range ds {
			if x.Name == name {
				out = x
			}
		}
		return err
	})
	return out, err
}

// DeleteDomain removes a domain of a user in the actor's subtree.
func (s *Store) DeleteDomain(ctx context.Context, actor panel.Actor, domainID int64) error {
	if actor.Role == panel.RoleUser {
		return panel.Forbidden("domain", "err.forbidden")
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
		_, parent, err := s.visible(ctx, tx, actor, userID)
		if err != nil {
			return panel.NotFound("domain")
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM domains WHERE id = ?`), domainID); err != nil {
			return panel.Internal(err)
		}
		var login string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT login FROM accounts WHERE id = ?`), userID).Scan(&login); err != nil {
			return panel.Internal(err)
		}
		if err := s.refreshSearch(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.journal(ctx, tx, userID, login, "domain"); err != nil {
			return err
		}
		return s.addMessage(ctx, tx, parent, panel.MsgNotice, login, "msg.domain.deleted", name)
	})
}
