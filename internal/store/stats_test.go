package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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

// refEncodeDays and refDecodeDays are the days column as first written
// (maps, strings.Split, strconv): the fast code must read and write the
// very same.
func refEncodeDays(days map[int]Traffic) string {
	var keys []int
	for d, t := range days {
		if t != (Traffic{}) {
			keys = append(keys, d)
		}
	}
	slices.Sort(keys)
	var parts []string
	for _, d := range keys {
		t := days[d]
		parts = append(parts, fmt.Sprintf("%d:%d,%d,%d,%d,%d,%d", d, t.WebBytes, t.WebHits, t.FTPBytes, t.FTPHits, t.MailBytes, t.MailHits))
	}
	return strings.Join(parts, ";")
}

func refDecodeDays(s string) (map[int]Traffic, error) {
	out := map[int]Traffic{}
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ";") {
		d, vals, ok := strings.Cut(part, ":")
		day, err := strconv.Atoi(d)
		f := strings.Split(vals, ",")
		if !ok || err != nil || day < 1 || day > 31 || len(f) != 6 {
			return nil, fmt.Errorf("bad %q", part)
		}
		var v [6]int64
		for i := range f {
			if v[i], err = strconv.ParseInt(f[i], 10, 64); err != nil || v[i] < 0 {
				return nil, fmt.Errorf("bad %q", part)
			}
		}
		out[day] = Traffic{WebBytes: v[0], WebHits: v[1], FTPBytes: v[2], FTPHits: v[3], MailBytes: v[4], MailHits: v[5]}
	}
	return out, nil
}

var daysSeeds = []string{
	"", "1:10,1,0,0,0,0;31:0,0,1099511627776,2,3,4", "1:0,0,0,0,0,0", "+1:1,2,3,4,5,6", "01:+5,0,0,0,0,0",
	"1:-0,0,0,0,0,0", "2:1,1,1,1,1,1;2:2,2,2,2,2,2", "9:9223372036854775807,0,0,0,0,0",
	"9:9223372036854775808,0,0,0,0,0", "9:99999999999999999999,0,0,0,0,0", "1:0,0,0,0,0,0,0", "1:0,0,0,0,0",
	"1:0,0,0,0,0,", "1:,0,0,0,0,0", ";", "1:0,0,0,0,0,0;", ";1:0,0,0,0,0,0", "0:0,0,0,0,0,0", "32:0,0,0,0,0,0",
	"x", "1", "1:", ":", "1:0,0,0,0,0,0:0", "1:0x1,0,0,0,0,0", "1:1_0,0,0,0,0,0", "1:0,0,0,0,0,-1", "-1:0,0,0,0,0,0",
	"1:0,0, 0,0,0,0", " 1:0,0,0,0,0,0", "1:000000000000000000001,0,0,0,0,0",
}

// The days column reads every input, good or bad, like the reference.
func FuzzDecodeDays(f *testing.F) {
	for _, s := range daysSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := decodeDays(s)
		want, werr := refDecodeDays(s)
		if (err == nil) != (werr == nil) || !maps.Equal(got, want) {
			t.Fatalf("decodeDays(%q) = %v, %v; reference %v, %v", s, got, err, want, werr)
		}
		if werr == nil {
			var a trafficDays
			for d, x := range want {
				a[d] = x
			}
			if enc := string(appendDays(nil, &a)); enc != refEncodeDays(want) {
				t.Fatalf("appendDays(%v) = %q, reference %q", want, enc, refEncodeDays(want))
			}
		}
	})
}

// trafficModel is what the tables must hold after a series of runs,
// computed the plain way.
type trafficModel struct {
	monthly    map[userAt]*refMonth
	resellers  map[userAt]Traffic // reseller, day
	unassigned map[string]Traffic // "day source name", web figures only
	used       map[int64]int64
}

type refMonth struct {
	Traffic
	days map[int]Traffic
}

