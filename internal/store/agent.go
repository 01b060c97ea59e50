package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// This file is the store side of the privileged agent (SYS-1..3): the
// change journal it follows, the desired state it renders, the server
// facts, and where its results land (agent_status, the Messages of GEN-4).
// The agent acts for the system, not for a person, so most methods here
// take no actor; AgentStatus, read by the panel pages, does.

// Change is one row of the change journal: a user whose desired state
// changed (AccountID 0 with What "server" means the server facts changed
// and every user is to be rendered again).
type Change struct {
	ID, AccountID int64
	Login, What   string
	CreatedAt     int64
}

// Changes returns up to limit journal rows after the id, oldest first.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, account_id, login, what, created_at FROM changes
		WHERE id > ? ORDER BY id LIMIT ?`), after, limit)
	if err != nil {
		return nil, panel.Internal(fmt.Errorf("changes: %w", err))
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.ID, &c.AccountID, &c.Login, &c.What, &c.CreatedAt); err != nil {
			return nil, panel.Internal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, panel.Internal(err)
	}
	return out, nil
}

// LastChangeID returns the newest journal id, 0 when the journal is empty.
func (s *Store) LastChangeID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM changes`).Scan(&id); err != nil {
		return 0, panel.Internal(fmt.Errorf("last change: %w", err))
	}
	return id, nil
}

// PruneChanges deletes journal rows with id <= upTo that were written
// before olderThan. The agent calls it after advancing its cursor; keeping
// recent rows a while leaves a trail to read when something went wrong.
func (s *Store) PruneChanges(ctx context.Context, upTo int64, olderThan time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM changes WHERE id <= ? AND created_at < ?`), upTo, olderThan.Unix())
	if err != nil {
		return panel.Internal(fmt.Errorf("prune changes: %w", err))
	}
	return nil
}

// journalServer records that the server facts changed: one row the agent
// reads as "render every user again", instead of one row per user.
func (s *Store) journalServer(ctx context.Context, tx *sql.Tx) error {
	return s.journal(ctx, tx, 0, "", "server")
}

// serverFactKeys are the settings ServerFacts reads.
var serverFactKeys = []string{"server_name", "dns_nameservers", "mail_host", "coldfusion"}

// journalServerFacts journals the server when SetSettings changes one of
// the settings the agent renders from.
func (s *Store) journalServerFacts(ctx context.Context, tx *sql.Tx, kv map[string]string) error {
	for _, k := range serverFactKeys {
		v, ok := kv[k]
		if !ok {
			continue
		}
		var old string
		err := tx.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE key = ?`), k).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return panel.Internal(err)
		}
		if old != v {
			return s.journalServer(ctx, tx)
		}
	}
	return nil
}

// DesiredOptions place users on the target system.
type DesiredOptions struct {
	// UIDBase: webN gets uid and gid UIDBase+N; a reseller's own account
	// (resMweb0, number 0) gets UIDBase+DefaultUIDOffset+M, so every
	// account has its own uid and a uid is never reused.
	UIDBase  int
	HomeBase string // home = HomeBase + "/" + login
}

// DefaultUIDOffset separates the uids of the resellers' own accounts from
// those of webN: N stays below it (40,000 users on one server).
const DefaultUIDOffset = 40000

// idChunk bounds IN (…) lists: far below SQLite's and PostgreSQL's limits
// on bound parameters, and large enough that 10,000 users take 20 rounds.
const idChunk = 500

