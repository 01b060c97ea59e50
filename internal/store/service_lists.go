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

// The three per-user service lists of the Users menu: FrontPage (USR-5),
// SSL (USR-6) and MySQL (USR-7). Each list is one page of a reseller's
// users, searched and counted in SQL like the user list; each change locks
// the user's row, checks the rules inside the transaction, and journals the
// user so that the agent applies it.

// listScope decides whose users a list shows: a reseller its own, the admin
// the reseller named in f (0: all). Users, and resellers visiting a user's
// panel, have no such lists.
func listScope(actor panel.Actor, f *UserFilter) error {
	switch actor.Role {
	case panel.RoleReseller:
		if actor.Acting() {
			return panel.Forbidden("", "err.forbidden")
		}
		if f.ResellerID == 0 {
			f.ResellerID = actor.ID
		}
		if f.ResellerID != actor.ID {
			return panel.NotFound("reseller")
		}
	case panel.RoleAdmin:
	default:
		return panel.Forbidden("", "err.forbidden")
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 25
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	return nil
}

// listWhere is the WHERE clause shared by the lists: users of the reseller,
// matching the search.
func listWhere(f UserFilter) (string, []any, error) {
	where := `a.role = 'user'`
	var args []any
	if f.ResellerID != 0 {
		where += ` AND a.parent_id = ?`
		args = append(args, f.ResellerID)
	}
	t, err := panel.CleanText("q", f.Search, false)
	if err != nil {
		return "", nil, err
	}
	if t != "" {
		where += ` AND a.search_text LIKE ? ESCAPE '!'`
		args = append(args, likePattern(t))
	}
	return where, args, nil
}

// managedUser checks that the actor manages userID (its reseller, not
// visiting, or the admin), locks the user's row for the rest of the
// transaction and returns its login and reseller.
func (s *Store) managedUser(ctx context.Context, tx *sql.Tx, actor panel.Actor, userID int64) (string, int64, error) {
	if !(actor.IsAdmin() || actor.Role == panel.RoleReseller && !actor.Acting()) {
		return "", 0, panel.Forbidden("", "err.forbidden")
	}
	parent, err := s.visibleUserID(ctx, tx, actor, userID)
	if err != nil {
		return "", 0, err
	}
	var login string
	if err := tx.QueryRowContext(ctx, s.q(`SELECT login FROM accounts WHERE id = ?`+s.forUpdate()), userID).Scan(&login); err != nil {
		return "", 0, panel.Internal(fmt.Errorf("lock user %d: %w", userID, err))
	}
	return login, parent, nil
}

// ---- FrontPage (USR-5) ----

// FrontPageRow is a line of the FrontPage list.
type FrontPageRow struct {
	ID        int64
	Login     string
	Name      string
	Status    panel.Status
	IsDefault bool
	On        bool
	FPLogin   string
	// Blockers are the services that keep FrontPage from being switched on.
	Blockers []panel.Service
}

// FrontPageUsers returns one page of the reseller's users with their
// FrontPage state.
func (s *Store) FrontPageUsers(ctx context.Context, actor panel.Actor, f UserFilter) ([]FrontPageRow, int, error) {
	if err := listScope(actor, &f); err != nil {
		return nil, 0, err
	}
	where, args, err := listWhere(f)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts a WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, panel.Internal(fmt.Errorf("count frontpage users: %w", err))
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT a.id, a.login, a.name, a.status, a.is_default, COALESCE(fp.login, ''),
		(SELECT COUNT(*) FROM services sv WHERE sv.account_id = a.id AND sv.service = ? AND sv.level > 0),
		(SELECT COUNT(*) FROM services sv WHERE sv.account_id = a.id AND sv.service = ? AND sv.level > 0)
		FROM accounts a LEFT JOIN frontpage fp ON fp.account_id = a.id
		WHERE `+where+` ORDER BY a.number, a.id LIMIT ? OFFSET ?`),
		append(append([]any{string(panel.SvcErrorFiles), string(panel.SvcProtectedDirs)}, args...), f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, panel.Internal(fmt.Errorf("list frontpage users: %w", err))
	}
	defer rows.Close()
	var out []FrontPageRow
	for rows.Next() {
		var r FrontPageRow
		var st string
		var def, ef, pd int
		if err := rows.Scan(&r.ID, &r.Login, &r.Name, &st, &def, &r.FPLogin, &ef, &pd); err != nil {
			return nil, 0, panel.Internal(err)
		}
		r.Status, r.IsDefault, r.On = panel.Status(st), def == 1, r.FPLogin != ""
		if ef > 0 {
			r.Blockers = append(r.Blockers, panel.SvcErrorFiles)
		}
		if pd > 0 {
			r.Blockers = append(r.Blockers, panel.SvcProtectedDirs)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// FrontPage is a user's FrontPage state.
type FrontPage struct {
	On        bool
	Login     string
	UpdatedAt time.Time
}

// FrontPage returns the FrontPage state of a user in the actor's subtree
// (the user itself included).
func (s *Store) FrontPage(ctx context.Context, actor panel.Actor, userID int64) (FrontPage, error) {
	var fp FrontPage
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		_, err := s.visibleUserID(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		fp, err = s.frontPage(ctx, tx, userID)
		return err
	})
	return fp, err
}

func (s *Store) frontPage(ctx context.Context, q queryer, userID int64) (FrontPage, error) {
	var fp FrontPage
	var updated int64
	err := q.QueryRowContext(ctx, s.q(`SELECT login, updated_at FROM frontpage WHERE account_id = ?`), userID).Scan(&fp.Login, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return fp, nil
	}
	if err != nil {
		return fp, panel.Internal(fmt.Errorf("frontpage of %d: %w", userID, err))
	}
	fp.On, fp.UpdatedAt = true, time.Unix(updated, 0)
	return fp, nil
}

// SetFrontPageOn switches FrontPage on for a user: refused while custom
// error files or password-protected directories are on (CheckFrontPage) or
// when it is on already. It issues the publishing login (the user's login
// and "fp", numbered when taken) with the given password hash and returns
// the login.
func (s *Store) SetFrontPageOn(ctx context.Context, actor panel.Actor, userID int64, hash string) (string, error) {
	if hash == "" {
		return "", panel.Internal(errors.New("frontpage: empty password hash"))
	}
	var fpLogin string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		login, parent, err := s.managedUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		cur, err := s.frontPage(ctx, tx, userID)
		if err != nil {
			return err
		}
		if cur.On {
			return panel.Conflict("frontpage", "err.frontpage.already_on")
		}
		svc, err := s.services(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := panel.CheckFrontPage(svc, true); err != nil {
			return err
		}
		// The publishing login must not be any account's or another
		// publishing login; numbered candidates settle a clash.
		for n := 1; ; n++ {
			if n > 100 {
				return panel.Conflict("frontpage", "err.frontpage.login")
			}
			cand := panel.FrontPageLogin(login, n)
			if err := panel.ValidateFrontPageLogin(cand); err != nil {
				return panel.Internal(fmt.Errorf("frontpage login %q: %w", cand, err))
			}
			var taken int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT (SELECT COUNT(*) FROM frontpage WHERE login = ?) + (SELECT COUNT(*) FROM accounts WHERE login = ?)`),
				cand, cand).Scan(&taken); err != nil {
				return panel.Internal(err)
			}
			if taken == 0 {
				fpLogin = cand
				break
			}
		}
		now := s.now().Unix()
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO frontpage (account_id, login, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`),
			userID, fpLogin, hash, now, now)
		if isUnique(err) {
			return panel.Conflict("frontpage", "err.frontpage.login")
		}
		if err != nil {
			return panel.Internal(fmt.Errorf("frontpage on: %w", err))
		}
		if err := s.journal(ctx, tx, userID, login, "frontpage"); err != nil {
			return err
		}
		return s.addMessage(ctx, tx, parent, panel.MsgNotice, login, "msg.frontpage.on", fpLogin)
	})
	return fpLogin, err
}

// SetFrontPageOff switches FrontPage off and removes the publishing login.
func (s *Store) SetFrontPageOff(ctx context.Context, actor panel.Actor, userID int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		login, parent, err := s.managedUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM frontpage WHERE account_id = ?`), userID)
		if err != nil {
			return panel.Internal(fmt.Errorf("frontpage off: %w", err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return panel.Conflict("frontpage", "err.frontpage.already_off")
		}
		if err := s.journal(ctx, tx, userID, login, "frontpage"); err != nil {
			return err
		}
		return s.addMessage(ctx, tx, parent, panel.MsgNotice, login, "msg.frontpage.off")
	})
}

