package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kontor/internal/panel"
)

// CircularStatus is where a circular stands (USR-4).
type CircularStatus string

// The states of a circular.
const (
	CircularDraft   CircularStatus = "draft"   // composed, recipients being picked
	CircularSending CircularStatus = "sending" // queued; the runner works through it
	CircularDone    CircularStatus = "done"    // every recipient sent or failed
)

// RecipientStatus is the state of one recipient of a queued circular.
type RecipientStatus string

// The states of a recipient.
const (
	RecipientPending RecipientStatus = "pending"
	RecipientSending RecipientStatus = "sending"
	RecipientSent    RecipientStatus = "sent"
	RecipientFailed  RecipientStatus = "failed"
)

// NewCircular is what the reseller composes. The app validates it.
type NewCircular struct {
	FromName string
	From     string
	Subject  string
	Body     string
}

// Circular is a reseller's mail to its users.
type Circular struct {
	ID         int64
	ResellerID int64
	NewCircular
	Status     CircularStatus
	SelectAll  bool // draft: all users with an address except the picks
	CreatedAt  time.Time
	QueuedAt   time.Time
	FinishedAt time.Time
	Counts     CircularCounts
}

// CircularCounts counts the recipients of a queued circular by state.
type CircularCounts struct {
	Total, Pending, Sending, Sent, Failed int
}

// Left is how many are still to be sent.
func (c CircularCounts) Left() int { return c.Pending + c.Sending }

// Candidate is a user who can receive a circular: one with an address.
type Candidate struct {
	ID       int64
	Login    string
	Name     string
	Email    string
	Status   panel.Status
	Selected bool
}

// CircularRecipient is one recipient of a queued circular and its result.
type CircularRecipient struct {
	CircularID int64
	UserID     int64
	Login      string
	Name       string
	Company    string
	Email      string
	Status     RecipientStatus
	Attempts   int
	Error      string // the relay's reply
	ErrorKey   string // or a catalogue key when Kontor gave up itself
	UpdatedAt  time.Time
}

// CircularJob is a recipient the runner has claimed: the mail to send.
type CircularJob struct {
	Circular  Circular
	Recipient CircularRecipient
}

// circularOwner is the reseller whose circulars the actor works on. Only
// a reseller itself composes and sends them: not the admin, not a
// reseller visiting a user's panel.
func circularOwner(actor panel.Actor) (int64, error) {
	if actor.Role != panel.RoleReseller || actor.ActingID != 0 {
		return 0, panel.Forbidden("", "err.forbidden")
	}
	return actor.ID, nil
}

const circularCols = `id, reseller_id, from_name, from_addr, subject, body, status, select_all, created_at, queued_at, finished_at`

func scanCircular(row interface{ Scan(...any) error }, c *Circular) error {
	var st string
	var all int
	var created, queued, finished int64
	if err := row.Scan(&c.ID, &c.ResellerID, &c.FromName, &c.From, &c.Subject, &c.Body, &st, &all, &created, &queued, &finished); err != nil {
		return err
	}
	c.Status, c.SelectAll = CircularStatus(st), all == 1
	c.CreatedAt = time.Unix(created, 0)
	if queued > 0 {
		c.QueuedAt = time.Unix(queued, 0)
	}
	if finished > 0 {
		c.FinishedAt = time.Unix(finished, 0)
	}
	return nil
}

// circular loads one circular of the actor; another reseller's looks the
// same as none (ROLE-4). lock takes the row lock on PostgreSQL.
func (s *Store) circular(ctx context.Context, q queryer, actor panel.Actor, id int64, lock bool) (Circular, error) {
	var c Circular
	owner, err := circularOwner(actor)
	if err != nil {
		return c, panel.NotFound("circular")
	}
	query := `SELECT ` + circularCols + ` FROM circulars WHERE id = ? AND reseller_id = ?`
	if lock {
		query += s.forUpdate()
	}
	err = scanCircular(q.QueryRowContext(ctx, s.q(query), id, owner), &c)
	if errors.Is(err, sql.ErrNoRows) {
		return c, panel.NotFound("circular")
	}
	if err != nil {
		return c, panel.Internal(fmt.Errorf("circular %d: %w", id, err))
	}
	return c, nil
}