// UserIDs returns the ids of every user (role 'user'), in order: the
// agent's full reconcile walks them in chunks.
func (s *Store) UserIDs(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM accounts WHERE role = 'user' ORDER BY id`)
	if err != nil {
		return nil, panel.Internal(fmt.Errorf("user ids: %w", err))
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, panel.Internal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, panel.Internal(err)
	}
	return ids, nil
}

// DesiredUsers returns the desired state of the given users (role 'user'
// only; ids that are no users any more are simply absent), or of every
// user when ids is nil, sorted by id. It reads each table once per chunk of
// ids (once in all for every user), never once per user, so a full
// reconcile of 10,000 users is a few dozen queries.
func (s *Store) DesiredUsers(ctx context.Context, ids []int64, opt DesiredOptions) ([]agent.User, error) {
	if ids != nil && len(ids) == 0 {
		return nil, nil
	}
	var out []agent.User
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		d := desired{s: s, tx: tx, opt: opt, byID: map[int64]*agent.User{}}
		if ids == nil {
			if err := d.load(ctx, nil); err != nil {
				return err
			}
		} else {
			uniq := dedupe(ids)
			for i := 0; i < len(uniq); i += idChunk {
				if err := d.load(ctx, uniq[i:min(i+idChunk, len(uniq))]); err != nil {
					return err
				}
			}
		}
		if err := d.resellers(ctx); err != nil {
			return err
		}
		out = make([]agent.User, 0, len(d.order))
		for _, id := range d.order {
			out = append(out, *d.byID[id])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// desired collects agent.Users across the chunked queries.
type desired struct {
	s     *Store
	tx    *sql.Tx
	opt   DesiredOptions
	byID  map[int64]*agent.User
	order []int64
	// htpasswd of each user, added to WebAuth after the reseller's is known
	htpasswd map[int64]string
}

// in returns " AND col IN (?, …)" with its arguments, or nothing for
// every row.
func in(col string, ids []int64) (string, []any) {
	if ids == nil {
		return "", nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return " AND " + col + " IN (" + placeholders(len(ids)) + ")", args
}

// each runs query (with the chunk's IN clause where %s stands), scans the
// user id and dest() of each row and calls fn for the rows of users that
// were loaded.
func (d *desired) each(ctx context.Context, query, col string, ids []int64, fn func(u *agent.User) error, dest func() []any) error {
	where, args := in(col, ids)
	rows, err := d.tx.QueryContext(ctx, d.s.q(fmt.Sprintf(query, where)), args...)
	if err != nil {
		return panel.Internal(fmt.Errorf("desired state: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		vals := append([]any{&id}, dest()...)
		if err := rows.Scan(vals...); err != nil {
			return panel.Internal(fmt.Errorf("desired state: %w", err))
		}
		u := d.byID[id]
		if u == nil {
			continue // a reseller's row, or a user outside this chunk
		}
		if err := fn(u); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return panel.Internal(fmt.Errorf("desired state: %w", err))
	}
	return nil
}

// load reads the users with the given ids (every user for nil) and their
// rows in the other tables.
func (d *desired) load(ctx context.Context, ids []int64) error {
	where, args := in("a.id", ids)
	rows, err := d.tx.QueryContext(ctx, d.s.q(`SELECT a.id, a.login, a.number, a.is_default, r.number, a.status, a.parent_id, r.login
		FROM accounts a JOIN accounts r ON r.id = a.parent_id WHERE a.role = 'user'`+where+` ORDER BY a.id`), args...)
	if err != nil {
		return panel.Internal(fmt.Errorf("desired users: %w", err))
	}
	for rows.Next() {
		u := &agent.User{Services: panel.ServiceSet{}, Limits: panel.Limits{}}
		var number, isDefault, resNumber int64
		var status string
		if err := rows.Scan(&u.ID, &u.Login, &number, &isDefault, &resNumber, &status, &u.ResellerID, &u.ResellerLogin); err != nil {
			rows.Close()
			return panel.Internal(err)
		}
		u.UID = d.opt.UIDBase + int(number)
		if isDefault != 0 {
			u.UID = d.opt.UIDBase + DefaultUIDOffset + int(resNumber)
		}
		u.Home = strings.TrimSuffix(d.opt.HomeBase, "/") + "/" + u.Login
		u.Locked = status == string(panel.StatusLocked)
		d.byID[u.ID] = u
		d.order = append(d.order, u.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return panel.Internal(err)
	}

	var (
		str1, str2, str3 string
		n1               int64
	)
	two := func() []any { return []any{&str1, &n1} }
	if err := d.each(ctx, `SELECT account_id, service, level FROM services WHERE 1 = 1%s`, "account_id", ids,
		func(u *agent.User) error { u.Services[panel.Service(str1)] = int(n1); return nil }, two); err != nil {
		return err
	}
	if err := d.each(ctx, `SELECT account_id, resource, value FROM user_limits WHERE 1 = 1%s`, "account_id", ids,
		func(u *agent.User) error { u.Limits[panel.Resource(str1)] = n1; return nil }, two); err != nil {
		return err
	}
	if err := d.each(ctx, `SELECT d.user_id, d.name, d.dns, CASE WHEN i.shared = 0 THEN i.address ELSE '' END
		FROM domains d LEFT JOIN ip_addresses i ON i.id = d.ip_id WHERE 1 = 1%s ORDER BY d.user_id, d.name`, "d.user_id", ids,
		func(u *agent.User) error {
			u.Domains = append(u.Domains, agent.Domain{Name: str1, DNS: n1 == 1, IP: str2})
			return nil
		}, func() []any { str2 = ""; return []any{&str1, &n1, &str2} }); err != nil {
		return err
	}
	if err := d.each(ctx, `SELECT account_id, cert_pem, key_pem, chain_pem FROM ssl_certs WHERE 1 = 1%s`, "account_id", ids,
		func(u *agent.User) error {
			u.SSL = &agent.Certificate{CertPEM: str1, KeyPEM: str2, ChainPEM: str3}
			return nil
		}, func() []any { return []any{&str1, &str2, &str3} }); err != nil {
		return err
	}
	if err := d.each(ctx, `SELECT account_id, login, password_hash FROM frontpage WHERE 1 = 1%s`, "account_id", ids,
		func(u *agent.User) error { u.FrontPage = &agent.FrontPage{Login: str1, Hash: str2}; return nil },
		func() []any { return []any{&str1, &str2} }); err != nil {
		return err
	}
	if err := d.each(ctx, `SELECT account_id FROM mysql_external WHERE 1 = 1%s`, "account_id", ids,
		func(u *agent.User) error { u.DBExternal = true; return nil },
		func() []any { return nil }); err != nil {
		return err
	}
	if err := d.each(ctx, `SELECT user_id, name FROM databases WHERE 1 = 1%s ORDER BY user_id, name`, "user_id", ids,
		func(u *agent.User) error { u.Databases = append(u.Databases, str1); return nil },
		func() []any { return []any{&str1} }); err != nil {
		return err
	}
	if err := d.each(ctx, `SELECT user_id, id, schedule, command FROM cron_jobs WHERE enabled = 1%s ORDER BY user_id, id`, "user_id", ids,
		func(u *agent.User) error {
			u.Cron = append(u.Cron, agent.CronJob{ID: n1, Schedule: str1, Command: str2})
			return nil
		}, func() []any { return []any{&n1, &str1, &str2} }); err != nil {
		return err
	}
	if d.htpasswd == nil {
		d.htpasswd = map[int64]string{}
	}
	return d.each(ctx, `SELECT account_id, kind, value FROM account_secrets WHERE 1 = 1%s`, "account_id", ids,
		func(u *agent.User) error {
			switch str1 {
			case SecretMySQL:
				u.DBHash = str2
			case SecretHtpasswd:
				d.htpasswd[u.ID] = str2
			}
			return nil
		}, func() []any { return []any{&str1, &str2} })
}

// resellers adds what the users take from their resellers: the index
// setup and the reseller's htpasswd line for the Webalizer pages.
func (d *desired) resellers(ctx context.Context) error {
	seen := map[int64]bool{}
	var rids []int64
	for _, id := range d.order {
		if r := d.byID[id].ResellerID; !seen[r] {
			seen[r] = true
			rids = append(rids, r)
		}
	}
	html, name, auth := map[int64]string{}, map[int64]string{}, map[int64]string{}
	for i := 0; i < len(rids); i += idChunk {
		chunk := rids[i:min(i+idChunk, len(rids))]
		where, args := in("account_id", chunk)
		rows, err := d.tx.QueryContext(ctx, d.s.q(`SELECT account_id, key, value FROM account_settings WHERE key IN (?, ?)`+where),
			append([]any{settingIndexHTML, settingIndexName}, args...)...)
		if err != nil {
			return panel.Internal(fmt.Errorf("index setup: %w", err))
		}
		for rows.Next() {
			var id int64
			var k, v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return panel.Internal(err)
			}
			if k == settingIndexHTML {
				html[id] = v
			} else {
				name[id] = v
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return panel.Internal(err)
		}
		rows, err = d.tx.QueryContext(ctx, d.s.q(`SELECT account_id, value FROM account_secrets WHERE kind = ?`+where),
			append([]any{SecretHtpasswd}, args...)...)
		if err != nil {
			return panel.Internal(fmt.Errorf("reseller secrets: %w", err))
		}
		for rows.Next() {
			var id int64
			var v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return panel.Internal(err)
			}
			auth[id] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return panel.Internal(err)
		}
	}
	for _, id := range d.order {
		u := d.byID[id]
		if h := html[u.ResellerID]; h != "" {
			u.IndexHTML = panel.RenderTags(h, map[string]string{panel.TagUser: u.Login, panel.TagLogin: u.Login})
			if u.IndexName = name[u.ResellerID]; u.IndexName == "" {
				u.IndexName = DefaultIndexName
			}
		}
		if h := d.htpasswd[id]; h != "" {
			u.WebAuth = append(u.WebAuth, u.Login+":"+h)
		}
		if h := auth[u.ResellerID]; h != "" {
			u.WebAuth = append(u.WebAuth, u.ResellerLogin+":"+h)
		}
	}
	return nil
}

// ServerFacts returns the server-wide facts the renderers need, from the
// settings and the shared addresses, with defaults for what the admin left
// unset. The defaults never come from the machine (such as its host name):
// the facts must be the same on every server and in every test.
func (s *Store) ServerFacts(ctx context.Context) (agent.Server, error) {
	m, err := s.Settings(ctx)
	if err != nil {
		return agent.Server{}, err
	}
	srv := agent.Server{Hostname: m["server_name"], MailHost: m["mail_host"], ColdFusion: m["coldfusion"]}
	if srv.Hostname == "" {
		srv.Hostname = "localhost.localdomain"
	}
	if srv.MailHost == "" {
		srv.MailHost = srv.Hostname
	}
	srv.NameServers = strings.Fields(m["dns_nameservers"])
	if len(srv.NameServers) == 0 {
		srv.NameServers = []string{"ns1." + srv.Hostname, "ns2." + srv.Hostname}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT address FROM ip_addresses WHERE shared = 1 ORDER BY id`)
	if err != nil {
		return agent.Server{}, panel.Internal(fmt.Errorf("shared addresses: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return agent.Server{}, panel.Internal(err)
		}
		ip, err := netip.ParseAddr(a)
		if err != nil {
			continue // AddIP stores only parsed addresses; a hand edit is skipped
		}
		if ip.Is4() {
			srv.SharedIPv4 = append(srv.SharedIPv4, ip.String())
		} else {
			srv.SharedIPv6 = append(srv.SharedIPv6, ip.String())
		}
	}
	if err := rows.Err(); err != nil {
		return agent.Server{}, panel.Internal(err)
	}
	if len(srv.SharedIPv4) == 0 && len(srv.SharedIPv6) == 0 {
		srv.SharedIPv4 = []string{"127.0.0.1"}
	}
	return srv, nil
}

