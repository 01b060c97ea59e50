package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kontor/internal/panel"
)

// trafficFixture: two resellers, res1 with web1 (limit 1 MB) and web2
// (unlimited) and web3 (limit 0), res2 with web4.
type trafficFixture struct {
	s          *Store
	r1, r2     panel.Reseller
	a1, a2     panel.Actor
	web        [5]int64 // web[n] is the id of webN
	generation int64
}

func newTrafficFixture(t *testing.T, s *Store) *trafficFixture {
	t.Helper()
	ctx := context.Background()
	lim := panel.ResellerLimits{
		panel.ResUsers:   {Value: 10, Mode: panel.ModeHard},
		panel.ResTraffic: {Value: panel.Unlimited, Mode: panel.ModeMaximum, AllowUnlimited: true},
	}
	f := &trafficFixture{s: s}
	f.r1, f.a1 = reseller(t, s, lim, nil)
	f.r2, f.a2 = reseller(t, s, lim, nil)
	for i, spec := range []struct {
		a     panel.Actor
		limit int64
		dom   string
	}{{f.a1, 1, "one.example"}, {f.a1, -1, "two.example"}, {f.a1, 0, "three.example"}, {f.a2, 5, "four.example"}} {
		res, err := s.CreateUser(ctx, spec.a, NewUser{ResellerID: spec.a.ID, PasswordHash: "h",
			Limits: panel.Limits{panel.ResTraffic: spec.limit}, Domains: []NewDomain{{Name: spec.dom}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.User.Login != fmt.Sprintf("web%d", i+1) {
			t.Fatalf("user %d is %s", i+1, res.User.Login)
		}
		f.web[i+1] = res.User.ID
	}
	return f
}

// commit stores cells (as "user day source bytes hits") with the next
// generation.
func (f *trafficFixture) commit(t *testing.T, usageMonth int, cells ...TrafficCell) int {
	t.Helper()
	_, gen, err := f.s.LogOffsets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.s.CommitTraffic(context.Background(), TrafficBatch{Generation: gen, Cells: cells, UsageMonth: usageMonth})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func cell(user int64, day int, src string, bytes, hits int64) TrafficCell {
	return TrafficCell{UserID: user, Day: day, Source: src, Bytes: bytes, Hits: hits}
}

func TestTrafficSumsAndViews(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := newTrafficFixture(t, s)
		f.commit(t, 202603,
			cell(f.web[1], 20260301, "web", 1000, 10),
			cell(f.web[1], 20260301, "ftp", 500, 1),
			cell(f.web[1], 20260331, "web", BytesPerMB, 1),
			cell(f.web[2], 20260215, "web", 7, 1),
			cell(f.web[4], 20260302, "mail", 42, 2))
		// A second run adds to the same rows.
		f.commit(t, 202603, cell(f.web[1], 20260301, "web", 1, 1), cell(f.web[2], 20260302, "ftp", 3*BytesPerMB, 3))

		ms, err := s.UserTraffic(ctx, f.a1, f.web[1], 202602, 202604)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 3 || ms[0].Month != 202602 || ms[0].Traffic != (Traffic{}) || ms[2].Month != 202604 {
			t.Fatalf("months %+v", ms)
		}
		want := Traffic{WebBytes: 1001 + BytesPerMB, WebHits: 12, FTPBytes: 500, FTPHits: 1}
		if ms[1].Traffic != want || ms[1].MB() != 2 {
			t.Errorf("web1 March %+v (%d MB), want %+v (2 MB)", ms[1].Traffic, ms[1].MB(), want)
		}
		days, err := s.TrafficDays(ctx, f.a1, f.web[1], 202603)
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 31 || days[0].Day != 20260301 || days[0].WebBytes != 1001 || days[0].FTPBytes != 500 ||
			days[30].WebBytes != BytesPerMB || days[1].Traffic != (Traffic{}) {
			t.Errorf("web1 March days %+v", days)
		}
		// February has 28 days in 2026.
		if days, _ := s.TrafficDays(ctx, f.a1, f.web[2], 202602); len(days) != 28 || days[14].WebBytes != 7 {
			t.Errorf("web2 February days %+v", days)
		}
		// The reseller's summary and days: res1's users only.
		sum, err := s.TrafficSummary(ctx, f.a1, f.r1.ID, 202602, 202603)
		if err != nil {
			t.Fatal(err)
		}
		if sum[0].Bytes() != 7 || sum[1].Bytes() != 1001+BytesPerMB+500+3*BytesPerMB || sum[1].MailBytes != 0 {
			t.Errorf("res1 summary %+v", sum)
		}
		rd, err := s.TrafficDays(ctx, f.a1, f.r1.ID, 202603)
		if err != nil {
			t.Fatal(err)
		}
		if rd[0].Bytes() != 1501 || rd[1].FTPBytes != 3*BytesPerMB || rd[30].WebBytes != BytesPerMB {
			t.Errorf("res1 days %+v", rd[:3])
		}
		// The admin sees the whole server.
		all, err := s.TrafficSummary(ctx, admin, 0, 202603, 202603)
		if err != nil {
			t.Fatal(err)
		}
		if all[0].MailBytes != 42 || all[0].Bytes() != sum[1].Bytes()+42 {
			t.Errorf("server summary %+v", all)
		}
		if d, _ := s.TrafficDays(ctx, admin, 0, 202603); d[1].Bytes() != 3*BytesPerMB+42 {
			t.Errorf("server day 2: %+v", d[1])
		}

		// The users' traffic use is their March traffic in MB, and the
		// reseller overview adds it up (LIM-3).
		rows, err := s.Usage(ctx, f.a1, f.r1.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Resource == panel.ResTraffic && r.Used != 2+3 {
				t.Errorf("res1 traffic used %d, want 5 (web1 2 MB, web2 3 MB)", r.Used)
			}
		}

		// The user list of a month: limits, exceeders, sorting, search.
		list, total, err := s.TrafficUsers(ctx, f.a1, TrafficUserFilter{Month: 202603})
		if err != nil {
			t.Fatal(err)
		}
		if total != 4 || len(list) != 4 { // res1web0 too
			t.Fatalf("res1 users %d %+v", total, list)
		}
		got := ""
		for _, r := range list {
			got += fmt.Sprintf("%s:%d:%d:%v ", r.Login, r.MB(), r.Limit, r.Over)
		}
		if got != "res1web0:0:0:false web1:2:1:true web2:3:-1:false web3:0:0:false " {
			t.Errorf("res1 users: %s", got)
		}
		over, total, err := s.TrafficUsers(ctx, f.a1, TrafficUserFilter{Month: 202603, Exceeders: true})
		if err != nil || total != 1 || len(over) != 1 || over[0].Login != "web1" {
			t.Errorf("exceeders %d %+v %v", total, over, err)
		}
		byUse, _, _ := s.TrafficUsers(ctx, f.a1, TrafficUserFilter{Month: 202603, ByUse: true, Limit: 2})
		if len(byUse) != 2 || byUse[0].Login != "web2" || byUse[1].Login != "web1" {
			t.Errorf("by use %+v", byUse)
		}
		found, total, _ := s.TrafficUsers(ctx, f.a1, TrafficUserFilter{Month: 202603, Search: "TWO.example"})
		if total != 1 || found[0].Login != "web2" {
			t.Errorf("search %d %+v", total, found)
		}
		// Limit 0 means no traffic at all: any use is over it.
		f.commit(t, 202603, cell(f.web[3], 20260303, "web", 1, 1))
		over, _, _ = s.TrafficUsers(ctx, f.a1, TrafficUserFilter{Month: 202603, Exceeders: true})
		if len(over) != 2 || over[1].Login != "web3" {
			t.Errorf("exceeders with web3 %+v", over)
		}
	})
}

func TestTrafficAccess(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := newTrafficFixture(t, s)
		f.commit(t, 0, cell(f.web[4], 20260302, "web", 42, 2))
		user1 := panel.Actor{ID: f.web[1], Role: panel.RoleUser, Login: "web1", ResellerID: f.r1.ID}
		acting := panel.Actor{ID: f.web[1], Role: panel.RoleUser, Login: "web1", ResellerID: f.r1.ID, ActingID: f.r1.ID}
		// Another reseller's user, reseller or figures: not found.
		_, err := s.UserTraffic(ctx, f.a1, f.web[4], 202603, 202603)
		wantKind(t, err, panel.KindNotFound, "")
		_, err = s.TrafficDays(ctx, f.a1, f.web[4], 202603)
		wantKind(t, err, panel.KindNotFound, "")
		_, err = s.TrafficDays(ctx, f.a1, f.r2.ID, 202603)
		wantKind(t, err, panel.KindNotFound, "")
		_, err = s.TrafficSummary(ctx, f.a1, f.r2.ID, 202603, 202603)
		wantKind(t, err, panel.KindNotFound, "")
		_, _, err = s.TrafficUsers(ctx, f.a1, TrafficUserFilter{ResellerID: f.r2.ID, Month: 202603})
		wantKind(t, err, panel.KindNotFound, "")
		// Only the admin sees the whole server.
		_, err = s.TrafficSummary(ctx, f.a1, 0, 202603, 202603)
		wantKind(t, err, panel.KindNotFound, "")
		_, err = s.TrafficDays(ctx, f.a1, 0, 202603)
		wantKind(t, err, panel.KindNotFound, "")
		// A user sees its own figures, not its neighbour's, not its
		// reseller's summary or user list, also when the reseller acts.
		if _, err := s.UserTraffic(ctx, user1, f.web[1], 202603, 202603); err != nil {
			t.Errorf("own traffic: %v", err)
		}
		for _, a := range []panel.Actor{user1, acting} {
			_, err = s.UserTraffic(ctx, a, f.web[2], 202603, 202603)
			wantKind(t, err, panel.KindNotFound, "")
			_, err = s.TrafficDays(ctx, a, f.r1.ID, 202603)
			wantKind(t, err, panel.KindNotFound, "")
			_, err = s.TrafficSummary(ctx, a, f.r1.ID, 202603, 202603)
			wantKind(t, err, panel.KindForbidden, "")
			_, _, err = s.TrafficUsers(ctx, a, TrafficUserFilter{ResellerID: f.r1.ID, Month: 202603})
			wantKind(t, err, panel.KindForbidden, "")
		}
		// Unassigned names and the collector's state: the admin only.
		_, err = s.UnassignedTraffic(ctx, f.a1, 202603, 10)
		wantKind(t, err, panel.KindForbidden, "")
		_, err = s.Collector(ctx, f.a1, 202603)
		wantKind(t, err, panel.KindForbidden, "")
		// The admin sees res2's figures.
		days, err := s.TrafficDays(ctx, admin, f.r2.ID, 202603)
		if err != nil || days[1].WebBytes != 42 {
			t.Errorf("admin: res2 days %+v %v", days, err)
		}
		// Bad months and ranges name the field.
		_, err = s.UserTraffic(ctx, f.a1, f.web[1], 202613, 202614)
		if pe := wantKind(t, err, panel.KindInvalid, "err.stats.month"); pe.Field != "from" {
			t.Errorf("field %q", pe.Field)
		}
		_, err = s.UserTraffic(ctx, f.a1, f.web[1], 202603, 202602)
		wantKind(t, err, panel.KindInvalid, "err.stats.range")
		_, err = s.TrafficSummary(ctx, f.a1, f.r1.ID, 200001, 202603)
		wantKind(t, err, panel.KindInvalid, "err.stats.range_long")
		_, err = s.TrafficDays(ctx, f.a1, f.web[1], 2026)
		wantKind(t, err, panel.KindInvalid, "err.stats.month")
		_, _, err = s.TrafficUsers(ctx, f.a1, TrafficUserFilter{Month: 202603, Search: "a\nb"})
		wantKind(t, err, panel.KindInvalid, "err.text.control")
	})
}

