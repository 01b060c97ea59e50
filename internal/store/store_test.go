package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kontor/internal/panel"
	"kontor/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var admin = panel.Actor{Role: panel.RoleAdmin, Login: "test"}

// engines runs fn once on SQLite and once on PostgreSQL: every store rule
// must hold on both.
func engines(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, open(t, filepath.Join(t.TempDir(), "k.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, open(t, testenv.PostgresDSN(t)))
	})
}

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func reseller(t *testing.T, s *Store, limits panel.ResellerLimits, svc panel.ServiceSet) (panel.Reseller, panel.Actor) {
	t.Helper()
	r, err := s.CreateReseller(context.Background(), admin, NewReseller{PasswordHash: "h", DefaultHash: "d", Name: "R", Limits: limits, Services: svc})
	if err != nil {
		t.Fatal(err)
	}
	return r, panel.Actor{ID: r.ID, Role: panel.RoleReseller, Login: r.Login, ResellerID: r.ID}
}

func wantKind(t *testing.T, err error, kind panel.Kind, key string) *panel.Error {
	t.Helper()
	var pe *panel.Error
	if !errors.As(err, &pe) || pe.Kind != kind || (key != "" && pe.Key != key) {
		t.Fatalf("got %v, want kind %d key %s", err, kind, key)
	}
	return pe
}

func countUsers(t *testing.T, s *Store, a panel.Actor) int {
	t.Helper()
	_, total, err := s.Users(context.Background(), a, UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

func TestMigrateTwice(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
	})
}

func TestAccountTree(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		lim := panel.ResellerLimits{panel.ResUsers: {Value: 5, Mode: panel.ModeHard}}
		r1, a1 := reseller(t, s, lim, nil)
		r2, a2 := reseller(t, s, lim, nil)
		if r1.Login != "res1" || r2.Login != "res2" {
			t.Fatalf("reseller logins %s %s", r1.Login, r2.Login)
		}
		// Every reseller has its own default account (ROLE-1).
		def, err := s.User(ctx, a1, r1.DefaultUserID)
		if err != nil || def.Login != "res1web0" || !def.IsDefault || def.ParentID != r1.ID {
			t.Fatalf("default user: %+v %v", def, err)
		}
		// Users are numbered server-wide across resellers.
		var logins []string
		for _, a := range []panel.Actor{a1, a2, a1} {
			res, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h"})
			if err != nil {
				t.Fatal(err)
			}
			logins = append(logins, res.User.Login)
		}
		if fmt.Sprint(logins) != "[web1 web2 web3]" {
			t.Fatalf("user logins %v", logins)
		}
		// The default account does not count as a user.
		if n, _ := s.countUsersOf(ctx, r1.ID); n != 2 {
			t.Fatalf("res1 has %d users, want 2", n)
		}
		// A deleted number is not reused while... a new user gets the next number.
		u, _ := s.UserByLogin(ctx, a1, "web3")
		if err := s.DeleteAccount(ctx, a1, u.ID); err != nil {
			t.Fatal(err)
		}
		res, err := s.CreateUser(ctx, a1, NewUser{ResellerID: a1.ID, PasswordHash: "h"})
		if err != nil || res.User.Login != "web4" {
			t.Fatalf("after delete: %v %v", res.User.Login, err)
		}
		// The default account cannot be deleted on its own.
		wantKind(t, s.DeleteAccount(ctx, a1, r1.DefaultUserID), panel.KindForbidden, "err.delete.default")
		// Deleting a reseller takes its users and domains with it.
		if _, err := s.AddDomain(ctx, a2, mustUser(t, s, a2, "web2").ID, NewDomain{Name: "gone.example"}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, admin, r2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByLogin(ctx, admin, "web2"); panel.ErrorKind(err) != panel.KindNotFound {
			t.Fatalf("web2 survived its reseller: %v", err)
		}
		// The domain is free again.
		if _, err := s.AddDomain(ctx, a1, res.User.ID, NewDomain{Name: "gone.example"}); err != nil {
			t.Fatalf("domain of deleted user still taken: %v", err)
		}
	})
}