// SetFrontPagePassword changes the publishing password of the actor's own
// account (UP-5). It is a protected section: a reseller visiting with its
// own password is refused (ROLE-3).
func (s *Store) SetFrontPagePassword(ctx context.Context, actor panel.Actor, hash string) error {
	if err := actor.CheckProtected("new"); err != nil {
		return err
	}
	if actor.Role != panel.RoleUser {
		return panel.Forbidden("", "err.forbidden")
	}
	if hash == "" {
		return panel.Internal(errors.New("frontpage: empty password hash"))
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, _, err := s.visible(ctx, tx, actor, actor.ID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE frontpage SET password_hash = ?, updated_at = ? WHERE account_id = ?`), hash, s.now().Unix(), actor.ID)
		if err != nil {
			return panel.Internal(fmt.Errorf("frontpage password: %w", err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return panel.Forbidden("new", "err.frontpage.off")
		}
		var login string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT login FROM accounts WHERE id = ?`), actor.ID).Scan(&login); err != nil {
			return panel.Internal(err)
		}
		return s.journal(ctx, tx, actor.ID, login, "frontpage")
	})
}

// FrontPageCredentials looks up a publishing login for the publishing
// (WebDAV) server: the user and the password hash to check. Like
// CredentialsByLogin it has no actor. A locked user, or one whose reseller
// is locked, is not found.
func (s *Store) FrontPageCredentials(ctx context.Context, fpLogin string) (userID int64, hash string, err error) {
	err = s.db.QueryRowContext(ctx, s.q(`SELECT fp.account_id, fp.password_hash FROM frontpage fp
		JOIN accounts a ON a.id = fp.account_id LEFT JOIN accounts p ON p.id = a.parent_id
		WHERE fp.login = ? AND a.status = 'enabled' AND COALESCE(p.status, 'enabled') = 'enabled'`), fpLogin).Scan(&userID, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", panel.NotFound("account")
	}
	if err != nil {
		return 0, "", panel.Internal(err)
	}
	return userID, hash, nil
}

