package store

import (
	"context"
	"testing"

	"kontor/internal/panel"
)

// The User stats table (STA-1): use against limits per user, exceeders
// filtered and resources sorted in SQL, only the reseller's own users.
func TestStatsUserPages(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := newTrafficFixture(t, s) // web1 limit 1 MB, web2 unlimited, web3 0, web4 (res2) 5
		// Storage limits for the exceeders: web2 uses 50 of 10 MB.
		if err := s.SetUsage(ctx, f.web[2], panel.ResStorage, 50); err != nil {
			t.Fatal(err)
		}
		if err := s.SetUsage(ctx, f.web[1], panel.ResStorage, 0); err != nil {
			t.Fatal(err)
		}
		// Traffic: web1 3 MB (over its 1 MB), web2 9 MB (unlimited), web4 7 MB (over, but res2's).
		f.commit(t, 202603, cell(f.web[1], 20260302, "web", 3<<20, 3), cell(f.web[2], 20260302, "ftp", 9<<20, 1),
			cell(f.web[4], 20260302, "web", 7<<20, 1))

		rows, total, err := s.StatsUserPage(ctx, f.a1, StatsUserFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		// The reseller's default account and web1..web3.
		if total != 4 || len(rows) != 4 {
			t.Fatalf("total %d rows %d", total, len(rows))
		}
		byLogin := map[string]UserResources{}
		for _, r := range rows {
			byLogin[r.Login] = r
			if len(r.Resources) != len(panel.Resources()) {
				t.Fatalf("%s has %d resources", r.Login, len(r.Resources))
			}
		}
		if _, ok := byLogin["web4"]; ok {
			t.Fatal("res2's user in res1's stats")
		}
		w1 := byLogin["web1"].Use(panel.ResTraffic)
		if w1.Used != 3 || w1.Limit != 1 || !w1.Over() || w1.MeasuredAt.IsZero() {
			t.Fatalf("web1 traffic %+v", w1)
		}
		if u := byLogin["web2"].Use(panel.ResTraffic); u.Used != 9 || u.Over() {
			t.Fatalf("web2 traffic (unlimited) %+v", u)
		}
		if u := byLogin["web2"].Use(panel.ResStorage); u.Used != 50 || !u.Over() {
			t.Fatalf("web2 storage over a limit of 0 %+v", u)
		}
		if u := byLogin["web3"].Use(panel.ResPOP3); u.Used != 0 || u.Over() {
			t.Fatalf("web3 pop3 %+v", u)
		}

		ex, total, err := s.StatsUserPage(ctx, f.a1, StatsUserFilter{Exceeders: true})
		if err != nil {
			t.Fatal(err)
		}
		if total != 2 || len(ex) != 2 || ex[0].Login != "web1" || ex[1].Login != "web2" {
			t.Fatalf("exceeders %d %+v", total, ex)
		}
		// Paging and search.
		page, total, err := s.StatsUserPage(ctx, f.a1, StatsUserFilter{Limit: 2, Offset: 2})
		if err != nil || total != 4 || len(page) != 2 {
			t.Fatalf("page 2: %d %d %v", total, len(page), err)
		}
		found, total, err := s.StatsUserPage(ctx, f.a1, StatsUserFilter{Search: "WEB3"})
		if err != nil || total != 1 || found[0].Login != "web3" {
			t.Fatalf("search: %d %+v %v", total, found, err)
		}
		_, _, err = s.StatsUserPage(ctx, f.a1, StatsUserFilter{Search: "a\nb"})
		wantKind(t, err, panel.KindInvalid, "")

		// One resource across the users, most first.
		res, total, err := s.StatsResource(ctx, f.a1, StatsResourceFilter{Resource: panel.ResTraffic})
		if err != nil || total != 4 {
			t.Fatalf("resource: %d %v", total, err)
		}
		if res[0].Login != "web2" || res[0].Used != 9 || res[1].Login != "web1" || !res[1].Over() {
			t.Fatalf("by use: %+v", res)
		}
		res, total, err = s.StatsResource(ctx, f.a1, StatsResourceFilter{Resource: panel.ResTraffic, Exceeders: true})
		if err != nil || total != 1 || res[0].Login != "web1" {
			t.Fatalf("resource exceeders: %d %+v %v", total, res, err)
		}
		_, _, err = s.StatsResource(ctx, f.a1, StatsResourceFilter{Resource: "users"})
		wantKind(t, err, panel.KindNotFound, "")
		_, _, err = s.StatsResource(ctx, f.a1, StatsResourceFilter{Resource: "x' OR 1=1"})
		wantKind(t, err, panel.KindNotFound, "")

		// One user: the reseller's own only.
		one, err := s.StatsUserResources(ctx, f.a1, f.web[1])
		if err != nil || one.Login != "web1" || !one.Over() {
			t.Fatalf("one user: %+v %v", one, err)
		}
		_, err = s.StatsUserResources(ctx, f.a1, f.web[4])
		wantKind(t, err, panel.KindNotFound, "")
		_, err = s.StatsUserResources(ctx, f.a1, f.r1.ID) // a reseller is no user
		wantKind(t, err, panel.KindNotFound, "")
		_, err = s.StatsUserResources(ctx, f.a2, f.web[1])
		wantKind(t, err, panel.KindNotFound, "")
		// Not the admin, not a user, not a reseller acting in a user's panel.
		_, _, err = s.StatsUserPage(ctx, admin, StatsUserFilter{})
		wantKind(t, err, panel.KindForbidden, "")
		_, _, err = s.StatsUserPage(ctx, panel.Actor{ID: f.web[1], Role: panel.RoleUser}, StatsUserFilter{})
		wantKind(t, err, panel.KindForbidden, "")
		acting := f.a1
		acting.ActingID = f.web[1]
		_, err = s.StatsUserResources(ctx, acting, f.web[1])
		wantKind(t, err, panel.KindForbidden, "")
	})
}

func TestCollectorRunsAndAdmins(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := newTrafficFixture(t, s)
		f.commit(t, 202603, cell(f.web[1], 20260302, "web", 100, 1))
		f.commit(t, 202603, cell(f.web[1], 20260303, "web", 100, 1))
		runs, err := s.CollectorRuns(ctx, admin, 5)
		if err != nil || len(runs) != 2 || runs[0].Finished.IsZero() {
			t.Fatalf("runs %+v %v", runs, err)
		}
		_, err = s.CollectorRuns(ctx, f.a1, 5)
		wantKind(t, err, panel.KindForbidden, "")
		ids, err := s.AdminIDs(ctx)
		if err != nil || len(ids) != 0 {
			t.Fatalf("no admin yet: %v %v", ids, err)
		}
	})
}