func mustUser(t *testing.T, s *Store, a panel.Actor, login string) panel.User {
	t.Helper()
	u, err := s.UserByLogin(context.Background(), a, login)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// countUsersOf is a test helper outside any actor.
func (s *Store) countUsersOf(ctx context.Context, resellerID int64) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM accounts WHERE parent_id = ? AND is_default = 0`), resellerID).Scan(&n)
	return n, err
}

// TestHardLimitUnderConcurrency fires 50 parallel creations at a hard limit
// of 10 users, and 50 at a hard storage limit that fits 10 grants (LIM-3).
func TestHardLimitUnderConcurrency(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		cases := []struct {
			name   string
			limits panel.ResellerLimits
			ask    panel.Limits
			key    panel.Resource
		}{
			{"users", panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}, nil, panel.ResUsers},
			{"storage", panel.ResellerLimits{panel.ResUsers: {Value: 1000, Mode: panel.ModeMaximum},
				panel.ResStorage: {Value: 1000, Mode: panel.ModeHard}}, panel.Limits{panel.ResStorage: 100}, panel.ResStorage},
		}
		for _, c := range cases {
			r, a := reseller(t, s, c.limits, nil)
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.CreateUser(ctx, a, NewUser{ResellerID: r.ID, PasswordHash: "h", Limits: c.ask})
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			ok, refused := 0, 0
			for err := range errs {
				switch {
				case err == nil:
					ok++
				case panel.ErrorKind(err) == panel.KindForbidden:
					pe := panel.AsError(err)
					if pe.Key != "err.limit.hard" || pe.Args[0] != c.key {
						t.Errorf("%s: refusal %v does not name the resource", c.name, err)
					}
					refused++
				default:
					t.Errorf("%s: unexpected error %v", c.name, err)
				}
			}
			n, err := s.countUsersOf(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ok != 10 || refused != 40 || n != 10 {
				t.Fatalf("%s: %d created, %d refused, %d exist; want 10, 40, 10", c.name, ok, refused, n)
			}
		}
	})
}

func TestLimitRules(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, panel.ResellerLimits{
			panel.ResUsers:   {Value: 2, Mode: panel.ModeMaximum},
			panel.ResStorage: {Value: 100, Mode: panel.ModeMaximum},
			panel.ResPOP3:    {Value: -1, Mode: panel.ModeMaximum, AllowUnlimited: true},
			panel.ResEmail:   {Value: 10, Mode: panel.ModeHard},
			panel.ResTraffic: {Value: 50, Mode: panel.ModeMaximum},
		}, panel.ServiceSet{panel.SvcPHP: 1, panel.SvcShell: 1})
		create := func(l panel.Limits, sv panel.ServiceSet) (CreateResult, error) {
			return s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Limits: l, Services: sv})
		}
		// Past a maximum: allowed, reported as over.
		res, err := create(panel.Limits{panel.ResStorage: 150, panel.ResTraffic: 60}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res.Over) != "[storage traffic]" {
			t.Fatalf("over = %v", res.Over)
		}
		// -1 where allowed; refused where not.
		if _, err := create(panel.Limits{panel.ResPOP3: -1}, nil); err != nil {
			t.Fatalf("unlimited pop3: %v", err)
		}
		pe := wantKind(t, nil2(create(panel.Limits{panel.ResStorage: -1}, nil)), panel.KindForbidden, "err.limit.no_unlimited")
		if pe.Field != "limit.storage" {
			t.Fatalf("field %q", pe.Field)
		}
		// 0 at the reseller: the service is not available at all.
		wantKind(t, nil2(create(panel.Limits{panel.ResMySQL: 1}, nil)), panel.KindForbidden, "err.limit.not_available")
		// Hard limit names limit, allocation and request.
		if _, err := create(panel.Limits{panel.ResEmail: 8}, nil); err != nil {
			t.Fatal(err)
		}
		pe = wantKind(t, nil2(create(panel.Limits{panel.ResEmail: 3}, nil)), panel.KindForbidden, "err.limit.hard")
		if fmt.Sprint(pe.Args) != "[email 10 8 3]" {
			t.Fatalf("hard limit args %v", pe.Args)
		}
		// Bad values.
		wantKind(t, nil2(create(panel.Limits{panel.ResStorage: -2}, nil)), panel.KindInvalid, "err.limit.range")
		wantKind(t, nil2(create(panel.Limits{"bogus": 1}, nil)), panel.KindInvalid, "err.limit.unknown")
		// Services beyond what the reseller offers.
		wantKind(t, nil2(create(nil, panel.ServiceSet{panel.SvcCGI: 1})), panel.KindForbidden, "err.service.not_offered")
		wantKind(t, nil2(create(nil, panel.ServiceSet{panel.SvcShell: 2})), panel.KindForbidden, "err.service.not_offered")
		wantKind(t, nil2(create(nil, panel.ServiceSet{panel.SvcPHP: 2})), panel.KindInvalid, "err.service.level")
		// Reseller limit validation at the admin side.
		r, _ := reseller(t, s, nil, nil)
		wantKind(t, s.SetResellerLimits(ctx, admin, r.ID, panel.ResellerLimits{panel.ResTraffic: {Value: 5, Mode: panel.ModeHard}}), panel.KindInvalid, "err.limit.traffic_hard")
		wantKind(t, s.SetResellerLimits(ctx, admin, r.ID, panel.ResellerLimits{panel.ResStorage: {Value: 5, Mode: "soft"}}), panel.KindInvalid, "err.limit.mode")
		wantKind(t, s.SetResellerLimits(ctx, a, r.ID, panel.ResellerLimits{}), panel.KindForbidden, "err.forbidden")
	})
}

func nil2(_ CreateResult, err error) error { return err }

func TestBadInputStoresNothing(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 100, Mode: panel.ModeHard}}, nil)
		if _, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "taken.example"}}}); err != nil {
			t.Fatal(err)
		}
		long := ""
		for i := 0; i < 64; i++ {
			long += "a"
		}
		bad := map[string]string{
			"crlf":         "evil.example\r\nInclude /etc/passwd",
			"lf":           "evil.example\nx",
			"space":        "ev il.example",
			"dotdot":       "evil..example",
			"leading dot":  ".evil.example",
			"label63":      long + ".example",
			"single label": "localhost",
			"quote":        `evil".example`,
			"slash":        "../etc/passwd",
			"nul":          "evil\x00.example",
			"numeric tld":  "evil.123",
			"hyphen":       "-evil.example",
			"empty":        "",
		}
		for name, d := range bad {
			_, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "ok.example"}, {Name: d}}})
			pe := wantKind(t, err, panel.KindInvalid, "")
			if pe.Field != "domains.1" {
				t.Errorf("%s: field %q, want domains.1", name, pe.Field)
			}
		}
		// A domain used by anyone on the server is refused, and the whole
		// creation rolls back: no user, no half of the domains, no number used.
		_, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "fresh.example"}, {Name: "TAKEN.example."}}})
		wantKind(t, err, panel.KindConflict, "err.domain.taken")
		if n := countUsers(t, s, a); n != 2 { // web0 + the first user
			t.Fatalf("%d users after refused creations, want 2", n)
		}
		res, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "fresh.example"}}})
		if err != nil || res.User.Login != "web2" {
			t.Fatalf("next user %v %v: numbering leaked", res.User.Login, err)
		}
		// Personal data: control characters and over-long values.
		_, err = s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Profile: panel.Profile{Name: "A\r\nB"}})
		if pe := wantKind(t, err, panel.KindInvalid, "err.text.control"); pe.Field != "name" {
			t.Fatalf("field %q", pe.Field)
		}
		_, err = s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Profile: panel.Profile{Email: "a@b.example\r\nBcc: x@y.example"}})
		if pe := wantKind(t, err, panel.KindInvalid, "err.email"); pe.Field != "email" {
			t.Fatalf("field %q", pe.Field)
		}
		// IDN: stored in punycode, found by its Unicode form.
		res, err = s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "Müller-Bäckerei.de"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.User.Domains[0].Name; got != "xn--mller-bckerei-hfb76a.de" {
			t.Fatalf("stored %q", got)
		}
		rows, _, err := s.Users(ctx, a, UserFilter{Search: "bäckerei"})
		if err != nil || len(rows) != 1 || rows[0].Login != res.User.Login {
			t.Fatalf("unicode search: %+v %v", rows, err)
		}
	})
}

