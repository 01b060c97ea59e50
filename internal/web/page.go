package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kontor/internal/panel"
)

// Page is the data every template gets. Templates call its methods for
// texts ({{.T "key"}}), form values and field errors.
type Page struct {
	s        *Server
	Lang     string
	Title    string // catalogue key
	Actor    panel.Actor
	Account  panel.Account
	LoggedIn bool
	CSRF     string
	Menu     string // active menu slug
	Design   string
	Notice   string // catalogue key of a success note
	Errors   map[string]string
	Form     url.Values
	Data     any
	Path     string
}

func (s *Server) newPage(r *http.Request) *Page {
	p := &Page{s: s, Lang: pickLanguage(r), Design: "default", Errors: map[string]string{}, Form: url.Values{}, Path: r.URL.Path}
	if d := r.URL.Query().Get("done"); d != "" && s.cat.Has("done."+d) {
		p.Notice = "done." + d
	}
	return p
}

func (p *Page) setSession(rs *reqSession) {
	p.Actor, p.Account, p.LoggedIn, p.CSRF = rs.actor, rs.acct, true, rs.ss.CSRF
	if panel.ValidLanguage(rs.lang) {
		p.Lang = rs.lang
	}
	if panel.ValidDesign(rs.acct.Design) {
		p.Design = rs.acct.Design
	}
}

// pickLanguage chooses the login page's language from ?lang= or the
// browser's Accept-Language; English otherwise.
func pickLanguage(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); panel.ValidLanguage(l) {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if len(tag) >= 2 && panel.ValidLanguage(tag[:2]) {
			return tag[:2]
		}
	}
	return "en"
}

// T translates key with args.
func (p *Page) T(key string, args ...any) string { return p.s.cat.T(p.Lang, key, args...) }

// Err is the message for a form field, "" when none.
func (p *Page) Err(field string) string { return p.Errors[field] }

// Val is the submitted value of a form field.
func (p *Page) Val(field string) string { return p.Form.Get(field) }

// Checked reports whether a checkbox field was submitted on.
func (p *Page) Checked(field string) bool { return p.Form.Get(field) != "" }

// FormError records err against its field (or the form as a whole).
func (p *Page) FormError(err error) {
	pe := panel.AsError(err)
	msg := p.s.cat.Error(p.Lang, err)
	if pe.Field != "" {
		p.Errors[pe.Field] = msg
	}
	// The summary at the top always shows the message, so an error on a
	// field the form renders without its own slot is never lost.
	p.Errors["_form"] = msg
}

// Nav is the menu of the actor's role.
func (p *Page) Nav() []menu {
	ms := p.s.markReady(navFor(p.Actor))
	if p.Actor.Role != panel.RoleAdmin {
		return ms
	}
	// The admin's menus list only what this server has (System files
	// exists in the demo's sandbox only).
	for i := range ms {
		tools := ms[i].Tools[:0:0]
		for _, t := range ms[i].Tools {
			if t.Ready {
				tools = append(tools, t)
			}
		}
		ms[i].Tools = tools
	}
	return ms
}

// Languages offered.
func (p *Page) Languages() []string { return panel.Languages() }

func funcs() template.FuncMap {
	return template.FuncMap{
		"domain": panel.DisplayDomain,
		"limit": func(v int64) string {
			if v == panel.Unlimited {
				return "∞"
			}
			return strconv.FormatInt(v, 10)
		},
		"add":  func(a, b int) int { return a + b },
		"str":  func(v any) string { return fmt.Sprint(v) },
		"date": func(t interface{ Format(string) string }) string { return t.Format("2006-01-02 15:04") },
		"join": strings.Join,
		"list": func(v ...int) []int { return v },
	}
}

func urlEscape(s string) string { return url.QueryEscape(s) }

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

// Pager is the paging state of a list.
type Pager struct {
	Page, Per, Total int
	Base             string // URL with every query parameter but page
}

// Pages is the number of pages.
func (pg Pager) Pages() int {
	if pg.Per <= 0 {
		return 1
	}
	n := (pg.Total + pg.Per - 1) / pg.Per
	if n < 1 {
		n = 1
	}
	return n
}

// Prev and Next are the neighbouring page numbers, 0 when none.
func (pg Pager) Prev() int {
	if pg.Page > 1 {
		return pg.Page - 1
	}
	return 0
}

// Next is the next page number, 0 when none.
func (pg Pager) Next() int {
	if pg.Page < pg.Pages() {
		return pg.Page + 1
	}
	return 0
}

// URL links to page n.
func (pg Pager) URL(n int) string {
	sep := "?"
	if strings.Contains(pg.Base, "?") {
		sep = "&"
	}
	return pg.Base + sep + "page=" + strconv.Itoa(n)
}

// pager reads page and per from the query; per is one of 10/25/50/100.
func pager(r *http.Request, defPer int) Pager {
	pg := Pager{Page: 1, Per: defPer}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 0 && n < 1_000_000 {
		pg.Page = n
	}
	switch r.URL.Query().Get("per") {
	case "10":
		pg.Per = 10
	case "25":
		pg.Per = 25
	case "50":
		pg.Per = 50
	case "100":
		pg.Per = 100
	}
	return pg
}

// usageTable is the argument of the "usage" partial.
type usageTable struct {
	P    *Page
	Rows []panel.UsageRow
}

// UsageTable wraps rows for the "usage" partial.
func (p *Page) UsageTable(rows []panel.UsageRow) usageTable { return usageTable{p, rows} }
