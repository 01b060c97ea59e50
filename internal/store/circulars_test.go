package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kontor/internal/panel"
	"kontor/internal/testenv"
)

// circularSetup makes res1 with five users with an address and one
// without, and res2 with one user with an address.
func circularSetup(t *testing.T, s *Store) (a1, a2 panel.Actor, users []panel.User, foreign panel.User) {
	t.Helper()
	ctx := context.Background()
	lim := panel.ResellerLimits{panel.ResUsers: {Value: 20, Mode: panel.ModeHard}}
	_, a1 = reseller(t, s, lim, nil)
	_, a2 = reseller(t, s, lim, nil)
	for i := 1; i <= 5; i++ {
		res, err := s.CreateUser(ctx, a1, NewUser{ResellerID: a1.ID, PasswordHash: "h",
			Profile: panel.Profile{Name: fmt.Sprintf("Kunde %d", i), Company: "Firma Ä", Email: fmt.Sprintf("k%d@example.com", i)}})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, res.User)
	}
	if _, err := s.CreateUser(ctx, a1, NewUser{ResellerID: a1.ID, PasswordHash: "h", Profile: panel.Profile{Name: "Ohne Adresse"}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.CreateUser(ctx, a2, NewUser{ResellerID: a2.ID, PasswordHash: "h", Profile: panel.Profile{Name: "Fremd", Email: "fremd@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return a1, a2, users, res.User
}

var testCircular = NewCircular{FromName: "Reseller", From: "info@res.example", Subject: "Wartung ##login##", Body: "Hallo ##name##"}

func selectedLogins(t *testing.T, s *Store, a panel.Actor, id int64) ([]string, int, int) {
	t.Helper()
	pg, err := s.CircularCandidates(context.Background(), a, id, CandidateFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if pg.All != pg.Total {
		t.Fatalf("all %d, total %d without a search", pg.All, pg.Total)
	}
	var out []string
	for _, r := range pg.Rows {
		if r.Selected {
			out = append(out, r.Login)
		}
	}
	return out, pg.Total, pg.Selected
}

func TestCircularDraftSelection(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a1, a2, users, foreign := circularSetup(t, s)
		userActor := panel.Actor{ID: users[0].ID, Role: panel.RoleUser, ResellerID: a1.ID}
		visiting := panel.Actor{ID: users[0].ID, Role: panel.RoleUser, ResellerID: a1.ID, ActingID: a1.ID}
		for _, a := range []panel.Actor{userActor, visiting, admin} {
			_, err := s.CreateCircular(ctx, a, testCircular)
			wantKind(t, err, panel.KindForbidden, "err.forbidden")
		}
		id, err := s.CreateCircular(ctx, a1, testCircular)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Circular(ctx, a1, id)
		if err != nil || c.Status != CircularDraft || !c.SelectAll || c.Subject != testCircular.Subject || c.From != "info@res.example" {
			t.Fatalf("draft %+v %v", c, err)
		}
		// Every candidate is selected at first: users with an address only,
		// of this reseller only.
		sel, total, n := selectedLogins(t, s, a1, id)
		if total != 5 || n != 5 || len(sel) != 5 {
			t.Fatalf("candidates %v total %d selected %d", sel, total, n)
		}
		// Another reseller, a user, the admin: the draft does not exist.
		for _, a := range []panel.Actor{a2, userActor, admin} {
			_, err := s.Circular(ctx, a, id)
			wantKind(t, err, panel.KindNotFound, "")
			_, err = s.CircularCandidates(ctx, a, id, CandidateFilter{})
			wantKind(t, err, panel.KindNotFound, "")
			wantKind(t, s.PickCircular(ctx, a, id, []int64{users[0].ID}, nil), panel.KindNotFound, "")
			wantKind(t, s.SelectCircular(ctx, a, id, false), panel.KindNotFound, "")
			wantKind(t, s.UpdateCircular(ctx, a, id, testCircular), panel.KindNotFound, "")
			_, err = s.QueueCircular(ctx, a, id)
			wantKind(t, err, panel.KindNotFound, "")
		}
		// Untick one of a page of three; a forged id of another reseller's
		// user changes nothing.
		if err := s.PickCircular(ctx, a1, id, []int64{users[0].ID, users[1].ID, users[2].ID, foreign.ID}, []int64{users[0].ID, users[2].ID}); err != nil {
			t.Fatal(err)
		}
		sel, _, n = selectedLogins(t, s, a1, id)
		if n != 4 || fmt.Sprint(sel) != fmt.Sprint([]string{users[0].Login, users[2].Login, users[3].Login, users[4].Login}) {
			t.Fatalf("after unticking %s: %v (%d)", users[1].Login, sel, n)
		}
		var picks int
		if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM circular_picks WHERE user_id = ?`), foreign.ID).Scan(&picks); err != nil || picks != 0 {
			t.Fatalf("a foreign user was picked: %d %v", picks, err)
		}
		// Search narrows the list, not the selection.
		pg, err := s.CircularCandidates(ctx, a1, id, CandidateFilter{Search: users[3].Login})
		if err != nil || pg.Total != 1 || pg.All != 5 || len(pg.Rows) != 1 || pg.Rows[0].ID != users[3].ID || !pg.Rows[0].Selected || pg.Selected != 4 {
			t.Fatalf("search: %+v %v", pg, err)
		}
		_, err = s.CircularCandidates(ctx, a1, id, CandidateFilter{Search: "x\r\ny"})
		wantKind(t, err, panel.KindInvalid, "err.text.control")
		// Paging: two per page.
		pg, err = s.CircularCandidates(ctx, a1, id, CandidateFilter{Offset: 4, Limit: 2})
		if err != nil || pg.Total != 5 || len(pg.Rows) != 1 || pg.Rows[0].ID != users[4].ID {
			t.Fatalf("last page: %+v %v", pg, err)
		}
		// None, then tick one; all again clears the exceptions.
		if err := s.SelectCircular(ctx, a1, id, false); err != nil {
			t.Fatal(err)
		}
		if _, _, n = selectedLogins(t, s, a1, id); n != 0 {
			t.Fatalf("after 'none': %d selected", n)
		}
		if err := s.PickCircular(ctx, a1, id, []int64{users[3].ID, users[4].ID}, []int64{users[4].ID}); err != nil {
			t.Fatal(err)
		}
		if sel, _, n = selectedLogins(t, s, a1, id); n != 1 || sel[0] != users[4].Login {
			t.Fatalf("after ticking one: %v", sel)
		}
		if err := s.SelectCircular(ctx, a1, id, true); err != nil {
			t.Fatal(err)
		}
		if _, _, n = selectedLogins(t, s, a1, id); n != 5 {
			t.Fatalf("after 'all': %d selected", n)
		}
		wantKind(t, s.PickCircular(ctx, a1, id, make([]int64, 101), nil), panel.KindInvalid, "err.circular.page")
		// A selection of no one is refused and the draft stays a draft.
		if err := s.SelectCircular(ctx, a1, id, false); err != nil {
			t.Fatal(err)
		}
		_, err = s.QueueCircular(ctx, a1, id)
		wantKind(t, err, panel.KindInvalid, "err.circular.none")
		if c, _ := s.Circular(ctx, a1, id); c.Status != CircularDraft {
			t.Fatalf("status after refused queue: %s", c.Status)
		}
		// Four of five, queued: one pending row each, the names as they are now.
		if err := s.SelectCircular(ctx, a1, id, true); err != nil {
			t.Fatal(err)
		}
		if err := s.PickCircular(ctx, a1, id, []int64{users[1].ID}, nil); err != nil {
			t.Fatal(err)
		}
		n, err = s.QueueCircular(ctx, a1, id)
		if err != nil || n != 4 {
			t.Fatalf("queue: %d %v", n, err)
		}
		c, err = s.Circular(ctx, a1, id)
		if err != nil || c.Status != CircularSending || c.Counts.Total != 4 || c.Counts.Pending != 4 || c.Counts.Left() != 4 || c.QueuedAt.IsZero() {
			t.Fatalf("queued %+v %v", c, err)
		}
		recs, total, err := s.CircularRecipients(ctx, a1, id, RecipientFilter{})
		if err != nil || total != 4 || recs[0].Login != users[0].Login || recs[0].Email != "k1@example.com" || recs[0].Name != "Kunde 1" || recs[0].Company != "Firma Ä" || recs[0].Status != RecipientPending {
			t.Fatalf("recipients %+v %d %v", recs, total, err)
		}
		for _, r := range recs {
			if r.UserID == users[1].ID {
				t.Fatalf("the unticked user is a recipient")
			}
		}
		_, _, err = s.CircularRecipients(ctx, a2, id, RecipientFilter{})
		wantKind(t, err, panel.KindNotFound, "")
		_, _, err = s.CircularRecipients(ctx, a1, id, RecipientFilter{Status: "bogus"})
		wantKind(t, err, panel.KindInvalid, "err.circular.status")
		// A queued circular is no draft any more.
		wantKind(t, s.UpdateCircular(ctx, a1, id, testCircular), panel.KindConflict, "err.circular.queued")
		wantKind(t, s.PickCircular(ctx, a1, id, nil, nil), panel.KindConflict, "err.circular.queued")
		_, err = s.QueueCircular(ctx, a1, id)
		wantKind(t, err, panel.KindConflict, "err.circular.queued")
		_, err = s.RetryCircular(ctx, a1, id)
		wantKind(t, err, panel.KindInvalid, "err.circular.no_failed")
		// The list shows it with its counts; res2 has none.
		list, total, err := s.Circulars(ctx, a1, 0, 10)
		if err != nil || total != 1 || list[0].ID != id || list[0].Counts.Pending != 4 {
			t.Fatalf("list %+v %d %v", list, total, err)
		}
		if list, total, err := s.Circulars(ctx, a2, 0, 10); err != nil || total != 0 || len(list) != 0 {
			t.Fatalf("res2 sees %+v %d %v", list, total, err)
		}
	})
}

func TestSendCircularAtOnce(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a1, _, users, foreign := circularSetup(t, s)
		// One id that is not a candidate refuses the whole request.
		noMail, _ := s.UserByLogin(ctx, a1, "web6")
		for i, ids := range [][]int64{{users[0].ID, foreign.ID}, {noMail.ID}, {999999}} {
			_, _, err := s.SendCircular(ctx, a1, testCircular, false, ids)
			pe := wantKind(t, err, panel.KindInvalid, "err.circular.recipient")
			if want := fmt.Sprintf("recipients.%d", len(ids)-1); pe.Field != want {
				t.Errorf("case %d: field %s, want %s", i, pe.Field, want)
			}
		}
		_, _, err := s.SendCircular(ctx, a1, testCircular, false, nil)
		wantKind(t, err, panel.KindInvalid, "err.circular.none")
		if _, total, _ := s.Circulars(ctx, a1, 0, 10); total != 0 {
			t.Fatalf("refused requests stored %d circulars", total)
		}
		id, n, err := s.SendCircular(ctx, a1, testCircular, false, []int64{users[2].ID, users[0].ID, users[2].ID})
		if err != nil || n != 2 {
			t.Fatalf("two: %d %v", n, err)
		}
		if c, _ := s.Circular(ctx, a1, id); c.Status != CircularSending || c.Counts.Pending != 2 {
			t.Fatalf("queued %+v", c)
		}
		_, n, err = s.SendCircular(ctx, a1, testCircular, true, nil)
		if err != nil || n != 5 {
			t.Fatalf("all: %d %v", n, err)
		}
	})
}

// clock is a store clock tests move forward.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(c.t.Load(), 0) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d / time.Second)) }
func newClock() *clock               { c := &clock{}; c.t.Store(time.Now().Unix()); return c }
func openAt(t *testing.T, dsn string, c *clock) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// enginesAt is engines with a clock the test controls.
func enginesAt(t *testing.T, fn func(t *testing.T, s *Store, c *clock)) {
	t.Run("sqlite", func(t *testing.T) {
		c := newClock()
		fn(t, openAt(t, filepath.Join(t.TempDir(), "k.db"), c), c)
	})
	t.Run("postgres", func(t *testing.T) {
		c := newClock()
		fn(t, openAt(t, testenv.PostgresDSN(t), c), c)
	})
}

func TestCircularClaimFinishAndRetry(t *testing.T) {
	enginesAt(t, func(t *testing.T, s *Store, clk *clock) {
		ctx := context.Background()
		a1, _, users, _ := circularSetup(t, s)
		id, n, err := s.SendCircular(ctx, a1, testCircular, false, []int64{users[0].ID, users[1].ID, users[2].ID})
		if err != nil || n != 3 {
			t.Fatal(n, err)
		}
		lease := 2 * time.Minute
		claim := func() (CircularJob, bool) {
			t.Helper()
			job, ok, err := s.ClaimCircularRecipient(ctx, lease, 2)
			if err != nil {
				t.Fatal(err)
			}
			return job, ok
		}
		// Claims go in order and mark the row "sending" first.
		j1, ok := claim()
		if !ok || j1.Recipient.UserID != users[0].ID || j1.Recipient.Status != RecipientSending || j1.Recipient.Attempts != 1 ||
			j1.Circular.ID != id || j1.Circular.Subject != testCircular.Subject || j1.Circular.From != testCircular.From {
			t.Fatalf("first claim %+v %v", j1, ok)
		}
		j2, _ := claim()
		if j2.Recipient.UserID != users[1].ID {
			t.Fatalf("second claim %+v", j2.Recipient)
		}
		if c, _ := s.Circular(ctx, a1, id); c.Counts.Sending != 2 || c.Counts.Pending != 1 {
			t.Fatalf("counts %+v", c.Counts)
		}
		if err := s.FinishCircularRecipient(ctx, id, users[0].ID, "", ""); err != nil {
			t.Fatal(err)
		}
		reply := "550 5.1.1 <k2@example.com>: Recipient address rejected: User unknown"
		if err := s.FinishCircularRecipient(ctx, id, users[1].ID, reply, ""); err != nil {
			t.Fatal(err)
		}
		// The third is claimed, then the process "dies": nothing to do
		// until the lease is over.
		j3, _ := claim()
		if j3.Recipient.UserID != users[2].ID {
			t.Fatalf("third claim %+v", j3.Recipient)
		}
		if _, ok := claim(); ok {
			t.Fatal("a row in sending was handed out again before its lease ended")
		}
		clk.add(lease + time.Second)
		j3b, ok := claim()
		if !ok || j3b.Recipient.UserID != users[2].ID || j3b.Recipient.Attempts != 2 {
			t.Fatalf("retry after the lease: %+v %v", j3b.Recipient, ok)
		}
		// Died again: no third attempt, it is failed as interrupted.
		clk.add(lease + time.Second)
		if _, ok := claim(); ok {
			t.Fatal("a row interrupted twice was sent a third time")
		}
		c, err := s.Circular(ctx, a1, id)
		if err != nil || c.Status != CircularDone || c.Counts.Sent != 1 || c.Counts.Failed != 2 || c.FinishedAt.IsZero() {
			t.Fatalf("done %+v %v", c, err)
		}
		failed, total, err := s.CircularRecipients(ctx, a1, id, RecipientFilter{Status: RecipientFailed})
		if err != nil || total != 2 || failed[0].Error != reply || failed[1].ErrorKey != "err.circular.interrupted" {
			t.Fatalf("failed rows %+v %v", failed, err)
		}
		// A late result of the runner that lost the row changes nothing.
		if err := s.FinishCircularRecipient(ctx, id, users[2].ID, "", ""); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Circular(ctx, a1, id); c.Counts.Sent != 1 {
			t.Fatalf("a stale finish counted: %+v", c.Counts)
		}
		// The reseller was told, as an error since some failed (GEN-4).
		msgs, _, err := s.Messages(ctx, a1, MessageFilter{})
		if err != nil || len(msgs) == 0 || msgs[0].Key != "msg.circular.failed" || msgs[0].Kind != panel.MsgError ||
			fmt.Sprint(msgs[0].Args) != "[Wartung ##login## 1 2]" {
			t.Fatalf("messages %+v %v", msgs, err)
		}
		// Retry the failed ones: two pending again.
		n, err = s.RetryCircular(ctx, a1, id)
		if err != nil || n != 2 {
			t.Fatalf("retry %d %v", n, err)
		}
		if c, _ := s.Circular(ctx, a1, id); c.Status != CircularSending || c.Counts.Pending != 2 || c.Counts.Sent != 1 {
			t.Fatalf("after retry %+v", c)
		}
		for {
			j, ok := claim()
			if !ok {
				break
			}
			if err := s.FinishCircularRecipient(ctx, id, j.Recipient.UserID, "", ""); err != nil {
				t.Fatal(err)
			}
		}
		if c, _ := s.Circular(ctx, a1, id); c.Status != CircularDone || c.Counts.Sent != 3 {
			t.Fatalf("after retry sent %+v", c)
		}
		msgs, _, _ = s.Messages(ctx, a1, MessageFilter{})
		if msgs[0].Key != "msg.circular.done" || msgs[0].Kind != panel.MsgNotice {
			t.Fatalf("last message %+v", msgs[0])
		}
		_, err = s.RetryCircular(ctx, a1, id)
		wantKind(t, err, panel.KindInvalid, "err.circular.no_failed")
	})
}

// Several runners (several panels on one database) never get the same
// recipient.
func TestCircularClaimsDoNotOverlap(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a1, _, _, _ := circularSetup(t, s)
		ids := []int64{}
		for i := 0; i < 4; i++ {
			id, _, err := s.SendCircular(ctx, a1, testCircular, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					j, ok, err := s.ClaimCircularRecipient(ctx, time.Hour, 2)
					if err != nil {
						t.Error(err)
						return
					}
					if !ok {
						return
					}
					mu.Lock()
					seen[fmt.Sprint(j.Circular.ID, "/", j.Recipient.UserID)]++
					mu.Unlock()
					if err := s.FinishCircularRecipient(ctx, j.Circular.ID, j.Recipient.UserID, "", ""); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		var keys []string
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%s claimed %d times", k, n)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) != 20 {
			t.Fatalf("claimed %d recipients, want 20: %v", len(keys), keys)
		}
		for _, id := range ids {
			if c, _ := s.Circular(ctx, a1, id); c.Status != CircularDone || c.Counts.Sent != 5 {
				t.Fatalf("circular %d: %+v", id, c)
			}
		}
	})
}