func TestOwnership(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		lim := panel.ResellerLimits{panel.ResUsers: {Value: 5, Mode: panel.ModeHard}}
		r1, a1 := reseller(t, s, lim, nil)
		_, a2 := reseller(t, s, lim, nil)
		res, err := s.CreateUser(ctx, a1, NewUser{ResellerID: r1.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "one.example"}}})
		if err != nil {
			t.Fatal(err)
		}
		u1 := res.User
		ua := panel.Actor{ID: u1.ID, Role: panel.RoleUser, ResellerID: r1.ID}
		// Another reseller sees nothing of it.
		wantKind(t, nil3(s.User(ctx, a2, u1.ID)), panel.KindNotFound, "")
		wantKind(t, nil3(s.UserByLogin(ctx, a2, u1.Login)), panel.KindNotFound, "")
		wantKind(t, s.SetPassword(ctx, a2, u1.ID, "x"), panel.KindNotFound, "")
		wantKind(t, s.SetStatus(ctx, a2, u1.ID, panel.StatusLocked), panel.KindNotFound, "")
		wantKind(t, s.DeleteAccount(ctx, a2, u1.ID), panel.KindNotFound, "")
		wantKind(t, s.DeleteDomain(ctx, a2, u1.Domains[0].ID), panel.KindNotFound, "")
		_, err = s.AddDomain(ctx, a2, u1.ID, NewDomain{Name: "intrude.example"})
		wantKind(t, err, panel.KindNotFound, "")
		_, _, err = s.Users(ctx, a2, UserFilter{ResellerID: r1.ID})
		wantKind(t, err, panel.KindNotFound, "")
		_, err = s.Reseller(ctx, a2, r1.ID)
		wantKind(t, err, panel.KindNotFound, "")
		_, err = s.Usage(ctx, a2, r1.ID)
		wantKind(t, err, panel.KindNotFound, "")
		// A user sees only itself.
		if _, err := s.User(ctx, ua, u1.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, nil3(s.User(ctx, ua, r1.DefaultUserID)), panel.KindNotFound, "")
		_, _, err = s.Users(ctx, ua, UserFilter{})
		wantKind(t, err, panel.KindForbidden, "")
		// Nothing changed.
		u, err := s.User(ctx, a1, u1.ID)
		if err != nil || u.Status != panel.StatusEnabled || len(u.Domains) != 1 {
			t.Fatalf("user changed: %+v %v", u, err)
		}
	})
}