// ---- SSL (USR-6) ----

// CertSummary is what a list shows of a stored certificate.
type CertSummary struct {
	Subject    string
	NotAfter   time.Time
	SelfSigned bool
}

// SSLDomain is a domain of an SSL list row with its address.
type SSLDomain struct {
	Name      string // punycode
	Address   string // "" on the server's default address
	Exclusive bool
}

// SSLRow is a line of the SSL list: a user with at least one domain on an
// exclusive address.
type SSLRow struct {
	ID      int64
	Login   string
	Name    string
	Status  panel.Status
	Service bool // the SSL service is on
	Domains []SSLDomain
	Cert    *CertSummary
}

// exclusiveUsers is the condition "has a domain on an exclusive address".
const exclusiveUsers = ` AND a.id IN (SELECT d.user_id FROM domains d JOIN ip_addresses i ON i.id = d.ip_id WHERE i.shared = 0)`

// SSLUsers returns one page of the reseller's users that have a domain on
// an exclusive address, with their certificate state.
func (s *Store) SSLUsers(ctx context.Context, actor panel.Actor, f UserFilter) ([]SSLRow, int, error) {
	if err := listScope(actor, &f); err != nil {
		return nil, 0, err
	}
	where, args, err := listWhere(f)
	if err != nil {
		return nil, 0, err
	}
	where += exclusiveUsers
	var total int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts a WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, panel.Internal(fmt.Errorf("count ssl users: %w", err))
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT a.id, a.login, a.name, a.status,
		(SELECT COUNT(*) FROM services sv WHERE sv.account_id = a.id AND sv.service = ? AND sv.level > 0),
		CASE WHEN c.account_id IS NULL THEN 0 ELSE 1 END, COALESCE(c.subject, ''), COALESCE(c.not_after, 0), COALESCE(c.self_signed, 0)
		FROM accounts a LEFT JOIN ssl_certs c ON c.account_id = a.id
		WHERE `+where+` ORDER BY a.number, a.id LIMIT ? OFFSET ?`),
		append(append([]any{string(panel.SvcSSL)}, args...), f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, panel.Internal(fmt.Errorf("list ssl users: %w", err))
	}
	var out []SSLRow
	byID := map[int64]int{}
	for rows.Next() {
		var r SSLRow
		var st string
		var svc, has, self int
		var subject string
		var notAfter int64
		if err := rows.Scan(&r.ID, &r.Login, &r.Name, &st, &svc, &has, &subject, &notAfter, &self); err != nil {
			rows.Close()
			return nil, 0, panel.Internal(err)
		}
		r.Status, r.Service = panel.Status(st), svc > 0
		if has == 1 {
			r.Cert = &CertSummary{Subject: subject, NotAfter: time.Unix(notAfter, 0), SelfSigned: self == 1}
		}
		byID[r.ID] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, panel.Internal(err)
	}
	if len(out) == 0 {
		return out, total, nil
	}
	ids := make([]any, 0, len(out))
	for _, r := range out {
		ids = append(ids, r.ID)
	}
	drows, err := s.db.QueryContext(ctx, s.q(`SELECT d.user_id, d.name, COALESCE(i.address, ''), COALESCE(i.shared, 1)
		FROM domains d LEFT JOIN ip_addresses i ON i.id = d.ip_id WHERE d.user_id IN (`+placeholders(len(ids))+`) ORDER BY d.name`), ids...)
	if err != nil {
		return nil, 0, panel.Internal(err)
	}
	defer drows.Close()
	for drows.Next() {
		var uid int64
		var d SSLDomain
		var shared int
		if err := drows.Scan(&uid, &d.Name, &d.Address, &shared); err != nil {
			return nil, 0, panel.Internal(err)
		}
		d.Exclusive = shared == 0
		out[byID[uid]].Domains = append(out[byID[uid]].Domains, d)
	}
	return out, total, drows.Err()
}

// Certificate is a user's stored certificate. KeyPEM is only filled where
// it is written; reads for pages leave it empty, so no page can show it.
type Certificate struct {
	KeyPEM    string
	CertPEM   string
	ChainPEM  string
	Info      panel.CertInfo
	CreatedAt time.Time
}

// SSLUser is one user of the SSL list with what its page needs.
type SSLUser struct {
	ID      int64
	Login   string
	Name    string
	Domains []SSLDomain
	Service bool
	Cert    *Certificate // without the key; nil when none is stored
}

// DomainNames returns the user's domains (punycode) in order.
func (u SSLUser) DomainNames() []string {
	out := make([]string, len(u.Domains))
	for i, d := range u.Domains {
		out[i] = d.Name
	}
	return out
}

// SSLUser returns a user for its SSL page. A user without a domain on an
// exclusive address cannot have a certificate of its own and is refused
// with a message saying so.
func (s *Store) SSLUser(ctx context.Context, actor panel.Actor, userID int64) (SSLUser, error) {
	var u SSLUser
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if !(actor.IsAdmin() || actor.Role == panel.RoleReseller && !actor.Acting()) {
			return panel.Forbidden("", "err.forbidden")
		}
		_, err := s.visibleUserID(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		u, err = s.sslUser(ctx, tx, userID)
		return err
	})
	return u, err
}

func (s *Store) sslUser(ctx context.Context, tx *sql.Tx, userID int64) (SSLUser, error) {
	u := SSLUser{ID: userID}
	var svc int
	err := tx.QueryRowContext(ctx, s.q(`SELECT a.login, a.name,
		(SELECT COUNT(*) FROM services sv WHERE sv.account_id = a.id AND sv.service = ? AND sv.level > 0)
		FROM accounts a WHERE a.id = ?`), string(panel.SvcSSL), userID).Scan(&u.Login, &u.Name, &svc)
	if err != nil {
		return u, panel.Internal(fmt.Errorf("ssl user %d: %w", userID, err))
	}
	u.Service = svc > 0
	rows, err := tx.QueryContext(ctx, s.q(`SELECT d.name, COALESCE(i.address, ''), COALESCE(i.shared, 1)
		FROM domains d LEFT JOIN ip_addresses i ON i.id = d.ip_id WHERE d.user_id = ? ORDER BY d.name`), userID)
	if err != nil {
		return u, panel.Internal(err)
	}
	exclusive := false
	for rows.Next() {
		var d SSLDomain
		var shared int
		if err := rows.Scan(&d.Name, &d.Address, &shared); err != nil {
			rows.Close()
			return u, panel.Internal(err)
		}
		d.Exclusive = shared == 0
		exclusive = exclusive || d.Exclusive
		u.Domains = append(u.Domains, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return u, panel.Internal(err)
	}
	if !exclusive {
		return u, panel.Forbidden("", "err.ssl.no_exclusive_ip", u.Login)
	}
	var c Certificate
	var self int
	var names string
	var nb, na, created int64
	err = tx.QueryRowContext(ctx, s.q(`SELECT cert_pem, chain_pem, self_signed, subject, issuer, dns_names, key_type, fingerprint,
		not_before, not_after, created_at FROM ssl_certs WHERE account_id = ?`), userID).Scan(
		&c.CertPEM, &c.ChainPEM, &self, &c.Info.Subject, &c.Info.Issuer, &names, &c.Info.KeyType, &c.Info.Fingerprint,
		&nb, &na, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, nil
	}
	if err != nil {
		return u, panel.Internal(fmt.Errorf("certificate of %d: %w", userID, err))
	}
	c.Info.SelfSigned = self == 1
	if names != "" {
		c.Info.DNSNames = strings.Split(names, ",")
	}
	c.Info.NotBefore, c.Info.NotAfter, c.CreatedAt = time.Unix(nb, 0), time.Unix(na, 0), time.Unix(created, 0)
	u.Cert = &c
	return u, nil
}

// SetCertificate stores a checked certificate (panel.CheckCertificate made
// it) for a user with a domain on an exclusive address and the SSL service,
// replacing the one before.
func (s *Store) SetCertificate(ctx context.Context, actor panel.Actor, userID int64, c Certificate) error {
	if !strings.HasPrefix(c.KeyPEM, "-----BEGIN PRIVATE KEY-----\n") || !strings.HasPrefix(c.CertPEM, "-----BEGIN CERTIFICATE-----\n") {
		return panel.Internal(errors.New("certificate: not canonical PEM"))
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		login, parent, err := s.managedUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		u, err := s.sslUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if !u.Service {
			return panel.Forbidden(panel.SvcSSL.Field(), "err.ssl.service_off", login)
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO ssl_certs (account_id, key_pem, cert_pem, chain_pem, self_signed, subject, issuer,
			dns_names, key_type, fingerprint, not_before, not_after, created_at) VALUES (`+placeholders(13)+`)
			ON CONFLICT (account_id) DO UPDATE SET key_pem = excluded.key_pem, cert_pem = excluded.cert_pem,
			chain_pem = excluded.chain_pem, self_signed = excluded.self_signed, subject = excluded.subject,
			issuer = excluded.issuer, dns_names = excluded.dns_names, key_type = excluded.key_type,
			fingerprint = excluded.fingerprint, not_before = excluded.not_before, not_after = excluded.not_after,
			created_at = excluded.created_at`),
			userID, c.KeyPEM, c.CertPEM, c.ChainPEM, b2i(c.Info.SelfSigned), c.Info.Subject, c.Info.Issuer,
			strings.Join(c.Info.DNSNames, ","), c.Info.KeyType, c.Info.Fingerprint,
			c.Info.NotBefore.Unix(), c.Info.NotAfter.Unix(), s.now().Unix())
		if err != nil {
			return panel.Internal(fmt.Errorf("store certificate: %w", err))
		}
		if err := s.journal(ctx, tx, userID, login, "ssl"); err != nil {
			return err
		}
		key := "msg.ssl.saved"
		if c.Info.SelfSigned {
			key = "msg.ssl.self_signed"
		}
		return s.addMessage(ctx, tx, parent, panel.MsgNotice, login, key)
	})
}