const settingAgentCursor = "agent.cursor"

// AgentCursor returns the id of the last journal row the agent applied, 0
// when it never ran.
func (s *Store) AgentCursor(ctx context.Context) (int64, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE key = ?`), settingAgentCursor).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, panel.Internal(err)
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, panel.Internal(fmt.Errorf("agent cursor %q: %w", v, err))
	}
	return id, nil
}

// SetAgentCursor stores the id of the last journal row the agent applied.
func (s *Store) SetAgentCursor(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`), settingAgentCursor, strconv.FormatInt(id, 10))
	if err != nil {
		return panel.Internal(fmt.Errorf("agent cursor: %w", err))
	}
	return nil
}

// AgentResult is what the agent did with one user.
type AgentResult struct {
	AccountID  int64
	Login      string
	ResellerID int64
	Failed     bool
	Removed    bool   // the user is gone from the system (it was deleted)
	Detail     string // the daemon's own error text when Failed
	ChangeID   int64  // the newest journal row the result covers
	// ServerWide marks a failure that is the server's, not the user's (a
	// daemon that cannot reload): the status says so, but the resellers
	// get no message per user; the agent tells the admins once instead.
	ServerWide bool
}

// Agent states in agent_status.
const (
	AgentApplied = "applied"
	AgentFailed  = "failed"
	AgentRemoved = "removed"
)

