package web

import (
	"net/http"
)

func (s *Server) userHome(w http.ResponseWriter, r *http.Request, p *Page) {
	u, err := s.app.Store.User(r.Context(), p.Actor, p.Actor.ID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Title, p.Menu = "page.user_home", "home"
	p.Data = userView(u)
	s.render(w, http.StatusOK, "userhome", p)
}