func nil3(_ panel.User, err error) error { return err }

func TestUserListPagingAndSearch(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 100, Mode: panel.ModeHard}}, nil)
		for i := 1; i <= 30; i++ {
			name := fmt.Sprintf("Customer %02d", i)
			if i == 17 {
				name = "Zoë 100%_Special"
			}
			if _, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Profile: panel.Profile{Name: name},
				Domains: []NewDomain{{Name: fmt.Sprintf("site%02d.example", i)}}}); err != nil {
				t.Fatal(err)
			}
		}
		rows, total, err := s.Users(ctx, a, UserFilter{Offset: 25, Limit: 10})
		if err != nil || total != 31 || len(rows) != 6 {
			t.Fatalf("page 3: %d rows of %d, %v", len(rows), total, err)
		}
		if rows[len(rows)-1].Login != "web30" || len(rows[0].Domains) != 1 {
			t.Fatalf("order/domains wrong: %+v", rows)
		}
		for q, want := range map[string]int{"customer": 29, "site07": 1, "web1": 11, "100%_": 1, "ZOË": 1, "%": 1, "nobody": 0} {
			_, n, err := s.Users(ctx, a, UserFilter{Search: q})
			if err != nil || n != want {
				t.Errorf("search %q: %d, want %d (%v)", q, n, want, err)
			}
		}
	})
}

func TestUsage(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, panel.ResellerLimits{
			panel.ResUsers:   {Value: 1, Mode: panel.ModeMaximum},
			panel.ResStorage: {Value: 100, Mode: panel.ModeMaximum},
			panel.ResPOP3:    {Value: 10, Mode: panel.ModeMaximum, AllowUnlimited: true},
		}, nil)
		for _, l := range []panel.Limits{{panel.ResStorage: 60, panel.ResPOP3: 2}, {panel.ResStorage: 60, panel.ResPOP3: -1}} {
			if _, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Limits: l}); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := s.Usage(ctx, a, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		by := map[panel.Resource]panel.UsageRow{}
		for _, r := range rows {
			by[r.Resource] = r
		}
		if len(rows) != 13 {
			t.Fatalf("%d rows", len(rows))
		}
		if u := by[panel.ResUsers]; u.Used != 2 || !u.OverMaximum() {
			t.Errorf("users row %+v", u)
		}
		if u := by[panel.ResStorage]; u.Allocated.Sum != 120 || !u.OverMaximum() {
			t.Errorf("storage row %+v", u)
		}
		if u := by[panel.ResPOP3]; !u.Allocated.Unlimited || !u.OverMaximum() {
			t.Errorf("pop3 row %+v", u)
		}
		if u := by[panel.ResEmail]; u.OverMaximum() {
			t.Errorf("email row %+v", u)
		}
	})
}