// counts fills the recipient counts of circulars.
func (s *Store) counts(ctx context.Context, q queryer, cs []Circular) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]any, len(cs))
	at := map[int64]int{}
	for i, c := range cs {
		ids[i], at[c.ID] = c.ID, i
	}
	rows, err := q.QueryContext(ctx, s.q(`SELECT circular_id, status, COUNT(*) FROM circular_recipients
		WHERE circular_id IN (`+placeholders(len(ids))+`) GROUP BY circular_id, status`), ids...)
	if err != nil {
		return panel.Internal(fmt.Errorf("circular counts: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var st string
		var n int
		if err := rows.Scan(&id, &st, &n); err != nil {
			return panel.Internal(err)
		}
		c := &cs[at[id]].Counts
		c.Total += n
		switch RecipientStatus(st) {
		case RecipientPending:
			c.Pending = n
		case RecipientSending:
			c.Sending = n
		case RecipientSent:
			c.Sent = n
		case RecipientFailed:
			c.Failed = n
		}
	}
	return rows.Err()
}

// CreateCircular stores a draft of the actor (a reseller) with every user
// selected, and returns its id.
func (s *Store) CreateCircular(ctx context.Context, actor panel.Actor, nc NewCircular) (int64, error) {
	owner, err := circularOwner(actor)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		id, err = s.insertCircular(ctx, tx, owner, nc)
		return err
	})
	return id, err
}

func (s *Store) insertCircular(ctx context.Context, tx *sql.Tx, owner int64, nc NewCircular) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO circulars (reseller_id, from_name, from_addr, subject, body, status, select_all, created_at)
		VALUES (?, ?, ?, ?, ?, 'draft', 1, ?) RETURNING id`), owner, nc.FromName, nc.From, nc.Subject, nc.Body, s.now().Unix()).Scan(&id)
	if err != nil {
		return 0, panel.Internal(fmt.Errorf("insert circular: %w", err))
	}
	return id, nil
}

// UpdateCircular changes the text of a draft.
func (s *Store) UpdateCircular(ctx context.Context, actor panel.Actor, id int64, nc NewCircular) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		c, err := s.circular(ctx, tx, actor, id, true)
		if err != nil {
			return err
		}
		if c.Status != CircularDraft {
			return panel.Conflict("", "err.circular.queued")
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE circulars SET from_name = ?, from_addr = ?, subject = ?, body = ? WHERE id = ?`),
			nc.FromName, nc.From, nc.Subject, nc.Body, id)
		if err != nil {
			return panel.Internal(fmt.Errorf("update circular: %w", err))
		}
		return nil
	})
}

// Circular returns one circular of the actor with its counts.
func (s *Store) Circular(ctx context.Context, actor panel.Actor, id int64) (Circular, error) {
	var c Circular
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = s.circular(ctx, tx, actor, id, false); err != nil {
			return err
		}
		cs := []Circular{c}
		if err := s.counts(ctx, tx, cs); err != nil {
			return err
		}
		c = cs[0]
		return nil
	})
	return c, err
}

