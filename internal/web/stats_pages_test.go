package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kontor/internal/panel"
	"kontor/internal/stats"
	"kontor/internal/store"
)

var statsNow = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// collect writes a web log and an xferlog with known figures and runs
// the real collector over them, as kontor serve does every ten minutes;
// the collector's clock says 15 March 2026, so March is the month whose
// traffic is the users' traffic use.
// user1 (alpha.example): web 2.5 MB on 2 March and 1,234.5 MB on
// 4 March, FTP 1 MB on 3 March; user2 (beta.example): 7 MB web; plus an
// unknown vhost and a malformed line.
func (f *fixture) collect(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	web := strings.Join([]string{
		`alpha.example:80 192.0.2.1 - - [02/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 2621440 "-" "t"`,
		`alpha.example:443 192.0.2.1 - - [04/Mar/2026:10:00:00 +0000] "GET /big HTTP/1.1" 200 1294467072 "-" "t"`,
		`beta.example:80 192.0.2.2 - - [05/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 7340032 "-" "t"`,
		`unknown.example:80 192.0.2.3 - - [05/Mar/2026:11:00:00 +0000] "GET / HTTP/1.1" 200 100 "-" "t"`,
		`this is no log line`,
	}, "\n") + "\n"
	xfer := fmt.Sprintf("Tue Mar  3 09:12:01 2026 1 192.0.2.7 1048576 /html/a.zip b _ o r %s ftp 0 * c\n", f.user1.Login)
	for name, body := range map[string]string{"access.log": web, "xferlog": xfer} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logs, err := stats.DiscoverLogs(dir)
	if err != nil || len(logs) != 2 {
		t.Fatalf("logs %v %v", logs, err)
	}
	c := &stats.Collector{Store: f.app.Store, Now: func() time.Time { return statsNow }}
	if _, err := c.Collect(context.Background(), logs); err != nil {
		t.Fatal(err)
	}
}

