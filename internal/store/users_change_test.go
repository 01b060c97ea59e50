package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kontor/internal/panel"
)

// messageKeys returns the keys of the actor's newest messages, newest first.
func messageKeys(t *testing.T, s *Store, a panel.Actor, n int) []string {
	t.Helper()
	ms, _, err := s.Messages(context.Background(), a, MessageFilter{Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Key+" "+m.Subject+" "+strings.Join(m.Args, ","))
	}
	return out
}

// journalCount counts the change-journal rows of a user.
func journalCount(t *testing.T, s *Store, userID int64, what string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(context.Background(), s.q(`SELECT COUNT(*) FROM changes WHERE account_id = ? AND what = ?`), userID, what).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func usageOf(t *testing.T, s *Store, a panel.Actor, r panel.Resource) panel.UsageRow {
	t.Helper()
	rows, err := s.Usage(context.Background(), a, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if row.Resource == r {
			return row
		}
	}
	t.Fatalf("no usage row %s", r)
	return panel.UsageRow{}
}

func TestSetUserPlan(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, panel.ResellerLimits{
			panel.ResUsers:   {Value: 10, Mode: panel.ModeHard},
			panel.ResStorage: {Value: 1000, Mode: panel.ModeMaximum, AllowUnlimited: true},
			panel.ResPOP3:    {Value: 10, Mode: panel.ModeHard},
			panel.ResEmail:   {Value: 5, Mode: panel.ModeHard},
		}, panel.ServiceSet{panel.SvcPHP: 1, panel.SvcShell: 1})
		_, b := reseller(t, s, nil, nil)
		u1, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResPOP3: 6, panel.ResStorage: 100}})
		if err != nil {
			t.Fatal(err)
		}
		u2, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResPOP3: 2}})
		if err != nil {
			t.Fatal(err)
		}
		id := u1.User.ID

		// Raising within the hard limit: the user's own old value does not
		// count against it (6 → 8 with 2 elsewhere makes 10 of 10).
		over, err := s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResPOP3: 8}, nil, "")
		if err != nil || len(over) != 0 {
			t.Fatalf("raise to 8: %v %v", over, err)
		}
		if got := usageOf(t, s, a, panel.ResPOP3).Allocated; got.Sum != 10 {
			t.Fatalf("pop3 allocated %v, want 10", got)
		}
		// One more is refused, naming the resource, limit, allocation and ask.
		_, err = s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResPOP3: 9}, nil, "")
		pe := wantKind(t, err, panel.KindForbidden, "err.limit.hard")
		if pe.Field != "limit.pop3" || fmt.Sprint(pe.Args) != "[pop3 10 2 9]" {
			t.Fatalf("refusal %v field %s", pe.Args, pe.Field)
		}
		// Nothing of a refused change is stored, not even the other fields.
		_, err = s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResStorage: 300, panel.ResPOP3: 9}, nil, "")
		wantKind(t, err, panel.KindForbidden, "err.limit.hard")
		if u, _ := s.User(ctx, a, id); u.Limits[panel.ResStorage] != 100 || u.Limits[panel.ResPOP3] != 8 {
			t.Fatalf("half stored: %v", u.Limits)
		}
		// Past a maximum: allowed and reported; unlimited where authorised.
		over, err = s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResStorage: 1200}, nil, "")
		if err != nil || fmt.Sprint(over) != "[storage]" {
			t.Fatalf("over maximum: %v %v", over, err)
		}
		if _, err := s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResStorage: -1}, nil, ""); err != nil {
			t.Fatalf("unlimited storage: %v", err)
		}
		if got := usageOf(t, s, a, panel.ResStorage).Allocated; !got.Unlimited || got.Sum != 0 {
			t.Fatalf("storage allocation %+v after -1", got)
		}
		pe = wantKind(t, nil2b(s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResPOP3: -1}, nil, "")), panel.KindForbidden, "err.limit.no_unlimited")
		if pe.Field != "limit.pop3" {
			t.Fatalf("field %s", pe.Field)
		}
		wantKind(t, nil2b(s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResMySQL: 1}, nil, "")), panel.KindForbidden, "err.limit.not_available")
		wantKind(t, nil2b(s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResStorage: -2}, nil, "")), panel.KindInvalid, "err.limit.range")
		wantKind(t, nil2b(s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResUsers: 1}, nil, "")), panel.KindInvalid, "err.limit.unknown")

		// The admin lowers the hard limit below the allocation: lowering a
		// user is still allowed, raising is not.
		if err := s.SetResellerLimits(ctx, admin, a.ID, panel.ResellerLimits{panel.ResPOP3: {Value: 4, Mode: panel.ModeHard}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResPOP3: 7}, nil, ""); err != nil {
			t.Fatalf("lowering over a lowered limit: %v", err)
		}
		wantKind(t, nil2b(s.SetUserPlan(ctx, a, u2.User.ID, panel.Limits{panel.ResPOP3: 3}, nil, "")), panel.KindForbidden, "err.limit.hard")

		// Services: only what the reseller offers; one the admin took away
		// may stay but not be raised or switched on.
		if _, err := s.SetUserPlan(ctx, a, id, nil, panel.ServiceSet{panel.SvcPHP: 1, panel.SvcShell: 1}, ""); err != nil {
			t.Fatal(err)
		}
		wantKind(t, nil2b(s.SetUserPlan(ctx, a, id, nil, panel.ServiceSet{panel.SvcShell: 2}, "")), panel.KindForbidden, "err.service.not_offered")
		wantKind(t, nil2b(s.SetUserPlan(ctx, a, id, nil, panel.ServiceSet{panel.SvcCGI: 1}, "")), panel.KindForbidden, "err.service.not_offered")
		wantKind(t, nil2b(s.SetUserPlan(ctx, a, id, nil, panel.ServiceSet{panel.SvcPHP: 3}, "")), panel.KindInvalid, "err.service.level")
		if err := s.SetResellerServices(ctx, admin, a.ID, panel.ServiceSet{panel.SvcShell: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetUserPlan(ctx, a, id, nil, panel.ServiceSet{panel.SvcPHP: 1}, ""); err != nil {
			t.Fatalf("keeping a service the reseller lost: %v", err)
		}
		if u, _ := s.User(ctx, a, id); fmt.Sprint(u.Services) != "map[php:1]" {
			t.Fatalf("services %v", u.Services)
		}

		// Another reseller's user is not found; a user cannot change itself.
		wantKind(t, nil2b(s.SetUserPlan(ctx, b, id, panel.Limits{panel.ResPOP3: 1}, nil, "")), panel.KindNotFound, "")
		self := panel.Actor{ID: id, Role: panel.RoleUser, ResellerID: a.ID}
		wantKind(t, nil2b(s.SetUserPlan(ctx, self, id, panel.Limits{panel.ResPOP3: 1}, nil, "")), panel.KindForbidden, "")
		// The reseller itself is no user.
		wantKind(t, nil2b(s.SetUserPlan(ctx, a, a.ID, panel.Limits{panel.ResPOP3: 1}, nil, "")), panel.KindNotFound, "")

		// A template's name reaches the notice; each change is journalled.
		if _, err := s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResPOP3: 1}, panel.ServiceSet{}, "Basic"); err != nil {
			t.Fatal(err)
		}
		keys := messageKeys(t, s, a, 1)
		if keys[0] != "msg.user.template "+u1.User.Login+" Basic" {
			t.Fatalf("newest message %v", keys)
		}
		if n := journalCount(t, s, id, "services"); n < 5 {
			t.Fatalf("%d journal rows", n)
		}

		// The running totals equal a recomputation.
		before, _ := s.Usage(ctx, a, a.ID)
		if err := s.RecomputeTotals(ctx); err != nil {
			t.Fatal(err)
		}
		after, _ := s.Usage(ctx, a, a.ID)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Fatalf("totals drifted:\n%v\n%v", before, after)
		}
	})
}