// RecordAgentResults stores the agent's results in one transaction and
// tells the resellers (GEN-4): a new failure, or a failure with another
// cause, is an error in the reseller's Messages; a failure that repeats
// unchanged adds nothing, so a periodic reconcile does not flood them; a
// user that recovers from a failure is a notice. When the reseller is gone
// (its users were deleted with it), the admins get the message.
func (s *Store) RecordAgentResults(ctx context.Context, res []AgentResult) error {
	if len(res) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now().Unix()
		for _, r := range res {
			var oldState, oldDetail string
			err := tx.QueryRowContext(ctx, s.q(`SELECT state, detail FROM agent_status WHERE account_id = ?`), r.AccountID).Scan(&oldState, &oldDetail)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return panel.Internal(fmt.Errorf("agent status: %w", err))
			}
			state, detail := AgentApplied, ""
			switch {
			case r.Failed:
				state, detail = AgentFailed, r.Detail
			case r.Removed:
				state = AgentRemoved
			}
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO agent_status (account_id, login, state, detail, change_id, applied_at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET login = excluded.login, state = excluded.state,
				detail = excluded.detail, change_id = excluded.change_id, applied_at = excluded.applied_at`),
				r.AccountID, r.Login, state, detail, r.ChangeID, now)
			if err != nil {
				return panel.Internal(fmt.Errorf("agent status: %w", err))
			}
			switch {
			case state == AgentFailed && r.ServerWide:
				// The admins hear of it once, from the agent.
			case state == AgentFailed && (oldState != AgentFailed || oldDetail != detail):
				err = s.systemMessage(ctx, tx, r.ResellerID, panel.MsgError, r.Login, "msg.agent.failed", detail)
			case state != AgentFailed && oldState == AgentFailed:
				err = s.systemMessage(ctx, tx, r.ResellerID, panel.MsgNotice, r.Login, "msg.agent.recovered")
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// systemMessage adds a message for a reseller, or for every admin when the
// reseller no longer exists (or is 0), so a failure is never dropped.
func (s *Store) systemMessage(ctx context.Context, tx *sql.Tx, resellerID int64, kind panel.MessageKind, subject, key string, args ...string) error {
	if resellerID != 0 {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts WHERE id = ?`), resellerID).Scan(&n); err != nil {
			return panel.Internal(err)
		}
		if n == 1 {
			return s.addMessage(ctx, tx, resellerID, kind, subject, key, args...)
		}
	}
	return s.adminMessage(ctx, tx, kind, subject, key, args...)
}

