package web

import (
	"net/http"
	"strconv"

	"kontor/internal/panel"
	"kontor/internal/store"
)

// selfPrefix is where the actor's own account pages live.
func selfPrefix(role panel.Role) string {
	switch role {
	case panel.RoleAdmin:
		return "/admin"
	case panel.RoleReseller:
		return "/reseller/general"
	}
	return "/user"
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.password", "general"
	set, err := s.app.Settings(r.Context())
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Data = set.Password
	s.render(w, http.StatusOK, "password", p)
}

func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request, p *Page) {
	rs, _ := s.loadSession(r)
	err := s.app.ChangePassword(r.Context(), p.Actor, rs.token, r.PostFormValue("old"), r.PostFormValue("new"), r.PostFormValue("new2"))
	if err != nil {
		p.FormError(err)
		p.Title, p.Menu = "tool.password", "general"
		set, _ := s.app.Settings(r.Context())
		p.Data = set.Password
		s.render(w, status(err), "password", p)
		return
	}
	http.Redirect(w, r, selfPrefix(p.Actor.Role)+"/password?done=password", http.StatusSeeOther)
}

// languageData is what the language/design form shows.
type languageData struct {
	Designs    []string
	ShowDesign bool
}

func (s *Server) designs(r *http.Request) []string {
	set, err := s.app.Settings(r.Context())
	var out []string
	for _, d := range panel.Designs() {
		if d == "classic" && (err != nil || !set.ClassicSkins) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func (s *Server) languageForm(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.language", "general"
	p.Form.Set("language", p.Account.Language)
	p.Form.Set("design", p.Account.Design)
	// GEN-3: users choose their language, never their design.
	p.Data = languageData{Designs: s.designs(r), ShowDesign: p.Actor.Role != panel.RoleUser}
	s.render(w, http.StatusOK, "language", p)
}

func (s *Server) languageSubmit(w http.ResponseWriter, r *http.Request, p *Page) {
	design := ""
	if p.Actor.Role != panel.RoleUser {
		design = r.PostFormValue("design")
		allowed := false
		for _, d := range s.designs(r) {
			allowed = allowed || d == design
		}
		if !allowed {
			p.FormError(panel.Invalid("design", "err.design"))
			p.Form = r.PostForm
			p.Title, p.Menu = "tool.language", "general"
			p.Data = languageData{Designs: s.designs(r), ShowDesign: true}
			s.render(w, http.StatusUnprocessableEntity, "language", p)
			return
		}
	}
	if p.Actor.ActingID != 0 {
		s.fail(w, r, p, panel.Forbidden("", "err.forbidden"))
		return
	}
	if err := s.app.Store.SetLanguageDesign(r.Context(), p.Actor, r.PostFormValue("language"), design); err != nil {
		p.FormError(err)
		p.Form = r.PostForm
		p.Title, p.Menu = "tool.language", "general"
		p.Data = languageData{Designs: s.designs(r), ShowDesign: p.Actor.Role != panel.RoleUser}
		s.render(w, status(err), "language", p)
		return
	}
	http.Redirect(w, r, selfPrefix(p.Actor.Role)+"/language?done=saved", http.StatusSeeOther)
}

// messagesData is the Messages page (GEN-4).
type messagesData struct {
	Items []panel.Message
	Kind  string
	Pager Pager
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.messages", "general"
	pg := pager(r, 25)
	kind := panel.MessageKind(r.URL.Query().Get("kind"))
	if kind != panel.MsgError && kind != panel.MsgNotice {
		kind = ""
	}
	items, total, err := s.app.Store.Messages(r.Context(), p.Actor, store.MessageFilter{Kind: kind, Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	pg.Total = total
	pg.Base = r.URL.Path + "?kind=" + string(kind) + "&per=" + strconv.Itoa(pg.Per)
	p.Data = messagesData{Items: items, Kind: string(kind), Pager: pg}
	s.render(w, http.StatusOK, "messages", p)
}

// Message renders a stored message in the page's language.
func (p *Page) Message(m panel.Message) string { return p.s.cat.Message(p.Lang, m) }