// Bad batches are refused whole: nothing of them is stored.
func TestCommitTrafficRefusesBadInput(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := newTrafficFixture(t, s)
		_, gen, err := s.LogOffsets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		good := cell(f.web[1], 20260301, "web", 1, 1)
		okOffset := LogOffset{Path: "/var/log/a.log", Pos: 10, Size: 10, FPLen: 10, FP: "ab12", Current: true}
		for _, c := range []struct {
			b   TrafficBatch
			key string
		}{
			{TrafficBatch{Cells: []TrafficCell{good, cell(f.web[1], 20260230, "web", 1, 1)}}, "err.stats.day"},
			{TrafficBatch{Cells: []TrafficCell{cell(f.web[1], 2026031, "web", 1, 1)}}, "err.stats.day"},
			{TrafficBatch{Cells: []TrafficCell{cell(f.web[1], 20260301, "imap", 1, 1)}}, "err.stats.source"},
			{TrafficBatch{Cells: []TrafficCell{cell(f.web[1], 20260301, "web", -1, 1)}}, "err.stats.negative"},
			{TrafficBatch{Cells: []TrafficCell{cell(0, 20260301, "web", 1, 1)}}, "err.notfound"},
			{TrafficBatch{Unassigned: []UnassignedCell{{Day: 20260301, Source: "web", Name: `evil"name`, Hits: 1}}}, "err.stats.name"},
			{TrafficBatch{Unassigned: []UnassignedCell{{Day: 20260301, Source: "web", Name: "a\nb", Hits: 1}}}, "err.stats.name"},
			{TrafficBatch{Unassigned: []UnassignedCell{{Day: 20260301, Source: "web", Name: "", Hits: 1}}}, "err.stats.name"},
			{TrafficBatch{Malformed: map[string]int64{"relative/log": 1}}, "err.stats.path"},
			{TrafficBatch{Malformed: map[string]int64{"/var/log/../x": 1}}, "err.stats.path"},
			{TrafficBatch{Offsets: map[string][]LogOffset{"/var/log/a\r.log": nil}}, "err.stats.path"},
			{TrafficBatch{Offsets: map[string][]LogOffset{"/var/log/a.log": {{Path: "/var/log/a.log", Pos: 11, Size: 10}}}}, "err.stats.offset"},
			{TrafficBatch{Offsets: map[string][]LogOffset{"/var/log/a.log": {{Path: "/var/log/a.log", FP: "XYZ"}}}}, "err.stats.offset"},
			{TrafficBatch{Offsets: map[string][]LogOffset{"/var/log/b.log": {okOffset}}}, "err.stats.path"},
			{TrafficBatch{Offsets: map[string][]LogOffset{"/var/log/a.log": {okOffset, okOffset}}}, "err.stats.offset"},
			{TrafficBatch{UsageMonth: 202600}, "err.stats.month"},
		} {
			c.b.Generation = gen
			_, err := s.CommitTraffic(ctx, c.b)
			wantKind(t, err, panel.KindInvalid, c.key)
		}
		// Nothing was stored, and the generation did not move.
		if ms, _ := s.UserTraffic(ctx, admin, f.web[1], 202603, 202603); ms[0].Traffic != (Traffic{}) {
			t.Errorf("a refused batch left traffic: %+v", ms)
		}
		offs, gen2, _ := s.LogOffsets(ctx)
		if gen2 != gen || len(offs) != 0 {
			t.Errorf("generation %d → %d, offsets %v", gen, gen2, offs)
		}
	})
}