// DeleteCertificate removes a user's certificate. Removing is always
// allowed, also after the exclusive address or the SSL service is gone.
func (s *Store) DeleteCertificate(ctx context.Context, actor panel.Actor, userID int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		login, parent, err := s.managedUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM ssl_certs WHERE account_id = ?`), userID)
		if err != nil {
			return panel.Internal(fmt.Errorf("delete certificate: %w", err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return panel.NotFound("certificate")
		}
		if err := s.journal(ctx, tx, userID, login, "ssl"); err != nil {
			return err
		}
		return s.addMessage(ctx, tx, parent, panel.MsgNotice, login, "msg.ssl.deleted")
	})
}

// ---- MySQL (USR-7) ----

// MySQLRow is a line of the MySQL list: a user with the MySQL resource.
type MySQLRow struct {
	ID       int64
	Login    string
	Name     string
	Status   panel.Status
	Limit    int64 // databases; -1 unlimited
	External bool
}

// MySQLUsers returns one page of the reseller's users whose MySQL database
// limit is not 0, with their external access state.
func (s *Store) MySQLUsers(ctx context.Context, actor panel.Actor, f UserFilter) ([]MySQLRow, int, error) {
	if err := listScope(actor, &f); err != nil {
		return nil, 0, err
	}
	where, args, err := listWhere(f)
	if err != nil {
		return nil, 0, err
	}
	from := `FROM accounts a JOIN user_limits l ON l.account_id = a.id AND l.resource = ? AND l.value <> 0 WHERE `
	args = append([]any{string(panel.ResMySQL)}, args...)
	var total int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) `+from+where), args...).Scan(&total); err != nil {
		return nil, 0, panel.Internal(fmt.Errorf("count mysql users: %w", err))
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT a.id, a.login, a.name, a.status, l.value,
		CASE WHEN EXISTS (SELECT 1 FROM mysql_external m WHERE m.account_id = a.id) THEN 1 ELSE 0 END
		`+from+where+` ORDER BY a.number, a.id LIMIT ? OFFSET ?`), append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, panel.Internal(fmt.Errorf("list mysql users: %w", err))
	}
	defer rows.Close()
	var out []MySQLRow
	for rows.Next() {
		var r MySQLRow
		var st string
		var ext int
		if err := rows.Scan(&r.ID, &r.Login, &r.Name, &st, &r.Limit, &ext); err != nil {
			return nil, 0, panel.Internal(err)
		}
		r.Status, r.External = panel.Status(st), ext == 1
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// MySQLExternal reports whether a user in the actor's subtree has external
// database access.
func (s *Store) MySQLExternal(ctx context.Context, actor panel.Actor, userID int64) (bool, error) {
	var on bool
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		_, err := s.visibleUserID(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM mysql_external WHERE account_id = ?`), userID).Scan(&n); err != nil {
			return panel.Internal(err)
		}
		on = n > 0
		return nil
	})
	return on, err
}