func TestSessionsAndThrottle(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Unix(1_800_000_000, 0)
		s.now = func() time.Time { return now }
		r, _ := reseller(t, s, nil, nil)
		if err := s.CreateSession(ctx, Session{TokenHash: "t1", AccountID: r.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ss, act, err := s.SessionActor(ctx, "t1")
		if err != nil || act.Role != panel.RoleReseller || act.ResellerID != r.ID || ss.CSRF != "c" {
			t.Fatalf("session: %+v %+v %v", ss, act, err)
		}
		now = now.Add(2 * time.Hour)
		wantKind(t, nil4(s.SessionActor(ctx, "t1")), panel.KindUnauthorized, "err.session")
		now = now.Add(-2 * time.Hour)
		// Locking ends sessions.
		if err := s.SetStatus(ctx, admin, r.ID, panel.StatusLocked); err != nil {
			t.Fatal(err)
		}
		wantKind(t, nil4(s.SessionActor(ctx, "t1")), panel.KindUnauthorized, "err.session")
		// Throttle: the 3rd failure within the window locks for 10 minutes.
		for i := 1; i <= 3; i++ {
			until, err := s.RecordLoginFailure(ctx, "acct:x", 3, 15*time.Minute, 10*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if (i == 3) != !until.IsZero() {
				t.Fatalf("failure %d: until %v", i, until)
			}
		}
		until, _ := s.LoginLockedUntil(ctx, "acct:x")
		if !until.Equal(now.Add(10 * time.Minute)) {
			t.Fatalf("locked until %v", until)
		}
		now = now.Add(11 * time.Minute)
		if until, _ := s.LoginLockedUntil(ctx, "acct:x"); !until.IsZero() {
			t.Fatalf("still locked: %v", until)
		}
	})
}

func nil4(_ Session, _ panel.Actor, err error) error { return err }

func TestMessages(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, nil, nil)
		for i := 0; i < 30; i++ {
			kind := panel.MsgNotice
			if i%3 == 0 {
				kind = panel.MsgError
			}
			if err := s.AddMessage(ctx, a.ID, kind, "web1", "msg.domain.created", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		items, total, err := s.Messages(ctx, a, MessageFilter{Kind: panel.MsgError, Limit: 4})
		if err != nil || total != 10 || len(items) != 4 {
			t.Fatalf("%d of %d: %v", len(items), total, err)
		}
		if items[0].Args[0] != "27" || items[0].Kind != panel.MsgError {
			t.Fatalf("newest error first: %+v", items[0])
		}
		_, total, _ = s.Messages(ctx, a, MessageFilter{Limit: 10, Offset: 20})
		if total != 30 {
			t.Fatalf("total %d", total)
		}
		// Another reseller reads none of them.
		_, b := reseller(t, s, nil, nil)
		if _, total, _ := s.Messages(ctx, b, MessageFilter{}); total != 0 {
			t.Fatalf("other reseller sees %d messages", total)
		}
	})
}

// TestTotalsStayInStep checks the running reseller totals against a
// recomputation from the users' own rows after creations, a batch, usage
// updates and deletions.
func TestTotalsStayInStep(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, a := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 100, Mode: panel.ModeMaximum},
			panel.ResStorage: {Value: 1000, Mode: panel.ModeMaximum, AllowUnlimited: true}, panel.ResPOP3: {Value: 50, Mode: panel.ModeMaximum}}, nil)
		var ids []int64
		for i, l := range []panel.Limits{{panel.ResStorage: 100, panel.ResPOP3: 3}, {panel.ResStorage: -1}, {panel.ResPOP3: 7}} {
			res, err := s.CreateUser(ctx, a, NewUser{ResellerID: a.ID, PasswordHash: "h", Limits: l})
			if err != nil {
				t.Fatal(i, err)
			}
			ids = append(ids, res.User.ID)
		}
		batch := []NewUser{{ResellerID: a.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResStorage: 5}}, {ResellerID: a.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResStorage: 6}}}
		if _, err := s.CreateUsers(ctx, a, a.ID, batch); err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if err := s.SetUsage(ctx, id, panel.ResStorage, int64(10*(i+1))); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetUsage(ctx, ids[0], panel.ResStorage, 15); err != nil { // measured again: replaces
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, a, ids[1]); err != nil { // the unlimited one
			t.Fatal(err)
		}
		before, err := s.Usage(ctx, a, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		by := map[panel.Resource]panel.UsageRow{}
		for _, r := range before {
			by[r.Resource] = r
		}
		if st := by[panel.ResStorage]; st.Allocated != (panel.Allocation{Sum: 111}) || st.Used != 45 {
			t.Fatalf("storage totals %+v, want 111 allocated, 45 used", st)
		}
		if p := by[panel.ResPOP3]; p.Allocated.Sum != 10 {
			t.Fatalf("pop3 totals %+v", p)
		}
		if err := s.RecomputeTotals(ctx); err != nil {
			t.Fatal(err)
		}
		after, _ := s.Usage(ctx, a, a.ID)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Fatalf("running totals drifted:\n%v\n%v", before, after)
		}
		wantKind(t, s.SetUsage(ctx, 999999, panel.ResStorage, 1), panel.KindNotFound, "")
	})
}