// Circulars returns a page of the actor's circulars, newest first, with
// their counts, and how many there are.
func (s *Store) Circulars(ctx context.Context, actor panel.Actor, offset, limit int) ([]Circular, int, error) {
	owner, err := circularOwner(actor)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	if offset < 0 {
		offset = 0
	}
	var out []Circular
	var total int
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM circulars WHERE reseller_id = ?`), owner).Scan(&total); err != nil {
			return panel.Internal(fmt.Errorf("count circulars: %w", err))
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+circularCols+` FROM circulars WHERE reseller_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`),
			owner, limit, offset)
		if err != nil {
			return panel.Internal(fmt.Errorf("list circulars: %w", err))
		}
		for rows.Next() {
			var c Circular
			if err := scanCircular(rows, &c); err != nil {
				rows.Close()
				return panel.Internal(err)
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return panel.Internal(err)
		}
		return s.counts(ctx, tx, out)
	})
	return out, total, err
}

// candidateWhere selects the users of a reseller who can receive a
// circular: those with an e-mail address. The reseller's own default
// account is not one of them: the reseller is the sender.
const candidateWhere = `a.parent_id = ? AND a.role = 'user' AND a.is_default = 0 AND a.email <> ''`

// CandidateFilter selects a page of a draft's candidates.
type CandidateFilter struct {
	Search string // login, name, e-mail or domain contains this
	Offset int
	Limit  int
}

// CandidatePage is one page of a draft's candidates.
type CandidatePage struct {
	Rows     []Candidate
	Total    int // candidates matching the filter
	All      int // candidates
	Selected int // selected, over all candidates
}

// CircularCandidates returns a page of the users a draft can go to, each
// marked selected or not, with the counts.
func (s *Store) CircularCandidates(ctx context.Context, actor panel.Actor, id int64, f CandidateFilter) (CandidatePage, error) {
	var pg CandidatePage
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 25
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	search, err := panel.CleanText("q", f.Search, false)
	if err != nil {
		return pg, err
	}
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		c, err := s.circular(ctx, tx, actor, id, false)
		if err != nil {
			return err
		}
		if c.Status != CircularDraft {
			return panel.Conflict("", "err.circular.queued")
		}
		var picked int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts a WHERE `+candidateWhere), c.ResellerID).Scan(&pg.All); err != nil {
			return panel.Internal(fmt.Errorf("count candidates: %w", err))
		}
		// The picks are few (the exceptions); those of users who are no
		// candidates any more do not count.
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM circular_picks p WHERE p.circular_id = ?
			AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = p.user_id AND `+candidateWhere+`)`), id, c.ResellerID).Scan(&picked); err != nil {
			return panel.Internal(fmt.Errorf("count picks: %w", err))
		}
		pg.Selected = picked
		if c.SelectAll {
			pg.Selected = pg.All - picked
		}
		where, args := candidateWhere, []any{c.ResellerID}
		if search != "" {
			where += ` AND a.search_text LIKE ? ESCAPE '!'`
			args = append(args, likePattern(search))
		}
		pg.Total = pg.All
		if search != "" {
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts a WHERE `+where), args...).Scan(&pg.Total); err != nil {
				return panel.Internal(fmt.Errorf("count candidates: %w", err))
			}
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT a.id, a.login, a.name, a.email, a.status,
			CASE WHEN p.user_id IS NULL THEN 0 ELSE 1 END FROM accounts a
			LEFT JOIN circular_picks p ON p.circular_id = ? AND p.user_id = a.id
			WHERE `+where+` ORDER BY a.number, a.id LIMIT ? OFFSET ?`),
			append(append([]any{id}, args...), f.Limit, f.Offset)...)
		if err != nil {
			return panel.Internal(fmt.Errorf("list candidates: %w", err))
		}
		defer rows.Close()
		for rows.Next() {
			var x Candidate
			var st string
			var inPicks int
			if err := rows.Scan(&x.ID, &x.Login, &x.Name, &x.Email, &st, &inPicks); err != nil {
				return panel.Internal(err)
			}
			x.Status = panel.Status(st)
			x.Selected = c.SelectAll != (inPicks > 0)
			pg.Rows = append(pg.Rows, x)
		}
		return rows.Err()
	})
	return pg, err
}

// SelectCircular sets a draft's selection to everyone (all) or no one.
func (s *Store) SelectCircular(ctx context.Context, actor panel.Actor, id int64, all bool) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		c, err := s.circular(ctx, tx, actor, id, true)
		if err != nil {
			return err
		}
		if c.Status != CircularDraft {
			return panel.Conflict("", "err.circular.queued")
		}
		return s.setSelection(ctx, tx, id, all)
	})
}

func (s *Store) setSelection(ctx context.Context, tx *sql.Tx, id int64, all bool) error {
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM circular_picks WHERE circular_id = ?`), id); err != nil {
		return panel.Internal(fmt.Errorf("clear picks: %w", err))
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE circulars SET select_all = ? WHERE id = ?`), b2i(all), id); err != nil {
		return panel.Internal(fmt.Errorf("select: %w", err))
	}
	return nil
}

// PickCircular records the ticks of one page of candidates: of the users
// shown, those in ticked are selected and the others not. Ids that are
// not the reseller's candidates are ignored, so a forged form changes
// nothing but the actor's own draft.
func (s *Store) PickCircular(ctx context.Context, actor panel.Actor, id int64, shown, ticked []int64) error {
	if len(shown) > 100 {
		return panel.Invalid("pick", "err.circular.page")
	}
	on := map[int64]bool{}
	for _, t := range ticked {
		on[t] = true
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		c, err := s.circular(ctx, tx, actor, id, true)
		if err != nil {
			return err
		}
		if c.Status != CircularDraft {
			return panel.Conflict("", "err.circular.queued")
		}
		ids, err := s.candidateIDs(ctx, tx, c.ResellerID, shown)
		if err != nil {
			return err
		}
		for _, uid := range ids {
			// In "all" mode a pick is an exception (unticked), otherwise an
			// inclusion (ticked).
			exception := on[uid] != c.SelectAll
			if exception {
				_, err = tx.ExecContext(ctx, s.q(`INSERT INTO circular_picks (circular_id, user_id) VALUES (?, ?)
					ON CONFLICT (circular_id, user_id) DO NOTHING`), id, uid)
			} else {
				_, err = tx.ExecContext(ctx, s.q(`DELETE FROM circular_picks WHERE circular_id = ? AND user_id = ?`), id, uid)
			}
			if err != nil {
				return panel.Internal(fmt.Errorf("pick: %w", err))
			}
		}
		return nil
	})
}

// candidateIDs returns those of ids that are candidates of the reseller.
func (s *Store) candidateIDs(ctx context.Context, tx *sql.Tx, reseller int64, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{reseller}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT a.id FROM accounts a WHERE `+candidateWhere+` AND a.id IN (`+placeholders(len(ids))+`)`), args...)
	if err != nil {
		return nil, panel.Internal(fmt.Errorf("candidates: %w", err))
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

// QueueCircular turns a draft into a job: one pending row per selected
// candidate, in one transaction. It returns the number of recipients; a
// selection without any is refused and the draft stays a draft.
func (s *Store) QueueCircular(ctx context.Context, actor panel.Actor, id int64) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := s.circular(ctx, tx, actor, id, true)
		if err != nil {
			return err
		}
		if c.Status != CircularDraft {
			return panel.Conflict("", "err.circular.queued")
		}
		n, err = s.queue(ctx, tx, c)
		return err
	})
	return n, err
}