func nil2b(_ []panel.Resource, err error) error { return err }

// TestLimitRaisesUnderConcurrency fires 20 parallel raises at a hard limit
// that fits 10 of them: the allocation never passes the limit (LIM-3).
func TestLimitRaisesUnderConcurrency(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 100, Mode: panel.ModeHard},
			panel.ResEmail: {Value: 10, Mode: panel.ModeHard}}, nil)
		batch := make([]NewUser, 20)
		for i := range batch {
			batch[i] = NewUser{ResellerID: a.ID, PasswordHash: "h"}
		}
		res, err := s.CreateUsers(ctx, a, a.ID, batch)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(res))
		for _, r := range res {
			wg.Add(1)
			go func(id int64) {
				defer wg.Done()
				_, err := s.SetUserPlan(ctx, a, id, panel.Limits{panel.ResEmail: 1}, nil, "")
				errs <- err
			}(r.User.ID)
		}
		wg.Wait()
		close(errs)
		ok, refused := 0, 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case panel.AsError(err).Key == "err.limit.hard":
				refused++
			default:
				t.Errorf("unexpected %v", err)
			}
		}
		var sum int64
		if err := s.db.QueryRowContext(ctx, s.q(`SELECT COALESCE(SUM(l.value), 0) FROM user_limits l JOIN accounts u ON u.id = l.account_id
			WHERE u.parent_id = ? AND l.resource = 'email'`), a.ID).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if ok != 10 || refused != 10 || sum != 10 {
			t.Fatalf("%d raised, %d refused, %d allocated; want 10, 10, 10", ok, refused, sum)
		}
		if got := usageOf(t, s, a, panel.ResEmail).Allocated.Sum; got != 10 {
			t.Fatalf("running total %d, want 10", got)
		}
	})
}