func TestStatsPagesShowCollectedFigures(t *testing.T) {
	f := newFixture(t)
	f.collect(t)
	res1 := f.login(f.res1.Login, "/reseller/")
	u1 := itoa(f.user1.ID)

	// General → Overview (LIM-3): the measured traffic in the Used column
	// (2.5 + 1,234.5 + 1 MB = 1,238 MB, rounded up).
	code, body := res1.get("/reseller/general/")
	if code != http.StatusOK || !strings.Contains(text(body), "Traffic (MB/month) 1238 ") {
		t.Fatalf("overview: %d %s", code, text(body))
	}
	// The Stats menu's tiles are ready now.
	if _, body := res1.get("/reseller/stats/"); strings.Contains(body, `tile soon" href="/reseller/stats/users"`) ||
		strings.Contains(body, `tile soon" href="/reseller/stats/traffic"`) {
		t.Fatal("stats tiles still say coming")
	}

	// User stats: user1 over its traffic limit (0 = none) and marked.
	code, body = res1.get("/reseller/stats/users")
	txt := text(body)
	if code != http.StatusOK || !strings.Contains(txt, f.user1.Login) || !strings.Contains(txt, "▲ 1,238 / 0 (over the limit)") {
		t.Fatalf("user stats: %d %s", code, txt)
	}
	if !strings.Contains(body, `class="num over"`) || strings.Contains(txt, "7 / ") || strings.Contains(body, f.user2.Login+"<") {
		t.Fatalf("user stats highlight or foreign user: %s", txt)
	}
	if !strings.Contains(txt, "0 / 2") { // POP3: counted, none yet, limit 2
		t.Fatalf("pop3 cell: %s", txt)
	}
	// Exceeders only: user1, not the reseller's own account.
	_, all := res1.get("/reseller/stats/users?per=10")
	_, over := res1.get("/reseller/stats/users?over=1&per=10")
	if !strings.Contains(text(all), "2 users") || !strings.Contains(text(over), "1 users") || !strings.Contains(over, f.user1.Login+"</a>") {
		t.Fatalf("exceeders filter:\n%s\n%s", text(all), text(over))
	}
	_, none := res1.get("/reseller/stats/users?over=1&q=nobody")
	if !strings.Contains(text(none), "No user is over a limit.") {
		t.Fatalf("empty exceeders: %s", text(none))
	}
	code, body = res1.get("/reseller/stats/users?q=a%0Ab")
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Control characters") {
		t.Fatalf("bad search: %d %s", code, text(body))
	}

	// One user: history per month split web/FTP/mail, a line per day.
	code, body = res1.get("/reseller/stats/users/" + u1 + "?month=2026-03")
	txt = text(body)
	if code != http.StatusOK || !strings.Contains(txt, "March 2026 1,237.0 1.0 0.0 1,238.0 3") {
		t.Fatalf("user page: %d %s", code, txt)
	}
	if n := strings.Count(body, `<g class="bar">`); n != statsHistory {
		t.Fatalf("%d bars", n)
	}
	if n := strings.Count(body, `<circle class="pt"`); n != 31 {
		t.Fatalf("%d points for March", n)
	}
	if !strings.Contains(txt, "March 4 1,234.5 0.0 0.0 1,234.5") || strings.Contains(body, "NaN") {
		t.Fatalf("day table: %s", txt)
	}
	// One resource for all users, by use.
	code, body = res1.get("/reseller/stats/resource/traffic")
	if code != http.StatusOK || !strings.Contains(text(body), f.user1.Login+" ▲ 1,238 (over the limit) 0") {
		t.Fatalf("resource page: %d %s", code, text(body))
	}
	for _, bad := range []string{"/reseller/stats/resource/users", "/reseller/stats/resource/nope"} {
		if code, _ := res1.get(bad); code != http.StatusNotFound {
			t.Fatalf("%s: %d", bad, code)
		}
	}

	// Traffic: per user and month, summary, charts; res2's user absent.
	code, body = res1.get("/reseller/stats/traffic?month=2026-03")
	txt = text(body)
	if code != http.StatusOK || !strings.Contains(txt, f.user1.Login+" 1,237.0 1.0 0.0 ▲ 1,238.0 (over the limit) 0 3") {
		t.Fatalf("traffic: %d %s", code, txt)
	}
	if strings.Contains(txt, "March 5 7.0") || !strings.Contains(txt, "March 5 0.0") || strings.Contains(body, f.user2.Login+"<") {
		t.Fatalf("res2's traffic on res1's page: %s", txt)
	}
	if strings.Count(body, `<g class="bar">`) != statsHistory || strings.Count(body, `<circle class="pt"`) != 31 ||
		strings.Count(body, "<title") < 2+statsHistory {
		t.Fatal("traffic charts incomplete")
	}
	// February: an empty month charts zeros, 28 points.
	_, body = res1.get("/reseller/stats/traffic?month=2026-02")
	if strings.Count(body, `<circle class="pt"`) != 28 || strings.Contains(body, "NaN") || strings.Contains(body, "Inf") {
		t.Fatal("empty February")
	}
	for _, bad := range []string{"2026-13", "26-03", "2026-3", "march", "2026-03%0A", "1969-12"} {
		code, body := res1.get("/reseller/stats/traffic?month=" + bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Enter a month as a year and month") {
			t.Fatalf("month %q: %d %s", bad, code, text(body))
		}
	}

	// German: month names and number formats.
	if err := f.app.Store.SetLanguageDesign(context.Background(), panel.Actor{ID: f.res1.ID, Role: panel.RoleReseller, ResellerID: f.res1.ID}, "de", "default"); err != nil {
		t.Fatal(err)
	}
	_, body = res1.get("/reseller/stats/traffic?month=2026-03")
	txt = text(body)
	if !strings.Contains(txt, "März 2026 1.237,0 1,0 0,0 1.238,0 3") || !strings.Contains(txt, "4. März 1.234,5") || !strings.Contains(body, ">Mär 26<") {
		t.Fatalf("german traffic: %s", txt)
	}
	_, body = res1.get("/reseller/stats/users")
	if !strings.Contains(text(body), "▲ 1.238 / 0 (über dem Limit)") {
		t.Fatalf("german user stats: %s", text(body))
	}

	// Foreign and unknown ids: 404 on every stats page and API.
	api := f.apiLogin(f.res1.Login)
	for _, id := range []int64{f.user2.ID, f.res2.ID, f.res1.ID, 999999} {
		if code, _ := res1.get("/reseller/stats/users/" + itoa(id)); code != http.StatusNotFound {
			t.Errorf("page for id %d: %d", id, code)
		}
		if code, _ := api.do("GET", "/api/v1/stats/users/"+itoa(id), ""); code != http.StatusNotFound {
			t.Errorf("api for id %d: %d", id, code)
		}
	}
	if code, _ := f.login(f.user1.Login, "/user/").get("/reseller/stats/users/" + u1); code != http.StatusForbidden {
		t.Errorf("user on reseller stats: %d", code)
	}
}

