package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"kontor/internal/panel"
)

func TestLastUserChange(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Unix(1_700_000_000, 0)
		s.now = func() time.Time { return now }
		lim := panel.ResellerLimits{panel.ResUsers: {Value: 10, Mode: panel.ModeHard}}
		r, ra := reseller(t, s, lim, nil)
		_, ra2 := reseller(t, s, lim, nil)
		res, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		u := res.User
		if at, err := s.LastUserChange(ctx, ra, u.ID); err != nil || !at.Equal(now) {
			t.Fatalf("after creation: %v %v, want %v", at, err, now)
		}
		// A change of another user is not this user's; a server-wide one is.
		now = now.Add(time.Hour)
		if _, err := s.CreateUser(ctx, ra, NewUser{ResellerID: r.ID, PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
		if at, _ := s.LastUserChange(ctx, ra, u.ID); !at.Equal(now.Add(-time.Hour)) {
			t.Errorf("another user's change counted: %v", at)
		}
		now = now.Add(time.Hour)
		if err := s.tx(ctx, func(tx *sql.Tx) error { return s.journal(ctx, tx, 0, "", "server") }); err != nil {
			t.Fatal(err)
		}
		if at, _ := s.LastUserChange(ctx, ra, u.ID); !at.Equal(now) {
			t.Errorf("the server change is not the user's last: %v", at)
		}
		// The admin sees it; another reseller's id, a user's own account
		// and unknown ids look like none.
		if _, err := s.LastUserChange(ctx, admin, u.ID); err != nil {
			t.Errorf("admin: %v", err)
		}
		for _, c := range []struct {
			a  panel.Actor
			id int64
		}{{ra2, u.ID}, {ra, r.ID}, {ra, 999999}} {
			_, err := s.LastUserChange(ctx, c.a, c.id)
			wantKind(t, err, panel.KindNotFound, "")
		}
		// A pruned journal has nothing to wait for.
		last, _ := s.LastChangeID(ctx)
		if err := s.PruneChanges(ctx, last, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if at, err := s.LastUserChange(ctx, ra, u.ID); err != nil || !at.IsZero() {
			t.Errorf("after pruning: %v %v", at, err)
		}
	})
}