func (s *Store) queue(ctx context.Context, tx *sql.Tx, c Circular) (int, error) {
	pick := `NOT EXISTS`
	if !c.SelectAll {
		pick = `EXISTS`
	}
	now := s.now().Unix()
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO circular_recipients (circular_id, user_id, login, name, company, email, status, updated_at)
		SELECT ?, a.id, a.login, a.name, a.company, a.email, 'pending', ? FROM accounts a
		WHERE `+candidateWhere+` AND `+pick+` (SELECT 1 FROM circular_picks p WHERE p.circular_id = ? AND p.user_id = a.id)`),
		c.ID, now, c.ResellerID, c.ID)
	if err != nil {
		return 0, panel.Internal(fmt.Errorf("queue circular: %w", err))
	}
	n64, err := res.RowsAffected()
	if err != nil {
		return 0, panel.Internal(err)
	}
	if n64 == 0 {
		return 0, panel.Invalid("recipients", "err.circular.none")
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM circular_picks WHERE circular_id = ?`), c.ID); err != nil {
		return 0, panel.Internal(err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE circulars SET status = 'sending', queued_at = ? WHERE id = ?`), now, c.ID); err != nil {
		return 0, panel.Internal(fmt.Errorf("queue circular: %w", err))
	}
	return int(n64), nil
}

// SendCircular stores and queues a circular in one go (the API): to every
// candidate when all is set, else to the users in ids, each of which must
// be one of the reseller's users with an address. Nothing is stored when
// anything is refused.
func (s *Store) SendCircular(ctx context.Context, actor panel.Actor, nc NewCircular, all bool, ids []int64) (int64, int, error) {
	owner, err := circularOwner(actor)
	if err != nil {
		return 0, 0, err
	}
	if !all && len(ids) == 0 {
		return 0, 0, panel.Invalid("recipients", "err.circular.none")
	}
	if len(ids) > 100000 {
		return 0, 0, panel.Invalid("recipients", "err.circular.many")
	}
	var id int64
	var n int
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if id, err = s.insertCircular(ctx, tx, owner, nc); err != nil {
			return err
		}
		if !all {
			if err := s.setSelection(ctx, tx, id, false); err != nil {
				return err
			}
			// Checked in chunks: a statement takes a bounded number of
			// parameters on either engine.
			valid := map[int64]bool{}
			for i := 0; i < len(ids); i += 500 {
				part := ids[i:min(i+500, len(ids))]
				ok, err := s.candidateIDs(ctx, tx, owner, part)
				if err != nil {
					return err
				}
				for _, v := range ok {
					valid[v] = true
				}
			}
			seen := map[int64]bool{}
			for i, uid := range ids {
				if !valid[uid] {
					return panel.Invalid("recipients."+strconv.Itoa(i), "err.circular.recipient", uid)
				}
				if seen[uid] {
					continue
				}
				seen[uid] = true
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO circular_picks (circular_id, user_id) VALUES (?, ?)`), id, uid); err != nil {
					return panel.Internal(fmt.Errorf("pick: %w", err))
				}
			}
		}
		c, err := s.circular(ctx, tx, actor, id, false)
		if err != nil {
			return err
		}
		n, err = s.queue(ctx, tx, c)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return id, n, nil
}