func TestStatsAPI(t *testing.T) {
	f := newFixture(t)
	f.collect(t)
	api := f.apiLogin(f.res1.Login)
	code, body := api.do("GET", "/api/v1/stats/users?over=1", "")
	var users struct {
		Total int
		Users []struct {
			ID        int64
			Login     string
			Over      bool
			Resources map[string]struct {
				Used, Limit int64
				Over        bool
			}
		}
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &users) != nil || users.Total != 1 || users.Users[0].ID != f.user1.ID {
		t.Fatalf("users: %d %s", code, body)
	}
	if tr := users.Users[0].Resources["traffic"]; tr.Used != 1238 || !tr.Over || users.Users[0].Resources["storage"].Limit != 1200 {
		t.Fatalf("user1 resources: %+v", users.Users[0])
	}
	code, body = api.do("GET", "/api/v1/stats/users/"+itoa(f.user1.ID)+"?month=2026-03", "")
	var one struct {
		Months []struct {
			Month    string
			WebBytes int64 `json:"web_bytes"`
		}
		Days []struct{ Day string }
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &one) != nil || len(one.Months) != 12 || len(one.Days) != 31 ||
		one.Months[11].Month != "2026-03" || one.Months[11].WebBytes != 2621440+1294467072 || one.Days[3].Day != "2026-03-04" {
		t.Fatalf("user: %d %s", code, body)
	}
	code, body = api.do("GET", "/api/v1/stats/traffic?month=2026-03", "")
	var tr struct {
		Month  string
		Months []struct {
			Bytes    int64
			FTPBytes int64 `json:"ftp_bytes"`
		}
		Users []struct{ Login string }
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &tr) != nil || tr.Month != "2026-03" ||
		tr.Months[11].Bytes != 2621440+1294467072+1048576 || tr.Months[11].FTPBytes != 1048576 {
		t.Fatalf("traffic: %d %s", code, body)
	}
	if strings.Contains(body, f.user2.Login) || strings.Contains(body, "7340032") {
		t.Fatalf("res2's traffic in res1's API: %s", body)
	}
	for _, bad := range []string{"/api/v1/stats/traffic?month=2026-00", "/api/v1/stats/users/" + itoa(f.user1.ID) + "?month=x"} {
		code, body := api.do("GET", bad, "")
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `"field": "month"`) {
			t.Fatalf("%s: %d %s", bad, code, body)
		}
	}
	if code, _ := api.do("GET", "/api/v1/stats/users?q=%00", ""); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad search: %d", code)
	}
	if code, _ := f.apiLogin("admin").do("GET", "/api/v1/stats/users", ""); code != http.StatusForbidden {
		t.Fatalf("admin on reseller stats API: %d", code)
	}
}

func TestAdminStatsPage(t *testing.T) {
	f := newFixture(t)
	adm := f.login("admin", "/admin/")
	code, body := adm.get("/admin/stats")
	if code != http.StatusOK || !strings.Contains(text(body), "Last run never") {
		t.Fatalf("before any run: %d %s", code, text(body))
	}
	f.collect(t)
	code, body = adm.get("/admin/stats?month=2026-03")
	txt := text(body)
	// The whole server: user1's 1,238 MB and user2's 7 MB.
	if code != http.StatusOK || !strings.Contains(txt, "March 2026 1,244.0 1.0 0.0 1,245.0 4") {
		t.Fatalf("admin stats: %d %s", code, txt)
	}
	if !strings.Contains(txt, "Web unknown.example 1 0.0") || strings.Contains(txt, "Last run never") {
		t.Fatalf("unassigned or last run missing: %s", txt)
	}
	// Malformed lines count on the day of the run, this month.
	_, body = adm.get("/admin/stats")
	if !strings.Contains(text(body), "access.log : 1") {
		t.Fatalf("malformed lines missing: %s", text(body))
	}
	if !strings.Contains(body, `href="/admin/stats"`) {
		t.Fatal("no menu entry for the stats")
	}
	if code, _ := f.login(f.res1.Login, "/reseller/").get("/admin/stats"); code != http.StatusForbidden {
		t.Fatalf("reseller on admin stats: %d", code)
	}
}

var coordRe = regexp.MustCompile(`\s(?:x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)"`)