func TestUserProfilePasswordDomains(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}, nil)
		_, b := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}, nil)
		cr, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "one.example", DNS: true}}})
		if err != nil {
			t.Fatal(err)
		}
		u := cr.User
		other, err := s.CreateUser(ctx, b, NewUser{ResellerID: b.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "taken.example"}}})
		if err != nil {
			t.Fatal(err)
		}

		// Profile: stored, searchable, journalled, a notice.
		prof := panel.Profile{Name: " Clara Cäsar ", Email: "clara@example.org", City: "Köln", Custom: [3]string{"K-17"}, Show: []string{"name", "city"}}
		if err := s.SetUserProfile(ctx, a, u.ID, prof, "de", "ocean"); err != nil {
			t.Fatal(err)
		}
		got, _ := s.User(ctx, a, u.ID)
		if got.Profile.Name != "Clara Cäsar" || got.Profile.City != "Köln" || got.Profile.Custom[0] != "K-17" ||
			fmt.Sprint(got.Profile.Show) != "[name city]" || got.Language != "de" || got.Design != "ocean" {
			t.Fatalf("profile %+v %s %s", got.Profile, got.Language, got.Design)
		}
		if _, n, _ := s.Users(ctx, a, UserFilter{Search: "cäsar"}); n != 1 {
			t.Fatalf("search by new name finds %d", n)
		}
		if keys := messageKeys(t, s, a, 1); keys[0] != "msg.user.changed "+u.Login+" " {
			t.Fatalf("message %v", keys)
		}
		// Bad input names the field and stores nothing.
		for _, bad := range []struct {
			p     panel.Profile
			field string
		}{
			{panel.Profile{Name: "a\nb"}, "name"},
			{panel.Profile{Street: "x\r\ny"}, "street"},
			{panel.Profile{Email: "a@b\x00.de"}, "email"},
			{panel.Profile{Email: "not mail"}, "email"},
			{panel.Profile{Show: []string{"password"}}, "show"},
			{panel.Profile{Custom: [3]string{"", "", strings.Repeat("x", 201)}}, "custom3"},
		} {
			pe := wantKind(t, s.SetUserProfile(ctx, a, u.ID, bad.p, "", ""), panel.KindInvalid, "")
			if pe.Field != bad.field {
				t.Errorf("%+v: field %s, want %s", bad.p, pe.Field, bad.field)
			}
		}
		wantKind(t, s.SetUserProfile(ctx, a, u.ID, prof, "fr", ""), panel.KindInvalid, "err.language")
		wantKind(t, s.SetUserProfile(ctx, a, u.ID, prof, "", "neon"), panel.KindInvalid, "err.design")
		if again, _ := s.User(ctx, a, u.ID); again.Profile.Name != "Clara Cäsar" {
			t.Fatalf("bad input stored: %+v", again.Profile)
		}
		wantKind(t, s.SetUserProfile(ctx, b, u.ID, prof, "", ""), panel.KindNotFound, "")

		// Password: stored, sessions end, journalled, a notice.
		if err := s.CreateSession(ctx, Session{TokenHash: "t1", AccountID: u.ID, CSRF: "c", CreatedAt: s.now(), ExpiresAt: s.now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetUserPassword(ctx, a, u.ID, "newhash"); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.CredentialsByLogin(ctx, u.Login); c.PasswordHash != "newhash" {
			t.Fatalf("hash %q", c.PasswordHash)
		}
		if _, _, err := s.SessionActor(ctx, "t1"); err == nil {
			t.Fatal("session survived the password reset")
		}
		if journalCount(t, s, u.ID, "password") != 1 {
			t.Fatal("password change not journalled")
		}
		wantKind(t, s.SetUserPassword(ctx, b, u.ID, "x"), panel.KindNotFound, "")
		if c, _ := s.CredentialsByLogin(ctx, u.Login); c.PasswordHash != "newhash" {
			t.Fatal("foreign reseller changed the password")
		}

		// Domains: taken anywhere on the server; flags change with a notice.
		for name, want := range map[string]bool{"one.example": true, "taken.example": true, "free.example": false} {
			if got, err := s.DomainTaken(ctx, name); err != nil || got != want {
				t.Errorf("DomainTaken(%s) = %v %v", name, got, err)
			}
		}
		d := u.Domains[0]
		if err := s.SetDomainFlags(ctx, a, d.ID, false, true); err != nil {
			t.Fatal(err)
		}
		if d2, err := s.Domain(ctx, a, d.ID); err != nil || d2.DNS || !d2.DNR || d2.Name != "one.example" {
			t.Fatalf("flags %+v %v", d2, err)
		}
		if keys := messageKeys(t, s, a, 1); keys[0] != "msg.domain.changed "+u.Login+" one.example" {
			t.Fatalf("message %v", keys)
		}
		od := other.User.Domains[0]
		wantKind(t, s.SetDomainFlags(ctx, a, od.ID, true, true), panel.KindNotFound, "")
		wantKind(t, nil2d(s.Domain(ctx, a, od.ID)), panel.KindNotFound, "")
		wantKind(t, nil2d(s.Domain(ctx, a, 999999)), panel.KindNotFound, "")
		if d3, _ := s.Domain(ctx, b, od.ID); d3.DNS || d3.DNR {
			t.Fatal("foreign flags changed")
		}

		// Lock, unlock and delete leave notices.
		if err := s.SetStatus(ctx, a, u.ID, panel.StatusLocked); err != nil {
			t.Fatal(err)
		}
		if err := s.SetStatus(ctx, a, u.ID, panel.StatusEnabled); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, a, u.ID); err != nil {
			t.Fatal(err)
		}
		keys := messageKeys(t, s, a, 3)
		want := []string{"msg.user.deleted " + u.Login + " ", "msg.account.unlocked " + u.Login + " ", "msg.account.locked " + u.Login + " "}
		if fmt.Sprint(keys) != fmt.Sprint(want) {
			t.Fatalf("messages %q, want %q", keys, want)
		}
		if taken, _ := s.DomainTaken(ctx, "one.example"); taken {
			t.Fatal("the deleted user's domain is still taken")
		}
	})
}