// SetMySQLExternal opens (or closes) a user's databases to external hosts.
// Opening needs the MySQL resource and the admin's permission for the
// reseller (ROLE-5); closing is always allowed. Setting the state it
// already has changes nothing.
func (s *Store) SetMySQLExternal(ctx context.Context, actor panel.Actor, userID int64, on bool) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		login, parent, err := s.managedUser(ctx, tx, actor, userID)
		if err != nil {
			return err
		}
		var cur int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM mysql_external WHERE account_id = ?`), userID).Scan(&cur); err != nil {
			return panel.Internal(err)
		}
		if (cur > 0) == on {
			return nil
		}
		if on {
			var limit int64
			err := tx.QueryRowContext(ctx, s.q(`SELECT value FROM user_limits WHERE account_id = ? AND resource = ?`), userID, string(panel.ResMySQL)).Scan(&limit)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return panel.Internal(err)
			}
			if limit == 0 {
				return panel.Forbidden("external", "err.mysql.no_databases", login)
			}
			var allowed string
			err = tx.QueryRowContext(ctx, s.q(`SELECT value FROM account_settings WHERE account_id = ? AND key = ?`), parent, settingMySQLExternal).Scan(&allowed)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return panel.Internal(err)
			}
			if allowed != "1" {
				return panel.Forbidden("external", "err.mysql.not_allowed")
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO mysql_external (account_id, created_at) VALUES (?, ?)`), userID, s.now().Unix()); err != nil {
				return panel.Internal(fmt.Errorf("mysql external on: %w", err))
			}
		} else if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM mysql_external WHERE account_id = ?`), userID); err != nil {
			return panel.Internal(fmt.Errorf("mysql external off: %w", err))
		}
		if err := s.journal(ctx, tx, userID, login, "mysql"); err != nil {
			return err
		}
		key := "msg.mysql.external_off"
		if on {
			key = "msg.mysql.external_on"
		}
		return s.addMessage(ctx, tx, parent, panel.MsgNotice, login, key)
	})
}