func (m *trafficModel) apply(b TrafficBatch, parents map[int64]int64, deleted map[int64]bool) int {
	for _, c := range b.Cells {
		if deleted[c.UserID] {
			k := fmt.Sprintf("%d %s %s", c.Day, c.Source, DeletedUserName)
			x := m.unassigned[k]
			x.add("web", c.Bytes, c.Hits)
			m.unassigned[k] = x
			continue
		}
		k := userAt{c.UserID, c.Day / 100}
		if m.monthly[k] == nil {
			m.monthly[k] = &refMonth{days: map[int]Traffic{}}
		}
		r := m.monthly[k]
		r.add(c.Source, c.Bytes, c.Hits)
		d := r.days[c.Day%100]
		d.add(c.Source, c.Bytes, c.Hits)
		r.days[c.Day%100] = d
		rk := userAt{parents[c.UserID], c.Day}
		x := m.resellers[rk]
		x.add(c.Source, c.Bytes, c.Hits)
		m.resellers[rk] = x
	}
	for _, u := range b.Unassigned {
		k := fmt.Sprintf("%d %s %s", u.Day, u.Source, u.Name)
		x := m.unassigned[k]
		x.add("web", u.Bytes, u.Hits)
		m.unassigned[k] = x
	}
	changed := 0
	for k, r := range m.monthly {
		if k.at != b.UsageMonth {
			continue
		}
		mb := BytesToMB(r.Bytes())
		old, ok := m.used[k.user]
		if ok && old != mb || !ok && mb != 0 {
			m.used[k.user] = mb
			changed++
		}
	}
	return changed
}

// dump returns the model as the tables' dump would show it.
func (m *trafficModel) dump() []string {
	var out []string
	for k, r := range m.monthly {
		out = append(out, fmt.Sprintf("monthly %d %d %v %d %s", k.user, k.at, r.Traffic, r.Bytes(), refEncodeDays(r.days)))
	}
	for k, t := range m.resellers {
		out = append(out, fmt.Sprintf("reseller %d %d %v", k.user, k.at, t))
	}
	for k, t := range m.unassigned {
		out = append(out, fmt.Sprintf("unassigned %s %d %d", k, t.WebBytes, t.WebHits))
	}
	for u, mb := range m.used {
		out = append(out, fmt.Sprintf("used %d %d", u, mb))
	}
	slices.Sort(out)
	return out
}

func dumpTraffic(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	q := func(query string, row func(rows *sql.Rows) (string, error)) {
		rows, err := s.db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			line, err := row(rows)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	q(`SELECT account_id, month, `+trafficCols+`, bytes, days FROM traffic_monthly`, func(rows *sql.Rows) (string, error) {
		var id, bytes int64
		var month int
		var tr Traffic
		var days string
		err := rows.Scan(append(append([]any{&id, &month}, tr.scanArgs()...), &bytes, &days)...)
		return fmt.Sprintf("monthly %d %d %v %d %s", id, month, tr, bytes, days), err
	})
	q(`SELECT reseller_id, day, `+trafficCols+` FROM traffic_reseller_daily`, func(rows *sql.Rows) (string, error) {
		var id int64
		var day int
		var tr Traffic
		err := rows.Scan(append([]any{&id, &day}, tr.scanArgs()...)...)
		return fmt.Sprintf("reseller %d %d %v", id, day, tr), err
	})
	q(`SELECT day, source, name, bytes, hits FROM traffic_unassigned`, func(rows *sql.Rows) (string, error) {
		var day int
		var src, name string
		var bytes, hits int64
		err := rows.Scan(&day, &src, &name, &bytes, &hits)
		return fmt.Sprintf("unassigned %d %s %s %d %d", day, src, name, bytes, hits), err
	})
	q(`SELECT account_id, used FROM usage WHERE resource = 'traffic'`, func(rows *sql.Rows) (string, error) {
		var id, used int64
		err := rows.Scan(&id, &used)
		return fmt.Sprintf("used %d %d", id, used), err
	})
	slices.Sort(out)
	return out
}

// Runs of many cells, in the collector's order and shuffled, over two
// months, with zero cells, repeated cells, repeated unknown names and a
// user deleted between runs, store exactly what adding them up the plain
// way gives, and the resellers' totals stay the sum of their users' use.
func TestCommitTrafficMatchesModel(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := newTrafficFixture(t, s)
		parents := map[int64]int64{f.web[1]: f.r1.ID, f.web[2]: f.r1.ID, f.web[3]: f.r1.ID, f.web[4]: f.r2.ID}
		deleted := map[int64]bool{}
		m := &trafficModel{monthly: map[userAt]*refMonth{}, resellers: map[userAt]Traffic{}, unassigned: map[string]Traffic{}, used: map[int64]int64{}}
		rnd := rand.New(rand.NewPCG(5, 2026))
		batch := func(shuffled bool) TrafficBatch {
			var b TrafficBatch
			for range 400 {
				c := cell(f.web[1+rnd.IntN(4)], []int{202602, 202603}[rnd.IntN(2)]*100+1+rnd.IntN(28),
					TrafficSources[rnd.IntN(3)], rnd.Int64N(3*BytesPerMB), rnd.Int64N(50))
				if rnd.IntN(10) == 0 {
					c.Bytes, c.Hits = 0, 0
				}
				b.Cells = append(b.Cells, c)
			}
			if !shuffled {
				slices.SortFunc(b.Cells, func(a, b TrafficCell) int {
					return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.Day, b.Day), strings.Compare(a.Source, b.Source))
				})
			}
			for range 150 {
				b.Unassigned = append(b.Unassigned, UnassignedCell{Day: 20260301 + rnd.IntN(5), Source: "web",
					Name: fmt.Sprintf("n%d.example", rnd.IntN(20)), Bytes: rnd.Int64N(1000), Hits: rnd.Int64N(9)})
			}
			b.UsageMonth = 202603
			return b
		}
		for run, shuffled := range []bool{true, false, true} {
			if run == 2 {
				if err := s.DeleteAccount(ctx, f.a1, f.web[3]); err != nil {
					t.Fatal(err)
				}
				deleted[f.web[3]] = true
				for k := range m.monthly {
					if k.user == f.web[3] {
						delete(m.monthly, k)
					}
				}
				delete(m.used, f.web[3])
			}
			b := batch(shuffled)
			sent := slices.Clone(b.Cells)
			_, gen, err := s.LogOffsets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			b.Generation = gen
			n, err := s.CommitTraffic(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(b.Cells, sent) {
				t.Errorf("run %d: CommitTraffic changed the caller's cells", run)
			}
			if want := m.apply(b, parents, deleted); n != want {
				t.Errorf("run %d: %d users' use changed, want %d", run, n, want)
			}
			got, want := dumpTraffic(t, s), m.dump()
			if !slices.Equal(got, want) {
				t.Errorf("run %d: stored\n%s\nwant\n%s", run, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, r := range []panel.Reseller{f.r1, f.r2} {
				var total, sum int64
				if err := s.db.QueryRow(s.q(`SELECT used FROM reseller_totals WHERE reseller_id = ? AND resource = 'traffic'`), r.ID).Scan(&total); err != nil {
					t.Fatal(err)
				}
				if err := s.db.QueryRow(s.q(`SELECT COALESCE(SUM(u.used), 0) FROM usage u JOIN accounts a ON a.id = u.account_id
					WHERE a.parent_id = ? AND u.resource = 'traffic'`), r.ID).Scan(&sum); err != nil {
					t.Fatal(err)
				}
				if total != sum {
					t.Errorf("run %d: reseller %d traffic total %d, its users' use adds up to %d", run, r.ID, total, sum)
				}
			}
		}
	})
}