// checkSVG fails on coordinates that are no finite number inside the
// viewBox (with a margin), and returns the number of bars and points.
func checkSVG(t *testing.T, svg string) (bars, points int) {
	t.Helper()
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") || !strings.HasPrefix(svg, `<svg class="chart" viewBox="0 0 640 260"`) {
		t.Fatalf("bad svg: %s", svg)
	}
	if !strings.Contains(svg, "<title id=") || !strings.Contains(svg, "<desc id=") {
		t.Fatal("chart without title or description")
	}
	for _, m := range coordRe.FindAllStringSubmatch(svg, -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil || v < -1 || v > 641 || math.IsNaN(v) {
			t.Fatalf("coordinate %q in %s", m[0], svg)
		}
	}
	if m := regexp.MustCompile(`points="([^"]*)"`).FindStringSubmatch(svg); m != nil {
		for _, xy := range strings.Fields(m[1]) {
			for _, c := range strings.Split(xy, ",") {
				if v, err := strconv.ParseFloat(c, 64); err != nil || v < 0 || v > 640 {
					t.Fatalf("polyline point %q", xy)
				}
			}
		}
	}
	return strings.Count(svg, `<g class="bar">`), strings.Count(svg, `<circle class="pt"`)
}

func TestCharts(t *testing.T) {
	num := func(v float64, d int) string { return formatNumber("en", v, d) }
	series := []chartSeries{{"web", "Web"}, {"ftp", "FTP"}, {"mail", "Mail"}}
	mk := func(n int, v func(i int) []float64) chart {
		c := chart{ID: "c", Title: "T <&>", Desc: "D", YLabel: "MB", Series: series, Num: num}
		for i := 0; i < n; i++ {
			c.Points = append(c.Points, chartPoint{Label: strconv.Itoa(i + 1), Values: v(i)})
		}
		return c
	}
	zero := func(int) []float64 { return []float64{0, 0, 0} }
	huge := func(i int) []float64 { return []float64{math.MaxInt64, math.MaxInt64, float64(i)} }
	broken := func(int) []float64 { return []float64{math.NaN(), math.Inf(1), -5} }
	for _, tc := range []struct {
		name string
		c    chart
		n    int
	}{
		{"empty", mk(0, zero), 0}, {"zero", mk(12, zero), 12}, {"one", mk(1, func(int) []float64 { return []float64{5, 0, 0} }), 1},
		{"huge", mk(31, huge), 31}, {"broken", mk(3, broken), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bars, _ := checkSVG(t, string(tc.c.Bars()))
			if bars != tc.n {
				t.Fatalf("%d bars, want %d", bars, tc.n)
			}
			_, pts := checkSVG(t, string(tc.c.Line()))
			if pts != tc.n {
				t.Fatalf("%d points, want %d", pts, tc.n)
			}
			if !strings.Contains(string(tc.c.Bars()), "T &lt;&amp;&gt;") {
				t.Fatal("title not escaped")
			}
		})
	}
	// Round ticks: a maximum of 7 gives an axis up to 10.
	if got := string(mk(1, func(int) []float64 { return []float64{7, 0, 0} }).Bars()); !strings.Contains(got, ">10.0<") || !strings.Contains(got, ">2.5<") {
		t.Fatalf("ticks: %s", got)
	}
}

func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct {
		lang string
		v    float64
		d    int
		want string
	}{
		{"en", 1234.5, 1, "1,234.5"}, {"de", 1234.5, 1, "1.234,5"}, {"en", 0, 0, "0"}, {"de", 999, 0, "999"},
		{"en", 1234567, 0, "1,234,567"}, {"de", 1234567.25, 2, "1.234.567,25"}, {"en", -1500, 0, "-1,500"},
		{"en", math.NaN(), 1, "0.0"}, {"de", 0.04, 1, "0,0"},
	} {
		if got := formatNumber(tc.lang, tc.v, tc.d); got != tc.want {
			t.Errorf("formatNumber(%s, %v, %d) = %q, want %q", tc.lang, tc.v, tc.d, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{{"", 202603, true}, {"2026-03", 202603, true}, {"1970-01", 197001, true}, {"2026-13", 0, false}, {"2026-3", 0, false},
		{"2026-03\n", 0, false}, {"1969-12", 0, false}, {"２０２６-03", 0, false}} {
		got, err := parseMonth(tc.in, statsNow)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseMonth(%q) = %d, %v", tc.in, got, err)
		}
	}
	if monthsBack(202603, 12) != 202504 || monthsBack(202601, 2) != 202512 {
		t.Error("monthsBack")
	}
	_ = store.BytesPerMB
}