// RecipientFilter selects a page of a circular's recipients.
type RecipientFilter struct {
	Status RecipientStatus // "" for all
	Offset int
	Limit  int
}

// CircularRecipients returns a page of a circular's recipients in the
// order they are sent, and how many match.
func (s *Store) CircularRecipients(ctx context.Context, actor panel.Actor, id int64, f RecipientFilter) ([]CircularRecipient, int, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 25
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	switch f.Status {
	case "", RecipientPending, RecipientSending, RecipientSent, RecipientFailed:
	default:
		return nil, 0, panel.Invalid("status", "err.circular.status")
	}
	var out []CircularRecipient
	var total int
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.circular(ctx, tx, actor, id, false); err != nil {
			return err
		}
		where, args := `circular_id = ?`, []any{id}
		if f.Status != "" {
			where += ` AND status = ?`
			args = append(args, string(f.Status))
		}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM circular_recipients WHERE `+where), args...).Scan(&total); err != nil {
			return panel.Internal(fmt.Errorf("count recipients: %w", err))
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+recipientCols+` FROM circular_recipients WHERE `+where+`
			ORDER BY user_id LIMIT ? OFFSET ?`), append(args, f.Limit, f.Offset)...)
		if err != nil {
			return panel.Internal(fmt.Errorf("list recipients: %w", err))
		}
		defer rows.Close()
		for rows.Next() {
			var r CircularRecipient
			if err := scanRecipient(rows, &r); err != nil {
				return panel.Internal(err)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, total, err
}

const recipientCols = `circular_id, user_id, login, name, company, email, status, attempts, error, error_key, updated_at`

func scanRecipient(row interface{ Scan(...any) error }, r *CircularRecipient) error {
	var st string
	var upd int64
	if err := row.Scan(&r.CircularID, &r.UserID, &r.Login, &r.Name, &r.Company, &r.Email, &st, &r.Attempts, &r.Error, &r.ErrorKey, &upd); err != nil {
		return err
	}
	r.Status, r.UpdatedAt = RecipientStatus(st), time.Unix(upd, 0)
	return nil
}

// ClaimCircularRecipient is the runner's next job: the oldest pending
// recipient, or one left in "sending" longer than lease by a process that
// died. It is marked "sending" with one more attempt before it is handed
// out, so a crash during delivery is noticed. A row abandoned after
// maxAttempts is marked failed instead of being sent again. ok is false
// when there is nothing to do. Several runners (several panels on one
// PostgreSQL) never get the same row.
func (s *Store) ClaimCircularRecipient(ctx context.Context, lease time.Duration, maxAttempts int) (CircularJob, bool, error) {
	var job CircularJob
	found := false
	skip := ""
	if s.d == postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	for {
		retry := false
		err := s.tx(ctx, func(tx *sql.Tx) error {
			now := s.now()
			var r CircularRecipient
			err := scanRecipient(tx.QueryRowContext(ctx, s.q(`SELECT `+recipientCols+` FROM circular_recipients
				WHERE status = 'pending' OR (status = 'sending' AND updated_at < ?)
				ORDER BY circular_id, user_id LIMIT 1`+skip), now.Add(-lease).Unix()), &r)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return panel.Internal(fmt.Errorf("claim recipient: %w", err))
			}
			if r.Status == RecipientSending && r.Attempts >= maxAttempts {
				// Interrupted maxAttempts times: the relay may well have
				// the mail; sending it yet again risks duplicates.
				retry = true
				return s.finishRecipient(ctx, tx, r.CircularID, r.UserID, RecipientFailed, "", "err.circular.interrupted")
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE circular_recipients SET status = 'sending', attempts = attempts + 1, updated_at = ?
				WHERE circular_id = ? AND user_id = ?`), now.Unix(), r.CircularID, r.UserID); err != nil {
				return panel.Internal(fmt.Errorf("claim recipient: %w", err))
			}
			r.Status, r.Attempts, r.UpdatedAt = RecipientSending, r.Attempts+1, time.Unix(now.Unix(), 0)
			if err := scanCircular(tx.QueryRowContext(ctx, s.q(`SELECT `+circularCols+` FROM circulars WHERE id = ?`), r.CircularID), &job.Circular); err != nil {
				return panel.Internal(fmt.Errorf("claim recipient: circular %d: %w", r.CircularID, err))
			}
			job.Recipient, found = r, true
			return nil
		})
		if err != nil || !retry {
			return job, found, err
		}
	}
}