func nil2d(_ panel.Domain, err error) error { return err }

func TestCheckNewUser(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 1, Mode: panel.ModeHard},
			panel.ResStorage: {Value: 100, Mode: panel.ModeMaximum}, panel.ResPOP3: {Value: 3, Mode: panel.ModeHard}}, panel.ServiceSet{panel.SvcPHP: 1})
		over, err := s.CheckNewUser(ctx, a, panel.Limits{panel.ResStorage: 150, panel.ResPOP3: 3}, panel.ServiceSet{panel.SvcPHP: 1})
		if err != nil || fmt.Sprint(over) != "[storage]" {
			t.Fatalf("check: %v %v", over, err)
		}
		pe := wantKind(t, nil2b(s.CheckNewUser(ctx, a, panel.Limits{panel.ResPOP3: 4}, nil)), panel.KindForbidden, "err.limit.hard")
		if pe.Field != "limit.pop3" {
			t.Fatalf("field %s", pe.Field)
		}
		wantKind(t, nil2b(s.CheckNewUser(ctx, a, nil, panel.ServiceSet{panel.SvcCGI: 1})), panel.KindForbidden, "err.service.not_offered")
		// Nothing was created by the checks; the one slot is still free.
		if n := countUsers(t, s, a); n != 1 { // the reseller's own account only
			t.Fatalf("%d accounts listed", n)
		}
		if _, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
		pe = wantKind(t, nil2b(s.CheckNewUser(ctx, a, nil, nil)), panel.KindForbidden, "err.limit.hard")
		if pe.Field != "limit.users" {
			t.Fatalf("field %s", pe.Field)
		}
		wantKind(t, nil2b(s.CheckNewUser(ctx, admin, nil, nil)), panel.KindForbidden, "err.forbidden")
	})
}