func TestIPAddresses(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		lim := panel.ResellerLimits{panel.ResUsers: {Value: 5, Mode: panel.ModeHard}}
		r1, a1 := reseller(t, s, lim, nil)
		_, a2 := reseller(t, s, lim, nil)
		shared, err := s.AddIP(ctx, admin, "192.0.2.1", true, 0)
		if err != nil {
			t.Fatal(err)
		}
		excl, err := s.AddIP(ctx, admin, "2001:db8::10", false, r1.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", "192.0.2.300", "example.com", "fe80::1%eth0", "0.0.0.0", "192.0.2.1\n"} {
			_, err := s.AddIP(ctx, admin, bad, true, 0)
			if pe := wantKind(t, err, panel.KindInvalid, "err.ip"); pe.Field != "address" {
				t.Errorf("%q: field %q", bad, pe.Field)
			}
		}
		wantKind(t, nil5(s.AddIP(ctx, admin, "192.0.2.1", false, 0)), panel.KindConflict, "err.ip.taken")
		wantKind(t, nil5(s.AddIP(ctx, a1, "192.0.2.9", true, 0)), panel.KindForbidden, "")
		// Resellers see the shared address and their own exclusive ones.
		if ips, _ := s.IPs(ctx, a2); len(ips) != 1 || ips[0].Address != "192.0.2.1" {
			t.Fatalf("res2 sees %+v", ips)
		}
		u1, _ := s.CreateUser(ctx, a1, NewUser{ResellerID: a1.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "one.example"}, {Name: "two.example"}}})
		u2, _ := s.CreateUser(ctx, a1, NewUser{ResellerID: a1.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "three.example"}}})
		u3, _ := s.CreateUser(ctx, a2, NewUser{ResellerID: a2.ID, PasswordHash: "h", Domains: []NewDomain{{Name: "four.example"}}})
		d := func(u CreateResult, i int) int64 { return u.User.Domains[i].ID }
		// An exclusive address serves one user (all its domains), nobody else.
		if err := s.SetDomainIP(ctx, a1, d(u1, 0), excl.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDomainIP(ctx, a1, d(u1, 1), excl.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.SetDomainIP(ctx, a1, d(u2, 0), excl.ID), panel.KindConflict, "err.ip.exclusive_taken")
		// Another reseller can neither use it nor touch res1's domains.
		wantKind(t, s.SetDomainIP(ctx, a2, d(u3, 0), excl.ID), panel.KindNotFound, "")
		wantKind(t, s.SetDomainIP(ctx, a2, d(u1, 0), shared.ID), panel.KindNotFound, "")
		if err := s.SetDomainIP(ctx, a2, d(u3, 0), shared.ID); err != nil {
			t.Fatal(err)
		}
		// In use: it cannot change hands or go away.
		wantKind(t, s.SetIPOwner(ctx, admin, excl.ID, 0), panel.KindConflict, "err.ip.in_use")
		wantKind(t, s.DeleteIP(ctx, admin, shared.ID), panel.KindConflict, "err.ip.in_use")
		wantKind(t, s.SetIPOwner(ctx, admin, shared.ID, r1.ID), panel.KindInvalid, "err.ip.shared_owner")
		if err := s.SetDomainIP(ctx, a1, d(u1, 0), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDomainIP(ctx, a1, d(u1, 1), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.SetIPOwner(ctx, admin, excl.ID, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteIP(ctx, admin, excl.ID); err != nil {
			t.Fatal(err)
		}
		// MySQL external access permission.
		if err := s.SetResellerMySQLExternal(ctx, admin, r1.ID, true); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.Reseller(ctx, admin, r1.ID); !r.MySQLExternal {
			t.Fatal("mysql external not stored")
		}
		wantKind(t, s.SetResellerMySQLExternal(ctx, a1, r1.ID, true), panel.KindForbidden, "")
	})
}

func nil5(_ IP, err error) error { return err }