// FinishCircularRecipient records the result of one delivery: sent when
// errText and errKey are empty, else failed with the relay's reply
// (errText) or a catalogue key (errKey). When it was the last one, the
// circular is done and the reseller gets a message (GEN-4).
func (s *Store) FinishCircularRecipient(ctx context.Context, circularID, userID int64, errText, errKey string) error {
	st := RecipientSent
	if errText != "" || errKey != "" {
		st = RecipientFailed
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		return s.finishRecipient(ctx, tx, circularID, userID, st, errText, errKey)
	})
}

// maxErrorLen bounds a stored relay reply.
const maxErrorLen = 500

func (s *Store) finishRecipient(ctx context.Context, tx *sql.Tx, circularID, userID int64, st RecipientStatus, text, key string) error {
	text = strings.ToValidUTF8(text, "?")
	if len(text) > maxErrorLen {
		text = strings.ToValidUTF8(text[:maxErrorLen], "") + "…"
	}
	// The circular's row lock serialises the results of one circular, so
	// that of two runners finishing its last two recipients at once, one
	// sees none left and closes it.
	var locked int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM circulars WHERE id = ?`+s.forUpdate()), circularID).Scan(&locked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // deleted with its reseller meanwhile
	}
	if err != nil {
		return panel.Internal(fmt.Errorf("finish recipient: circular %d: %w", circularID, err))
	}
	now := s.now().Unix()
	res, err := tx.ExecContext(ctx, s.q(`UPDATE circular_recipients SET status = ?, error = ?, error_key = ?, updated_at = ?
		WHERE circular_id = ? AND user_id = ? AND status = 'sending'`), string(st), text, key, now, circularID, userID)
	if err != nil {
		return panel.Internal(fmt.Errorf("finish recipient: %w", err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Another runner took the row over after the lease ran out; its
		// result counts.
		return nil
	}
	var left int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM circular_recipients WHERE circular_id = ? AND status IN ('pending', 'sending')`),
		circularID).Scan(&left); err != nil {
		return panel.Internal(err)
	}
	if left > 0 {
		return nil
	}
	res, err = tx.ExecContext(ctx, s.q(`UPDATE circulars SET status = 'done', finished_at = ? WHERE id = ? AND status = 'sending'`), now, circularID)
	if err != nil {
		return panel.Internal(fmt.Errorf("finish circular: %w", err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	var owner int64
	var subject string
	var sent, failed int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT c.reseller_id, c.subject,
		(SELECT COUNT(*) FROM circular_recipients r WHERE r.circular_id = c.id AND r.status = 'sent'),
		(SELECT COUNT(*) FROM circular_recipients r WHERE r.circular_id = c.id AND r.status = 'failed')
		FROM circulars c WHERE c.id = ?`), circularID).Scan(&owner, &subject, &sent, &failed); err != nil {
		return panel.Internal(err)
	}
	kind, key := panel.MsgNotice, "msg.circular.done"
	if failed > 0 {
		kind, key = panel.MsgError, "msg.circular.failed"
	}
	return s.addMessage(ctx, tx, owner, kind, "", key, subject, strconv.Itoa(sent), strconv.Itoa(failed))
}

// RetryCircular queues the failed recipients of a circular again (after
// the relay was fixed, say) and returns how many.
func (s *Store) RetryCircular(ctx context.Context, actor panel.Actor, id int64) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := s.circular(ctx, tx, actor, id, true)
		if err != nil {
			return err
		}
		if c.Status == CircularDraft {
			return panel.Conflict("", "err.circular.draft")
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE circular_recipients SET status = 'pending', attempts = 0, error = '', error_key = '', updated_at = ?
			WHERE circular_id = ? AND status = 'failed'`), s.now().Unix(), id)
		if err != nil {
			return panel.Internal(fmt.Errorf("retry circular: %w", err))
		}
		n64, _ := res.RowsAffected()
		if n64 == 0 {
			return panel.Invalid("recipients", "err.circular.no_failed")
		}
		n = int(n64)
		_, err = tx.ExecContext(ctx, s.q(`UPDATE circulars SET status = 'sending', finished_at = 0 WHERE id = ?`), id)
		if err != nil {
			return panel.Internal(fmt.Errorf("retry circular: %w", err))
		}
		return nil
	})
	return n, err
}