// adminMessage adds a message for every admin.
func (s *Store) adminMessage(ctx context.Context, tx *sql.Tx, kind panel.MessageKind, subject, key string, args ...string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM accounts WHERE role = 'admin' ORDER BY id`)
	if err != nil {
		return panel.Internal(err)
	}
	var admins []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return panel.Internal(err)
		}
		admins = append(admins, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return panel.Internal(err)
	}
	for _, id := range admins {
		if err := s.addMessage(ctx, tx, id, kind, subject, key, args...); err != nil {
			return err
		}
	}
	return nil
}

// AgentStatus returns the agent's last result for a user the actor may
// see, for the panel pages: state "" (and a zero time) while the agent has
// not handled the user yet.
func (s *Store) AgentStatus(ctx context.Context, actor panel.Actor, userID int64) (state, detail string, at time.Time, err error) {
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.visibleUserID(ctx, tx, actor, userID); err != nil {
			return err
		}
		var applied int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT state, detail, applied_at FROM agent_status WHERE account_id = ?`), userID).Scan(&state, &detail, &applied)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return panel.Internal(err)
		}
		at = time.Unix(applied, 0)
		return nil
	})
	if err != nil {
		return "", "", time.Time{}, err
	}
	return state, detail, at, nil
}

// NoticeOnce adds a notice to every admin's Messages the first time key is
// seen (remembered in the setting "agent.notice.<key>") and reports whether
// it did: for facts the agent finds once, such as a daemon that is not
// installed, which would otherwise be repeated every reconcile.
func (s *Store) NoticeOnce(ctx context.Context, key, msgKey string, args ...string) (bool, error) {
	if key == "" || msgKey == "" {
		return false, panel.Internal(errors.New("notice once: empty key"))
	}
	added := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`),
			"agent.notice."+key, strconv.FormatInt(s.now().Unix(), 10))
		if err != nil {
			return panel.Internal(fmt.Errorf("notice once: %w", err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return panel.Internal(err)
		}
		if n == 0 {
			return nil
		}
		added = true
		return s.adminMessage(ctx, tx, panel.MsgNotice, "", msgKey, args...)
	})
	return added, err
}

// Kinds of daemon-side secrets (account_secrets).
const (
	// SecretMySQL is the mysql_native_password hash of a user's database
	// login (auth.MySQLNativeHash); users only.
	SecretMySQL = "mysql"
	// SecretHtpasswd is the bcrypt hash that opens the Webalizer pages
	// (auth.Params.HashHtpasswd); users and resellers.
	SecretHtpasswd = "htpasswd"
)

var (
	mysqlHashRe = regexp.MustCompile(`^\*[0-9A-F]{40}$`)
	bcryptRe    = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)
)

// checkSecrets refuses a kind the role has no use for and any value that
// is not exactly in its daemon's format: the agent copies these into files
// (an htpasswd line) and statements, so nothing else may pass.
func checkSecrets(role panel.Role, secrets map[string]string) error {
	for k, v := range secrets {
		switch {
		case k == SecretMySQL && role == panel.RoleUser:
			if !mysqlHashRe.MatchString(v) {
				return panel.Internal(fmt.Errorf("secret %s: not a mysql_native_password hash", k))
			}
		case k == SecretHtpasswd && (role == panel.RoleUser || role == panel.RoleReseller):
			if !bcryptRe.MatchString(v) {
				return panel.Internal(fmt.Errorf("secret %s: not a bcrypt hash", k))
			}
		default:
			return panel.Internal(fmt.Errorf("secret %q is not kept for a %s", k, role))
		}
	}
	return nil
}

// putSecrets replaces an account's secrets by the given ones: they are
// derived from one password, so a kind the new set lacks must not keep
// opening anything with the old password.
func (s *Store) putSecrets(ctx context.Context, tx *sql.Tx, id int64, secrets map[string]string) error {
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM account_secrets WHERE account_id = ?`), id); err != nil {
		return panel.Internal(fmt.Errorf("secrets: %w", err))
	}
	kinds := make([]string, 0, len(secrets))
	for k := range secrets {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO account_secrets (account_id, kind, value, updated_at) VALUES (?, ?, ?, ?)`),
			id, k, secrets[k], s.now().Unix()); err != nil {
			return panel.Internal(fmt.Errorf("secret %s: %w", k, err))
		}
	}
	return nil
}

// journalResellerUsers journals every user of a reseller: the reseller's
// htpasswd line is part of each user's Webalizer protection (STA-4).
func (s *Store) journalResellerUsers(ctx context.Context, tx *sql.Tx, resellerID int64, what string) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO changes (account_id, login, what, created_at)
		SELECT id, login, ?, ? FROM accounts WHERE parent_id = ? AND role = 'user' ORDER BY id`), what, s.now().Unix(), resellerID)
	if err != nil {
		return panel.Internal(fmt.Errorf("journal: %w", err))
	}
	return nil
}

// SetPasswordSecrets is SetPassword that also replaces the account's
// daemon-side secrets (derived from the same plaintext by the caller). A
// user is journalled (its database login changes); a reseller's users are
// journalled "webauth", since the reseller's line opens their Webalizer
// pages.
func (s *Store) SetPasswordSecrets(ctx context.Context, actor panel.Actor, id int64, hash string, secrets map[string]string) error {
	if hash == "" {
		return panel.Invalid("password", "err.required")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		role, _, err := s.visible(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := checkSecrets(role, secrets); err != nil {
			return err
		}
		var login string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT login FROM accounts WHERE id = ?`), id).Scan(&login); err != nil {
			return panel.Internal(err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?`), hash, s.now().Unix(), id); err != nil {
			return panel.Internal(fmt.Errorf("set password: %w", err))
		}
		if err := s.putSecrets(ctx, tx, id, secrets); err != nil {
			return err
		}
		switch role {
		case panel.RoleUser:
			return s.journal(ctx, tx, id, login, "password")
		case panel.RoleReseller:
			return s.journalResellerUsers(ctx, tx, id, "webauth")
		}
		return nil
	})
}
