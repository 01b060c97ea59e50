package web

import (
	"html/template"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"kontor/internal/panel"
	"kontor/internal/store"
)

// The Stats menu (STA-1, STA-2): User stats, one user's figures, one
// resource across the users, Traffic, and the admin's server-wide view.
// Every figure comes from the store methods, which check that the user or
// reseller is the actor's; the pages only format and chart.

func (s *Server) registerStats() {
	s.handle("GET", "/reseller/stats/users", panel.RoleReseller, s.statsUsers)
	s.handle("GET", "/reseller/stats/users/{id}", panel.RoleReseller, s.statsUser)
	s.handle("GET", "/reseller/stats/resource/{name}", panel.RoleReseller, s.statsResource)
	s.handle("GET", "/reseller/stats/traffic", panel.RoleReseller, s.statsTraffic)
	s.handle("GET", "/admin/stats", panel.RoleAdmin, s.adminStats)

	s.api("GET", "/api/v1/stats/users", panel.RoleReseller, s.apiStatsUsers)
	s.api("GET", "/api/v1/stats/users/{id}", panel.RoleReseller, s.apiStatsUser)
	s.api("GET", "/api/v1/stats/traffic", panel.RoleReseller, s.apiStatsTraffic)
}

// statsHistory is how many months the bar charts and history tables show,
// ending with the month asked for.
const statsHistory = 12