// Two runs at once: the one that commits second started from stale
// offsets and is refused; nothing of it is stored.
func TestCommitTrafficConcurrentRuns(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := newTrafficFixture(t, s)
		_, gen, err := s.LogOffsets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		off := LogOffset{Path: "/var/log/a.log", Dev: 1, Inode: 2, Pos: 100, Size: 120, FPLen: 120, FP: "00ff", Current: true}
		a := TrafficBatch{Generation: gen, Cells: []TrafficCell{cell(f.web[1], 20260301, "web", 100, 1)},
			Offsets: map[string][]LogOffset{off.Path: {off}}, Lines: 1, Bytes: 100}
		if _, err := s.CommitTraffic(ctx, a); err != nil {
			t.Fatal(err)
		}
		_, err = s.CommitTraffic(ctx, a)
		wantKind(t, err, panel.KindConflict, "err.stats.concurrent")
		ms, _ := s.UserTraffic(ctx, admin, f.web[1], 202603, 202603)
		if ms[0].WebBytes != 100 || ms[0].WebHits != 1 {
			t.Errorf("after the refused run: %+v", ms[0].Traffic)
		}
		offs, gen2, err := s.LogOffsets(ctx)
		if err != nil || gen2 != gen+1 || len(offs[off.Path]) != 1 || offs[off.Path][0] != off {
			t.Errorf("offsets %+v gen %d %v", offs, gen2, err)
		}
		// Offsets of a path are replaced, those of other paths kept.
		off2 := off
		off2.Pos, off2.Size = 120, 130
		other := LogOffset{Path: "/var/log/xferlog", Dev: 1, Inode: 3, FP: "", Current: true}
		if _, err := s.CommitTraffic(ctx, TrafficBatch{Generation: gen2, Offsets: map[string][]LogOffset{other.Path: {other}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CommitTraffic(ctx, TrafficBatch{Generation: gen2 + 1, Offsets: map[string][]LogOffset{off.Path: {off2}}}); err != nil {
			t.Fatal(err)
		}
		offs, _, _ = s.LogOffsets(ctx)
		if len(offs) != 2 || offs[off.Path][0] != off2 || offs[other.Path][0] != other {
			t.Errorf("offsets %+v", offs)
		}
		st, err := s.Collector(ctx, admin, 202603)
		if err != nil || st.Runs != 3 || st.LastRun.IsZero() {
			t.Errorf("collector status %+v %v", st, err)
		}
	})
}

// Traffic of a user deleted while the collector ran is kept as
// unassigned; unknown names add up per day.
func TestCommitTrafficDeletedUser(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := newTrafficFixture(t, s)
		if err := s.DeleteAccount(ctx, f.a1, f.web[3]); err != nil {
			t.Fatal(err)
		}
		_, gen, _ := s.LogOffsets(ctx)
		_, err := s.CommitTraffic(ctx, TrafficBatch{Generation: gen,
			Cells: []TrafficCell{cell(f.web[3], 20260301, "web", 10, 1), cell(f.web[1], 20260301, "web", 5, 1)},
			Unassigned: []UnassignedCell{{Day: 20260301, Source: "web", Name: "x.example", Bytes: 3, Hits: 1},
				{Day: 20260302, Source: "web", Name: "x.example", Bytes: 4, Hits: 2}},
			Malformed: map[string]int64{"/var/log/a.log": 3}})
		if err != nil {
			t.Fatal(err)
		}
		un, err := s.UnassignedTraffic(ctx, admin, 202603, 10)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(un) != "[{web x.example 7 3} {web (deleted user) 10 1}]" {
			t.Errorf("unassigned %v", un)
		}
		st, _ := s.Collector(ctx, admin, TrafficMonthOf(time.Now()))
		if st.Malformed["/var/log/a.log"] != 3 {
			t.Errorf("malformed %v", st.Malformed)
		}
	})
}

