package web

import (
	"net/http"
	"net/url"
	"strconv"

	"kontor/internal/panel"
	"kontor/internal/store"
)

func (s *Server) resellerHome(w http.ResponseWriter, r *http.Request, p *Page) {
	http.Redirect(w, r, "/reseller/general/", http.StatusSeeOther)
}

// menuData is a menu's Overview: its tools as tiles, plus for General the
// LIM-3 resource table and shortcuts to Stats and Traffic.
type menuData struct {
	Menu   menu
	Tiles  []tool
	Usage  []panel.UsageRow
	Status panel.Status
}

func (s *Server) resellerMenu(w http.ResponseWriter, r *http.Request, p *Page) {
	m, ok := findMenu(r.PathValue("menu"))
	if !ok {
		s.fail(w, r, p, &panel.Error{Kind: panel.KindNotFound, Key: "err.page"})
		return
	}
	p.Title, p.Menu = m.Key, m.Slug
	m = s.markReady([]menu{m})[0]
	d := menuData{Menu: m, Tiles: m.Tools}
	if m.Slug == "general" {
		stats, _ := findMenu("stats")
		stats = s.markReady([]menu{stats})[0]
		d.Tiles = append(append([]tool(nil), m.Tools...), stats.Tools...)
		var err error
		if d.Usage, err = s.app.Store.Usage(r.Context(), p.Actor, p.Actor.ID); err != nil {
			s.fail(w, r, p, err)
			return
		}
	}
	p.Data = d
	s.render(w, http.StatusOK, "menu", p)
}

func (s *Server) resellerComing(w http.ResponseWriter, r *http.Request, p *Page) {
	m, ok := findMenu(r.PathValue("menu"))
	if ok {
		for _, t := range m.Tools {
			if t.Slug == r.PathValue("tool") {
				p.Title, p.Menu = t.Key, m.Slug
				p.Data = t
				s.render(w, http.StatusOK, "coming", p)
				return
			}
		}
	}
	s.fail(w, r, p, &panel.Error{Kind: panel.KindNotFound, Key: "err.page"})
}

// usersData is the user list (USR-1).
type usersData struct {
	Rows  []store.UserRow
	Q     string
	Pager Pager
}

func (s *Server) resellerUsers(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.user_list", "users"
	pg := pager(r, 25)
	q := r.URL.Query().Get("q")
	rows, total, err := s.app.Store.Users(r.Context(), p.Actor, store.UserFilter{Search: q, Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		if panel.ErrorKind(err) == panel.KindInvalid {
			p.FormError(err)
		} else {
			s.fail(w, r, p, err)
			return
		}
	}
	pg.Total = total
	pg.Base = r.URL.Path + "?q=" + url.QueryEscape(q) + "&per=" + strconv.Itoa(pg.Per)
	p.Form.Set("q", q)
	p.Data = usersData{Rows: rows, Q: q, Pager: pg}
	s.render(w, http.StatusOK, "users", p)
}

func (s *Server) resellerUser(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, p, panel.NotFound("user"))
		return
	}
	u, err := s.app.Store.User(r.Context(), p.Actor, id)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Title, p.Menu = "page.user", "users"
	p.Data = userView(u)
	s.render(w, http.StatusOK, "user", p)
}

// userViewData is a user's details with limits and services in order.
type userViewData struct {
	User     panel.User
	Limits   []limitView
	Services []serviceView
}

type limitView struct {
	Resource panel.Resource
	Value    int64
}

type serviceView struct {
	Service panel.Service
	Level   int
}

func userView(u panel.User) userViewData {
	d := userViewData{User: u}
	for _, r := range panel.Resources() {
		d.Limits = append(d.Limits, limitView{r, u.Limits[r]})
	}
	for _, sv := range panel.Services() {
		d.Services = append(d.Services, serviceView{sv, u.Services[sv]})
	}
	return d
}

// LevelName is the text of a service level.
func (p *Page) LevelName(sv panel.Service, level int) string {
	switch {
	case level == 0:
		return p.T("level.off")
	case sv == panel.SvcShell || sv == panel.SvcBackup:
		return p.T("level." + string(sv) + "." + strconv.Itoa(level))
	}
	return p.T("level.on")
}