var monthRe = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}$`)

// parseMonth reads ?month=YYYY-MM; empty is the current month of now.
func parseMonth(v string, now time.Time) (int, error) {
	if v == "" {
		return store.TrafficMonthOf(now), nil
	}
	if !monthRe.MatchString(v) {
		return 0, panel.Invalid("month", "err.stats.month")
	}
	y, _ := strconv.Atoi(v[:4])
	m, _ := strconv.Atoi(v[5:])
	if y < 1970 || m < 1 || m > 12 {
		return 0, panel.Invalid("month", "err.stats.month")
	}
	return y*100 + m, nil
}

// monthsBack returns the month n-1 months before m (yyyymm).
func monthsBack(m, n int) int {
	t := time.Date(m/100, time.Month(m%100), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(n - 1), 0)
	return store.TrafficMonthOf(t)
}

// pageMonth reads the month of a page; a bad one is shown on the page
// (which then shows the current month) with status 422.
func (s *Server) pageMonth(r *http.Request, p *Page) (int, int) {
	now := s.app.Now()
	m, err := parseMonth(r.URL.Query().Get("month"), now)
	if err != nil {
		p.FormError(err)
		p.Form.Set("month", r.URL.Query().Get("month"))
		m = store.TrafficMonthOf(now)
		return m, http.StatusUnprocessableEntity
	}
	p.Form.Set("month", MonthISO(m))
	return m, http.StatusOK
}

// MonthISO is yyyymm as YYYY-MM (the month field's value and the API's).
func MonthISO(m int) string {
	return strconv.Itoa(m/100) + "-" + strconv.Itoa(m%100/10) + strconv.Itoa(m%10)
}

// Num formats a whole number the language's way (1,234 or 1.234).
func (p *Page) Num(v int64) string { return formatNumber(p.Lang, float64(v), 0) }

// MB formats bytes as megabytes with one decimal (1,234.5 or 1.234,5).
func (p *Page) MB(bytes int64) string {
	return formatNumber(p.Lang, float64(bytes)/store.BytesPerMB, 1)
}

// Limit shows a limit: ∞ for unlimited, the number otherwise.
func (p *Page) Limit(v int64) string {
	if v == panel.Unlimited {
		return "∞"
	}
	return p.Num(v)
}

// Month names a month (yyyymm): "March 2026", "März 2026".
func (p *Page) Month(m int) string {
	return p.T("month."+strconv.Itoa(m%100)) + " " + strconv.Itoa(m/100)
}

// MonthShort is the axis label of a month: "Mar 26", "Mär 26".
func (p *Page) MonthShort(m int) string {
	return p.T("month.short."+strconv.Itoa(m%100)) + " " + strconv.Itoa(m/100%100)
}

// Day formats a day (yyyymmdd) as the language writes dates.
func (p *Page) Day(d int) string {
	if p.Lang == "de" {
		return strconv.Itoa(d%100) + ". " + p.T("month."+strconv.Itoa(d/100%100))
	}
	return p.T("month."+strconv.Itoa(d/100%100)) + " " + strconv.Itoa(d%100)
}

// chartUnit picks the unit of a traffic axis from its largest value, so
// the tick labels stay short for a few kilobytes and for petabytes.
func chartUnit(maxBytes float64) (float64, string) {
	units := []string{"MB", "GB", "TB", "PB", "EB"}
	div := float64(store.BytesPerMB)
	i := 0
	for i < len(units)-1 && maxBytes/div >= 10000 {
		div *= 1024
		i++
	}
	return div, units[i]
}

func (p *Page) trafficSeries() []chartSeries {
	return []chartSeries{{"web", p.T("sta.web")}, {"ftp", p.T("sta.ftp")}, {"mail", p.T("sta.mail")}}
}

func trafficValues(t store.Traffic, div float64) []float64 {
	return []float64{float64(t.WebBytes) / div, float64(t.FTPBytes) / div, float64(t.MailBytes) / div}
}

func (p *Page) num() func(float64, int) string {
	return func(v float64, d int) string { return formatNumber(p.Lang, v, d) }
}

// monthBars is the stacked bar chart of traffic per month.
func (p *Page) monthBars(id, title string, months []store.TrafficMonth) template.HTML {
	top := 0.0
	for _, m := range months {
		top = math.Max(top, float64(m.Bytes()))
	}
	div, unit := chartUnit(top)
	c := chart{ID: id, Title: title, Desc: p.T("sta.chart.months_desc", len(months)), YLabel: unit,
		Series: p.trafficSeries(), Num: p.num()}
	for _, m := range months {
		c.Points = append(c.Points, chartPoint{Label: p.MonthShort(m.Month), Values: trafficValues(m.Traffic, div)})
	}
	return c.Bars()
}

// dayLine is the line chart of traffic per day of a month.
func (p *Page) dayLine(id, title string, days []store.TrafficDay) template.HTML {
	top := 0.0
	for _, d := range days {
		top = math.Max(top, float64(d.Bytes()))
	}
	div, unit := chartUnit(top)
	c := chart{ID: id, Title: title, Desc: p.T("sta.chart.days_desc", len(days)), YLabel: unit,
		Series: []chartSeries{{"total", p.T("sta.total")}}, Num: p.num(), LabelEvery: 5}
	for _, d := range days {
		c.Points = append(c.Points, chartPoint{Label: strconv.Itoa(d.Day % 100), Values: []float64{float64(d.Bytes()) / div}})
	}
	return c.Line()
}

// ---------------------------------------------------------------------
// User stats (STA-1).

type statsUsersData struct {
	Resources []panel.Resource
	Rows      []store.UserResources
	Q         string
	Over      bool
	Pager     Pager
}

func (s *Server) statsUsers(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.user_stats", "stats"
	pg := pager(r, 25)
	q := r.URL.Query().Get("q")
	over := r.URL.Query().Get("over") == "1"
	code := http.StatusOK
	rows, total, err := s.app.Store.StatsUserPage(r.Context(), p.Actor, store.StatsUserFilter{Search: q, Exceeders: over,
		Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		if panel.ErrorKind(err) != panel.KindInvalid {
			s.fail(w, r, p, err)
			return
		}
		// A bad search term is answered on the list, which stays usable.
		p.FormError(err)
		code = status(err)
	}
	pg.Total = total
	pg.Base = "/reseller/stats/users?q=" + url.QueryEscape(q) + "&per=" + strconv.Itoa(pg.Per)
	if over {
		pg.Base += "&over=1"
	}
	p.Form.Set("q", q)
	p.Data = statsUsersData{Resources: panel.Resources(), Rows: rows, Q: q, Over: over, Pager: pg}
	s.render(w, code, "sta_users", p)
}

type statsUserData struct {
	User   store.UserResources
	Month  int
	Months []store.TrafficMonth
	Days   []store.TrafficDay
	Bars   template.HTML
	Line   template.HTML
}

func (s *Server) statsUser(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "sta.user.title", "stats"
	id, err := pathID(r, "user")
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	month, code := s.pageMonth(r, p)
	d, err := s.userStats(r, p.Actor, id, month)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	d.Bars = p.monthBars("bars", p.T("sta.chart.months", d.User.Login), d.Months)
	d.Line = p.dayLine("days", p.T("sta.chart.days", d.User.Login, p.Month(month)), d.Days)
	p.Data = d
	s.render(w, code, "sta_user", p)
}

// userStats gathers one user's figures; the store checks the user is
// the actor's before any figure is read.
func (s *Server) userStats(r *http.Request, actor panel.Actor, id int64, month int) (statsUserData, error) {
	d := statsUserData{Month: month}
	var err error
	ctx := r.Context()
	if d.User, err = s.app.Store.StatsUserResources(ctx, actor, id); err != nil {
		return d, err
	}
	if d.Months, err = s.app.Store.UserTraffic(ctx, actor, id, monthsBack(month, statsHistory), month); err != nil {
		return d, err
	}
	if d.Days, err = s.app.Store.TrafficDays(ctx, actor, id, month); err != nil {
		return d, err
	}
	return d, nil
}

type statsResourceData struct {
	Resource panel.Resource
	Rows     []store.ResourceRow
	Over     bool
	Pager    Pager
}

func (s *Server) statsResource(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "sta.resource.title", "stats"
	res := panel.Resource(r.PathValue("name"))
	pg := pager(r, 25)
	over := r.URL.Query().Get("over") == "1"
	rows, total, err := s.app.Store.StatsResource(r.Context(), p.Actor, store.StatsResourceFilter{Resource: res, Exceeders: over,
		Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	pg.Total = total
	pg.Base = "/reseller/stats/resource/" + url.PathEscape(string(res)) + "?per=" + strconv.Itoa(pg.Per)
	if over {
		pg.Base += "&over=1"
	}
	p.Data = statsResourceData{Resource: res, Rows: rows, Over: over, Pager: pg}
	s.render(w, http.StatusOK, "sta_resource", p)
}

// ---------------------------------------------------------------------
// Traffic (STA-2).

type statsTrafficData struct {
	Month   int
	Summary []store.TrafficMonth
	Days    []store.TrafficDay
	Users   []store.TrafficUserRow
	Pager   Pager
	Bars    template.HTML
	Line    template.HTML
	// Admin only: names without a user, and the collector's state.
	Unassigned []store.UnassignedRow
	Collector  store.CollectorStatus
	Runs       []store.CollectorRun
}

// trafficStats gathers a reseller's (or, for the admin with id 0, the
// server's) traffic of month and the months before.
func (s *Server) trafficStats(r *http.Request, actor panel.Actor, resellerID int64, month int) (statsTrafficData, error) {
	d := statsTrafficData{Month: month}
	var err error
	ctx := r.Context()
	if d.Summary, err = s.app.Store.TrafficSummary(ctx, actor, resellerID, monthsBack(month, statsHistory), month); err != nil {
		return d, err
	}
	if d.Days, err = s.app.Store.TrafficDays(ctx, actor, resellerID, month); err != nil {
		return d, err
	}
	return d, nil
}

func (s *Server) statsTraffic(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.traffic", "stats"
	month, code := s.pageMonth(r, p)
	d, err := s.trafficStats(r, p.Actor, p.Actor.ID, month)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	pg := pager(r, 25)
	d.Users, pg.Total, err = s.app.Store.TrafficUsers(r.Context(), p.Actor, store.TrafficUserFilter{Month: month, ByUse: true,
		Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	pg.Base = "/reseller/stats/traffic?month=" + MonthISO(month) + "&per=" + strconv.Itoa(pg.Per)
	d.Pager = pg
	d.Bars = p.monthBars("bars", p.T("sta.chart.summary"), d.Summary)
	d.Line = p.dayLine("days", p.T("sta.chart.days_all", p.Month(month)), d.Days)
	p.Data = d
	s.render(w, code, "sta_traffic", p)
}

func (s *Server) adminStats(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.server_stats", "server"
	month, code := s.pageMonth(r, p)
	d, err := s.trafficStats(r, p.Actor, 0, month)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	ctx := r.Context()
	if d.Unassigned, err = s.app.Store.UnassignedTraffic(ctx, p.Actor, month, 50); err != nil {
		s.fail(w, r, p, err)
		return
	}
	if d.Collector, err = s.app.Store.Collector(ctx, p.Actor, month); err != nil {
		s.fail(w, r, p, err)
		return
	}
	if d.Runs, err = s.app.Store.CollectorRuns(ctx, p.Actor, 10); err != nil {
		s.fail(w, r, p, err)
		return
	}
	d.Bars = p.monthBars("bars", p.T("sta.chart.server"), d.Summary)
	d.Line = p.dayLine("days", p.T("sta.chart.days_all", p.Month(month)), d.Days)
	p.Data = d
	s.render(w, code, "sta_admin", p)
}

// ---------------------------------------------------------------------
// JSON API.

type apiResourceUse struct {
	Used       int64      `json:"used"`
	Limit      int64      `json:"limit"`
	Over       bool       `json:"over"`
	MeasuredAt *time.Time `json:"measured_at,omitempty"`
}

type apiStatsUser struct {
	ID        int64                     `json:"id"`
	Login     string                    `json:"login"`
	Over      bool                      `json:"over"`
	Resources map[string]apiResourceUse `json:"resources"`
}

func apiUserResources(u store.UserResources) apiStatsUser {
	out := apiStatsUser{ID: u.ID, Login: u.Login, Over: u.Over(), Resources: map[string]apiResourceUse{}}
	for _, r := range u.Resources {
		x := apiResourceUse{Used: r.Used, Limit: r.Limit, Over: r.Over()}
		if !r.MeasuredAt.IsZero() {
			t := r.MeasuredAt.UTC()
			x.MeasuredAt = &t
		}
		out.Resources[string(r.Resource)] = x
	}
	return out
}

type apiTraffic struct {
	Month     string `json:"month,omitempty"`
	Day       string `json:"day,omitempty"`
	WebBytes  int64  `json:"web_bytes"`
	WebHits   int64  `json:"web_hits"`
	FTPBytes  int64  `json:"ftp_bytes"`
	FTPHits   int64  `json:"ftp_hits"`
	MailBytes int64  `json:"mail_bytes"`
	MailHits  int64  `json:"mail_hits"`
	Bytes     int64  `json:"bytes"`
}

func toAPITraffic(t store.Traffic) apiTraffic {
	return apiTraffic{WebBytes: t.WebBytes, WebHits: t.WebHits, FTPBytes: t.FTPBytes, FTPHits: t.FTPHits,
		MailBytes: t.MailBytes, MailHits: t.MailHits, Bytes: t.Bytes()}
}

func apiMonths(ms []store.TrafficMonth) []apiTraffic {
	out := []apiTraffic{}
	for _, m := range ms {
		t := toAPITraffic(m.Traffic)
		t.Month = MonthISO(m.Month)
		out = append(out, t)
	}
	return out
}

func apiDays(ds []store.TrafficDay) []apiTraffic {
	out := []apiTraffic{}
	for _, d := range ds {
		t := toAPITraffic(d.Traffic)
		t.Day = MonthISO(d.Day/100) + "-" + strconv.Itoa(d.Day%100/10) + strconv.Itoa(d.Day%10)
		out = append(out, t)
	}
	return out
}

func (s *Server) apiStatsUsers(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	pg := pager(r, 25)
	rows, total, err := s.app.Store.StatsUserPage(r.Context(), rs.actor, store.StatsUserFilter{Search: r.URL.Query().Get("q"),
		Exceeders: r.URL.Query().Get("over") == "1", Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		return err
	}
	out := []apiStatsUser{}
	for _, u := range rows {
		out = append(out, apiUserResources(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "page": pg.Page, "per": pg.Per, "users": out})
	return nil
}

func (s *Server) apiStatsUser(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	month, err := parseMonth(r.URL.Query().Get("month"), s.app.Now())
	if err != nil {
		return err
	}
	d, err := s.userStats(r, rs.actor, id, month)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": apiUserResources(d.User), "month": MonthISO(month),
		"months": apiMonths(d.Months), "days": apiDays(d.Days)})
	return nil
}

func (s *Server) apiStatsTraffic(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	month, err := parseMonth(r.URL.Query().Get("month"), s.app.Now())
	if err != nil {
		return err
	}
	d, err := s.trafficStats(r, rs.actor, rs.actor.ID, month)
	if err != nil {
		return err
	}
	pg := pager(r, 25)
	users, total, err := s.app.Store.TrafficUsers(r.Context(), rs.actor, store.TrafficUserFilter{Month: month, ByUse: true,
		Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		return err
	}
	type apiUserTraffic struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Limit int64  `json:"limit_mb"`
		Over  bool   `json:"over"`
		apiTraffic
	}
	list := []apiUserTraffic{}
	for _, u := range users {
		list = append(list, apiUserTraffic{ID: u.ID, Login: u.Login, Limit: u.Limit, Over: u.Over, apiTraffic: toAPITraffic(u.Traffic)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": MonthISO(month), "months": apiMonths(d.Summary), "days": apiDays(d.Days),
		"users": list, "total": total, "page": pg.Page, "per": pg.Per})
	return nil
}

// ISO is yyyymm as YYYY-MM, for links.
func (p *Page) ISO(m int) string { return MonthISO(m) }

// Count formats a count of things the language's way.
func (p *Page) Count(n int) string { return p.Num(int64(n)) }