func TestFormTokens(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, nil, nil)
		_, b := reseller(t, s, nil, nil)
		tok, err := s.NewFormToken(ctx, a, "wizard")
		if err != nil {
			t.Fatal(err)
		}
		// Another reseller cannot use it.
		wantKind(t, nil3b(s.ClaimFormToken(ctx, b, "wizard", tok)), panel.KindInvalid, "err.once.expired")
		claimed, _, err := s.ClaimFormToken(ctx, a, "wizard", tok)
		if err != nil || !claimed {
			t.Fatalf("first claim: %v %v", claimed, err)
		}
		// While the first submission runs, a second is refused.
		wantKind(t, nil3b(s.ClaimFormToken(ctx, a, "wizard", tok)), panel.KindConflict, "err.once.busy")
		if err := s.ReleaseFormToken(ctx, a, "wizard", tok); err != nil {
			t.Fatal(err)
		}
		if claimed, _, err := s.ClaimFormToken(ctx, a, "wizard", tok); err != nil || !claimed {
			t.Fatalf("claim after release: %v %v", claimed, err)
		}
		if err := s.FinishFormToken(ctx, a, "wizard", tok, 42); err != nil {
			t.Fatal(err)
		}
		claimed, done, err := s.ClaimFormToken(ctx, a, "wizard", tok)
		if err != nil || claimed || done != 42 {
			t.Fatalf("claim after finish: %v %v %v", claimed, done, err)
		}
		// Parallel claims of a fresh token: exactly one wins.
		tok2, _ := s.NewFormToken(ctx, a, "wizard")
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if c, _, err := s.ClaimFormToken(ctx, a, "wizard", tok2); err == nil && c {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d claims won", wins)
		}
		for _, bad := range []string{"", "x", "123.abc", strings.Repeat("1", 10) + "." + strings.Repeat("g", 32), "1234567890." + strings.Repeat("a", 31) + "'"} {
			wantKind(t, nil3b(s.ClaimFormToken(ctx, a, "wizard", bad)), panel.KindInvalid, "err.once.expired")
		}
		// Tokens older than a day are swept when a new one is issued.
		s.now = func() time.Time { return time.Now().Add(25 * time.Hour) }
		if _, err := s.NewFormToken(ctx, a, "wizard"); err != nil {
			t.Fatal(err)
		}
		wantKind(t, nil3b(s.ClaimFormToken(ctx, a, "wizard", tok2)), panel.KindInvalid, "err.once.expired")
	})
}

func nil3b(_ bool, _ int64, err error) error { return err }

// TestPlanRespectsFrontPage: while FrontPage is on, custom error files and
// protected directories cannot be switched on (USR-5, both directions).
func TestPlanRespectsFrontPage(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		all := panel.ServiceSet{panel.SvcErrorFiles: 1, panel.SvcProtectedDirs: 1, panel.SvcPHP: 1}
		_, a := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 5, Mode: panel.ModeHard}}, all)
		res, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Services: panel.ServiceSet{panel.SvcPHP: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetFrontPageOn(ctx, a, res.User.ID, "fphash"); err != nil {
			t.Fatal(err)
		}
		for _, sv := range []panel.Service{panel.SvcErrorFiles, panel.SvcProtectedDirs} {
			_, err := s.SetUserPlan(ctx, a, res.User.ID, nil, panel.ServiceSet{panel.SvcPHP: 1, sv: 1}, "")
			if pe := wantKind(t, err, panel.KindForbidden, "err.frontpage.services"); pe.Field != sv.Field() {
				t.Errorf("%s: field %q", sv, pe.Field)
			}
		}
		u, _ := s.User(ctx, a, res.User.ID)
		if u.Services.On(panel.SvcErrorFiles) || u.Services.On(panel.SvcProtectedDirs) {
			t.Fatalf("refused change stored: %v", u.Services)
		}
		// With FrontPage off again, they may be switched on.
		if err := s.SetFrontPageOff(ctx, a, res.User.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetUserPlan(ctx, a, res.User.ID, nil, all, ""); err != nil {
			t.Fatal(err)
		}
	})
}