// statsDays answers like statsDayOK for every day of a few years,
// including the edges of the valid range, and for nonsense.
func TestStatsDaysMatchesStatsDayOK(t *testing.T) {
	var c statsDays
	check := func(d int) {
		if got, want := c.ok(d), statsDayOK(d); got != want {
			t.Fatalf("statsDays.ok(%d) = %v, statsDayOK %v", d, got, want)
		}
	}
	for _, y := range []int{1969, 1970, 2024, 2025, 2100, 9999, 10000} {
		for md := 0; md <= 9999; md++ {
			check(y*10000 + md)
		}
	}
	for _, d := range []int{0, 1, -1, -20260301, 20260301, 99999999, 1 << 40, -(1 << 40), 20260200, 20260229, 20240229} {
		check(d)
	}
}

// forIDs finds the rows of the ids asked for, whether they fill their
// range (one BETWEEN) or are spread out (IN lists).
func TestForIDs(t *testing.T) {
	engines(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		seedUsers(t, s, 30)
		var all []int64
		rows, err := s.db.Query(`SELECT id FROM accounts WHERE role = 'user' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			all = append(all, id)
		}
		rows.Close()
		for name, ids := range map[string][]int64{
			"dense":  all[2:20],
			"sparse": {all[0], all[len(all)-1]},
			"one":    {all[5]},
		} {
			var got []int64
			err := s.tx(ctx, func(tx *sql.Tx) error {
				return s.forIDs(ctx, tx, `SELECT id FROM accounts WHERE role = ? AND id %s ORDER BY id`, []any{"user"}, ids,
					func(rows *sql.Rows) error {
						var id int64
						if err := rows.Scan(&id); err != nil {
							return err
						}
						if _, found := slices.BinarySearch(ids, id); found {
							got = append(got, id)
						}
						return nil
					})
			})
			if err != nil || !slices.Equal(got, ids) {
				t.Errorf("%s: got %v, want %v (%v)", name, got, ids, err)
			}
		}
	})
}
