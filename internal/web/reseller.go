package web

import (
	"net/http"
	"strconv"

	"kontor/internal/panel"
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
