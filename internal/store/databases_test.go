package store

import (
	"context"
	"sync"
	"testing"

	"kontor/internal/panel"
)

// mysqlUsed returns the reseller's "used" of mysql_dbs (LIM-3).
func mysqlUsed(t *testing.T, s *Store, ra panel.Actor) int64 {
	t.Helper()
	rows, err := s.Usage(context.Background(), ra, ra.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Resource == panel.ResMySQL {
			return r.Used
		}
	}
	t.Fatal("no mysql_dbs row")
	return 0
}

func dbNames(t *testing.T, s *Store, a panel.Actor, userID int64) []string {
	t.Helper()
	dbs, err := s.ListDatabases(context.Background(), a, userID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dbs {
		out = append(out, d.Name)
	}
	return out
}

func TestDatabases(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r, ra := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard},
			panel.ResMySQL: {Value: 20, Mode: panel.ModeHard}}, nil)
		// No MySQL: no database, none can be added.
		none, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		if got := dbNames(t, s, ra, none.User.ID); len(got) != 0 {
			t.Fatalf("user without MySQL has %v", got)
		}
		_, err = s.AddDatabase(ctx, ra, none.User.ID)
		wantKind(t, err, panel.KindForbidden, "err.db.none")

		u, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResMySQL: 3}})
		if err != nil {
			t.Fatal(err)
		}
		l := u.User.Login
		if got := dbNames(t, s, ra, u.User.ID); len(got) != 1 || got[0] != l+"_db1" {
			t.Fatalf("first database: %v", got)
		}
		if n := mysqlUsed(t, s, ra); n != 1 {
			t.Fatalf("used %d after creation, want 1", n)
		}
		// The user itself adds one; a reseller visiting acts as the user.
		ua := panel.Actor{ID: u.User.ID, Role: panel.RoleUser, ResellerID: r.ID}
		before, _ := s.LastChangeID(ctx)
		d2, err := s.AddDatabase(ctx, ua, u.User.ID)
		if err != nil || d2.Name != l+"_db2" {
			t.Fatalf("second: %+v %v", d2, err)
		}
		cs, _ := s.Changes(ctx, before, 10)
		if len(cs) != 1 || cs[0].What != "mysql" || cs[0].Login != l {
			t.Fatalf("journal: %+v", cs)
		}
		d3, err := s.AddDatabase(ctx, ra, u.User.ID)
		if err != nil || d3.Name != l+"_db3" {
			t.Fatalf("third: %+v %v", d3, err)
		}
		_, err = s.AddDatabase(ctx, ra, u.User.ID)
		wantKind(t, err, panel.KindForbidden, "err.db.limit")
		if n := mysqlUsed(t, s, ra); n != 3 {
			t.Fatalf("used %d, want 3", n)
		}
		// Deleting the second frees its number for the next.
		if err := s.DeleteDatabase(ctx, ua, u.User.ID, d2.ID); err != nil {
			t.Fatal(err)
		}
		if n := mysqlUsed(t, s, ra); n != 2 {
			t.Fatalf("used %d after delete, want 2", n)
		}
		d4, err := s.AddDatabase(ctx, ra, u.User.ID)
		if err != nil || d4.Name != l+"_db2" {
			t.Fatalf("reused number: %+v %v", d4, err)
		}
		if got := dbNames(t, s, ra, u.User.ID); len(got) != 3 {
			t.Fatalf("list %v", got)
		}
		notes := messagesOf(t, s, ra, panel.MsgNotice)
		if notes[0].Key != "msg.db.created" || notes[0].Args[0] != l+"_db2" || notes[1].Key != "msg.db.deleted" {
			t.Fatalf("notices: %+v", notes[:2])
		}

		// Foreign ids: another reseller, another user, a database of
		// another user — all "not found", nothing changed.
		_, rb := reseller(t, s, nil, nil)
		_, err = s.AddDatabase(ctx, rb, u.User.ID)
		wantKind(t, err, panel.KindNotFound, "")
		_, err = s.ListDatabases(ctx, rb, u.User.ID)
		wantKind(t, err, panel.KindNotFound, "")
		wantKind(t, s.DeleteDatabase(ctx, rb, u.User.ID, d3.ID), panel.KindNotFound, "")
		na := panel.Actor{ID: none.User.ID, Role: panel.RoleUser, ResellerID: r.ID}
		_, err = s.AddDatabase(ctx, na, u.User.ID)
		wantKind(t, err, panel.KindNotFound, "")
		wantKind(t, s.DeleteDatabase(ctx, na, none.User.ID, d3.ID), panel.KindNotFound, "")
		wantKind(t, s.DeleteDatabase(ctx, ra, none.User.ID, d3.ID), panel.KindNotFound, "")
		_, err = s.AddDatabase(ctx, ra, r.ID)
		wantKind(t, err, panel.KindNotFound, "")
		if got := dbNames(t, s, ra, u.User.ID); len(got) != 3 {
			t.Fatalf("after foreign attempts %v", got)
		}

		// Deleting the user gives its use back.
		if err := s.DeleteAccount(ctx, ra, u.User.ID); err != nil {
			t.Fatal(err)
		}
		if n := mysqlUsed(t, s, ra); n != 0 {
			t.Fatalf("used %d after deleting the user", n)
		}
		if err := s.RecomputeTotals(ctx); err != nil {
			t.Fatal(err)
		}
		if n := mysqlUsed(t, s, ra); n != 0 {
			t.Fatalf("recomputed used %d", n)
		}
	})
}

// TestAddDatabaseConcurrent: twenty parallel requests against a limit of
// five leave exactly five databases (the first one made at creation).
func TestAddDatabaseConcurrent(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r, ra := reseller(t, s, panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard},
			panel.ResMySQL: {Value: 5, Mode: panel.ModeHard}}, nil)
		u, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h", Limits: panel.Limits{panel.ResMySQL: 5}})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.AddDatabase(ctx, ra, u.User.ID)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					ok++
				} else if panel.ErrorKind(err) == panel.KindForbidden {
					refused++
				} else {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok != 4 || refused != 16 {
			t.Fatalf("%d added, %d refused; want 4 and 16", ok, refused)
		}
		names := dbNames(t, s, ra, u.User.ID)
		seen := map[string]bool{}
		for _, n := range names {
			seen[n] = true
		}
		if len(names) != 5 || len(seen) != 5 {
			t.Fatalf("databases %v", names)
		}
		if n := mysqlUsed(t, s, ra); n != 5 {
			t.Fatalf("used %d, want 5", n)
		}
	})
}