// At the start of a month every user's traffic use starts over, also of
// users without traffic in the new month.
func TestTrafficUsageMonthChange(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 2, 20, 12, 0, 0, 0, time.Local)
		s.now = func() time.Time { return now }
		f := newTrafficFixture(t, s)
		if n := f.commit(t, 202602, cell(f.web[1], 20260220, "web", 5*BytesPerMB, 1), cell(f.web[2], 20260220, "web", 1, 1)); n != 2 {
			t.Errorf("%d users changed, want 2", n)
		}
		used := func() map[panel.Resource]int64 {
			rows, err := s.Usage(ctx, f.a1, f.r1.ID)
			if err != nil {
				t.Fatal(err)
			}
			out := map[panel.Resource]int64{}
			for _, r := range rows {
				out[r.Resource] = r.Used
			}
			return out
		}
		if u := used()[panel.ResTraffic]; u != 6 {
			t.Fatalf("February: res1 traffic %d, want 6", u)
		}
		// March: web2 has traffic again, web1 none.
		now = time.Date(2026, 3, 1, 0, 10, 0, 0, time.Local)
		if n := f.commit(t, 202603, cell(f.web[2], 20260301, "ftp", 2*BytesPerMB, 1)); n != 2 {
			t.Errorf("%d users changed, want 2", n)
		}
		if u := used()[panel.ResTraffic]; u != 2 {
			t.Errorf("March: res1 traffic %d, want 2", u)
		}
		// A run without anything new changes nothing.
		if n := f.commit(t, 202603); n != 0 {
			t.Errorf("%d users changed by an empty run", n)
		}
		// February's figures stay in the history.
		ms, _ := s.UserTraffic(ctx, f.a1, f.web[1], 202602, 202603)
		if ms[0].WebBytes != 5*BytesPerMB || ms[1].Bytes() != 0 {
			t.Errorf("web1 history %+v", ms)
		}
	})
}

func TestTrafficDaysEncoding(t *testing.T) {
	days := map[int]Traffic{1: {WebBytes: 10, WebHits: 1}, 31: {FTPBytes: 1 << 40, FTPHits: 2, MailBytes: 3, MailHits: 4}, 5: {}}
	enc := encodeDays(days)
	if enc != "1:10,1,0,0,0,0;31:0,0,1099511627776,2,3,4" {
		t.Errorf("encoded %q", enc)
	}
	back, err := decodeDays(enc)
	if err != nil || len(back) != 2 || back[31] != days[31] || back[1] != days[1] {
		t.Errorf("decoded %v %v", back, err)
	}
	for _, bad := range []string{"x", "1:1,2", "32:0,0,0,0,0,0", "1:0,0,0,0,0,-1", "1:0,0,0,0,0,0;"} {
		if _, err := decodeDays(bad); err == nil {
			t.Errorf("decodeDays(%q) passed", bad)
		}
	}
}
