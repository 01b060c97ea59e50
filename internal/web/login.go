package web

import (
	"crypto/subtle"
	"net/http"

	"kontor/internal/auth"
	"kontor/internal/panel"
)

// preCookie carries the login form's CSRF token before any session exists
// (double-submit: the form field must equal the cookie).
const preCookie = "kontor_pre"

func (s *Server) home(w http.ResponseWriter, r *http.Request, p *Page) {
	rs, err := s.loadSession(r)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, roleHome(rs.actor.Role), http.StatusSeeOther)
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request, p *Page) {
	s.renderLogin(w, r, p, http.StatusOK)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, p *Page, code int) {
	tok, _, err := auth.NewToken()
	if err != nil {
		s.fail(w, r, p, panel.Internal(err))
		return
	}
	s.setCookie(w, r, preCookie, tok, 3600)
	p.CSRF = tok
	p.Title = "page.login"
	p.Form.Set("next", safeNext(r.FormValue("next")))
	s.render(w, code, "login", p)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request, p *Page) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, p, panel.Invalid("", "err.csrf"))
		return
	}
	p.Form = r.PostForm
	c, err := r.Cookie(preCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		p.FormError(panel.Forbidden("", "err.csrf"))
		s.renderLogin(w, r, p, http.StatusForbidden)
		return
	}
	res, err := s.app.Login(r.Context(), r.PostFormValue("login"), r.PostFormValue("password"), clientIP(r))
	if err != nil {
		p.FormError(err)
		p.Form.Del("password")
		s.renderLogin(w, r, p, status(err))
		return
	}
	s.setCookie(w, r, preCookie, "", -1)
	s.setCookie(w, r, sessionCookie, res.Token, int(s.app.SessionTTL.Seconds()))
	next := safeNext(r.PostFormValue("next"))
	if next == "" {
		next = roleHome(res.Actor.Role)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *Page) {
	rs, err := s.loadSession(r)
	if err == nil {
		if !validCSRF(r, rs.ss.CSRF) {
			p.setSession(rs)
			s.fail(w, r, p, panel.Forbidden("csrf", "err.csrf"))
			return
		}
		if err := s.app.Logout(r.Context(), rs.token, rs.actor); err != nil {
			s.log.Error("logout", "err", err)
		}
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/login?done=logout", http.StatusSeeOther)
}
