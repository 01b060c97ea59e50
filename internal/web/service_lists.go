package web

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kontor/internal/app"
	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// registerServiceLists registers the FrontPage, SSL and MySQL lists
// (USR-5..7), the user's FrontPage page (UP-5) and the reseller's entry into
// a user's panel at /<login> (ROLE-3).
func (s *Server) registerServiceLists() {
	s.handle("GET", "/reseller/users/frontpage", panel.RoleReseller, s.frontPageList)
	s.handle("POST", "/reseller/users/frontpage/{id}", panel.RoleReseller, s.frontPageToggle)
	s.handle("GET", "/reseller/users/ssl", panel.RoleReseller, s.sslList)
	s.handle("GET", "/reseller/users/ssl/{id}", panel.RoleReseller, s.sslPage)
	s.handleBounded("POST", "/reseller/users/ssl/{id}", panel.RoleReseller, sslMaxBody, s.sslPaste, s.sslTooLarge)
	s.handle("POST", "/reseller/users/ssl/{id}/self-signed", panel.RoleReseller, s.sslSelfSigned)
	s.handle("POST", "/reseller/users/ssl/{id}/delete", panel.RoleReseller, s.sslDelete)
	s.handle("GET", "/reseller/users/mysql", panel.RoleReseller, s.mysqlList)
	s.handle("POST", "/reseller/users/mysql/{id}", panel.RoleReseller, s.mysqlToggle)
	s.handle("GET", "/user/frontpage", panel.RoleUser, s.userFrontPage)
	s.handle("POST", "/user/frontpage", panel.RoleUser, s.userFrontPageSubmit)

	// ROLE-3: <panel URL>/<login>. The pattern is the least specific of
	// all, so every other route keeps its address; see shadowed for what
	// it would otherwise take from the mux.
	s.handle("GET", "/{login}", "", s.visitForm)
	s.handle("POST", "/{login}", "", s.visitSubmit)

	s.api("GET", "/api/v1/frontpage", panel.RoleReseller, s.apiFrontPageList)
	s.api("PUT", "/api/v1/users/{id}/frontpage", panel.RoleReseller, s.apiFrontPageSet)
	s.api("PUT", "/api/v1/frontpage/password", panel.RoleUser, s.apiFrontPagePassword)
	s.api("GET", "/api/v1/ssl", panel.RoleReseller, s.apiSSLList)
	s.api("GET", "/api/v1/users/{id}/ssl", panel.RoleReseller, s.apiSSLGet)
	s.api("PUT", "/api/v1/users/{id}/ssl", panel.RoleReseller, s.apiSSLPut)
	s.api("DELETE", "/api/v1/users/{id}/ssl", panel.RoleReseller, s.apiSSLDelete)
	s.api("GET", "/api/v1/mysql", panel.RoleReseller, s.apiMySQLList)
	s.api("PUT", "/api/v1/users/{id}/mysql-external", panel.RoleReseller, s.apiMySQLSet)
}

// sslMaxBody bounds the paste form: three fields of at most
// panel.MaxPEMLen plus the rest of the form.
const sslMaxBody = 3*panel.MaxPEMLen + 16<<10

// handleBounded registers a page whose body may be at most max bytes. A
// larger request is answered with tooLarge before a byte of the body is
// parsed; the session and role are checked as for any page (the CSRF token
// lies in the unread body, and the refusal changes nothing).
func (s *Server) handleBounded(method, pattern string, role panel.Role, max int64, h, tooLarge func(http.ResponseWriter, *http.Request, *Page)) {
	s.routes = append(s.routes, Route{Method: method, Pattern: pattern, Role: role})
	inner := s.page(role, h)
	s.mux.Handle(method+" "+pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength <= max {
			r.Body = http.MaxBytesReader(w, r.Body, max)
			inner.ServeHTTP(w, r)
			return
		}
		// Drain what the server-wide limit lets through, unparsed, so that
		// the browser reads the answer instead of a reset connection.
		_, _ = io.Copy(io.Discard, r.Body)
		p := s.newPage(r)
		if _, ok := s.authorize(w, r, p, role); ok {
			tooLarge(w, r, p)
		}
	}))
}

// listParams reads the search and paging of a service list, from the query
// or (after a toggle) from the form's hidden fields.
func listParams(v url.Values) (string, Pager) {
	return v.Get("q"), pager(&http.Request{URL: &url.URL{RawQuery: v.Encode()}}, 25)
}

// listBack is the list's address with its search and page.
func listBack(path, q string, pg Pager) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if pg.Per != 25 {
		v.Set("per", strconv.Itoa(pg.Per))
	}
	if pg.Page > 1 {
		v.Set("page", strconv.Itoa(pg.Page))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// withDone adds ?done=key to a list address.
func withDone(back, done string) string {
	if strings.Contains(back, "?") {
		return back + "&done=" + done
	}
	return back + "?done=" + done
}

// svcListData is what the three list pages share.
type svcListData struct {
	Q       string
	Pager   Pager
	Back    string // the list with its search and page, for toggles
	ErrorID int64  // the row a refused toggle was about
}

func (s *Server) listData(path, q string, pg Pager, total int) svcListData {
	pg.Total = total
	pg.Base = path + "?q=" + url.QueryEscape(q) + "&per=" + strconv.Itoa(pg.Per)
	return svcListData{Q: q, Pager: pg, Back: listBack(path, q, pg)}
}

// toggleValue reads the "on" field of a toggle: "1" or "0", nothing else.
// For anything else the user is looked up first, so that another
// reseller's id stays "not found" whatever the form says.
func (s *Server) toggleValue(r *http.Request, p *Page, userID int64) (bool, error) {
	switch r.PostFormValue("on") {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	if _, err := s.app.Store.User(r.Context(), p.Actor, userID); err != nil {
		return false, err
	}
	return false, panel.Invalid("on", "err.required")
}

// ---- FrontPage (USR-5) ----

type frontPageListData struct {
	svcListData
	Rows []store.FrontPageRow
}

func (s *Server) frontPageList(w http.ResponseWriter, r *http.Request, p *Page) {
	q, pg := listParams(r.URL.Query())
	s.renderFrontPageList(w, r, p, q, pg, http.StatusOK, 0)
}

func (s *Server) renderFrontPageList(w http.ResponseWriter, r *http.Request, p *Page, q string, pg Pager, code int, errID int64) {
	p.Title, p.Menu = "tool.frontpage", "users"
	p.Form.Set("q", q)
	rows, total, err := s.app.Store.FrontPageUsers(r.Context(), p.Actor, store.UserFilter{Search: q, Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		if panel.ErrorKind(err) != panel.KindInvalid {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		code = status(err)
	}
	d := frontPageListData{svcListData: s.listData("/reseller/users/frontpage", q, pg, total), Rows: rows}
	d.ErrorID = errID
	p.Data = d
	s.render(w, code, "svc_frontpage", p)
}

// frontPageIssued is the one page that shows a new publishing password.
type frontPageIssued struct {
	User   string
	Result app.FrontPageResult
	Back   string
}

func (s *Server) frontPageToggle(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := pathID(r, "user")
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	q, pg := listParams(r.PostForm)
	back := listBack("/reseller/users/frontpage", q, pg)
	on, err := s.toggleValue(r, p, id)
	var res app.FrontPageResult
	if err == nil {
		res, err = s.app.SetFrontPage(r.Context(), p.Actor, id, on)
	}
	if err != nil {
		if k := panel.ErrorKind(err); k == panel.KindNotFound || k == panel.KindInternal {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		s.renderFrontPageList(w, r, p, q, pg, status(err), id)
		return
	}
	if !on {
		http.Redirect(w, r, withDone(back, "fp_off"), http.StatusSeeOther)
		return
	}
	u, err := s.app.Store.User(r.Context(), p.Actor, id)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Title, p.Menu = "fp.issued.title", "users"
	p.Data = frontPageIssued{User: u.Login, Result: res, Back: back}
	s.render(w, http.StatusOK, "svc_frontpage_issued", p)
}

// userFrontPageData is the user's FrontPage page (UP-5).
type userFrontPageData struct {
	FP       store.FrontPage
	Min, Max int
}

func (s *Server) userFrontPage(w http.ResponseWriter, r *http.Request, p *Page) {
	s.renderUserFrontPage(w, r, p, http.StatusOK)
}

func (s *Server) renderUserFrontPage(w http.ResponseWriter, r *http.Request, p *Page, code int) {
	p.Title, p.Menu = "fp.user.title", "home"
	fp, err := s.app.Store.FrontPage(r.Context(), p.Actor, p.Actor.ID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	set, err := s.app.Settings(r.Context())
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Data = userFrontPageData{FP: fp, Min: set.Password.Min, Max: set.Password.Max}
	s.render(w, code, "svc_userfp", p)
}

func (s *Server) userFrontPageSubmit(w http.ResponseWriter, r *http.Request, p *Page) {
	err := s.app.ChangeFrontPagePassword(r.Context(), p.Actor, r.PostFormValue("new"), r.PostFormValue("new2"))
	if err != nil {
		if panel.ErrorKind(err) == panel.KindInternal {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		s.renderUserFrontPage(w, r, p, status(err))
		return
	}
	http.Redirect(w, r, "/user/frontpage?done=fp_password", http.StatusSeeOther)
}

// ---- SSL (USR-6) ----

type sslListData struct {
	svcListData
	Rows []store.SSLRow
}

func (s *Server) sslList(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.ssl", "users"
	q, pg := listParams(r.URL.Query())
	p.Form.Set("q", q)
	code := http.StatusOK
	rows, total, err := s.app.Store.SSLUsers(r.Context(), p.Actor, store.UserFilter{Search: q, Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		if panel.ErrorKind(err) != panel.KindInvalid {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		code = status(err)
	}
	p.Data = sslListData{svcListData: s.listData("/reseller/users/ssl", q, pg, total), Rows: rows}
	s.render(w, code, "svc_ssl", p)
}

// sslPageData is a user's SSL page.
type sslPageData struct {
	User      store.SSLUser
	Uncovered []string
}

// Expired reports whether a stored certificate has run out.
func (d sslPageData) Expired(now time.Time) bool {
	return d.User.Cert != nil && now.After(d.User.Cert.Info.NotAfter)
}

func (s *Server) sslPage(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := pathID(r, "user")
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	// The self-signed form starts from the user's own details.
	if u, err := s.app.Store.User(r.Context(), p.Actor, id); err == nil {
		p.Form.Set("company", u.Profile.Company)
		if p.Form.Get("company") == "" {
			p.Form.Set("company", u.Profile.Name)
		}
		p.Form.Set("city", u.Profile.City)
		if c := u.Profile.Country; len(c) == 2 {
			p.Form.Set("country", strings.ToUpper(c))
		}
		p.Form.Set("email", u.Profile.Email)
	}
	s.renderSSLPage(w, r, p, id, http.StatusOK)
}

func (s *Server) renderSSLPage(w http.ResponseWriter, r *http.Request, p *Page, id int64, code int) {
	p.Menu = "users"
	u, err := s.app.Store.SSLUser(r.Context(), p.Actor, id)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Title = "ssl.page.title"
	d := sslPageData{User: u}
	if u.Cert != nil {
		d.Uncovered = panel.UncoveredDomains(u.Cert.CertPEM, u.DomainNames())
	}
	p.Data = d
	// The private key is never sent back, not even after an error, and
	// neither is a key pasted into the wrong field.
	p.Form.Del("key")
	for _, f := range []string{"cert", "chain"} {
		if strings.Contains(p.Form.Get(f), "PRIVATE KEY") {
			p.Form.Del(f)
		}
	}
	s.render(w, code, "svc_ssl_user", p)
}

// sslFail shows a refused certificate on the user's page; an id that is
// not the actor's, or a user without an exclusive address, gets the error
// page instead.
func (s *Server) sslFail(w http.ResponseWriter, r *http.Request, p *Page, id int64, err error) {
	pe := panel.AsError(err)
	if pe.Kind == panel.KindNotFound || pe.Kind == panel.KindInternal || pe.Key == "err.ssl.no_exclusive_ip" || pe.Key == "err.forbidden" {
		s.fail(w, r, p, err)
		return
	}
	p.FormError(err)
	s.renderSSLPage(w, r, p, id, status(err))
}

func (s *Server) sslPaste(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := pathID(r, "user")
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.sslTooLarge(w, r, p)
			return
		}
		s.fail(w, r, p, panel.Invalid("", "err.body.json"))
		return
	}
	p.Form = r.PostForm
	in := panel.CertInput{Key: r.PostFormValue("key"), Cert: r.PostFormValue("cert"), Chain: r.PostFormValue("chain")}
	if _, err := s.app.SetCertificate(r.Context(), p.Actor, id, app.CertRequest{Paste: &in}); err != nil {
		s.sslFail(w, r, p, id, err)
		return
	}
	http.Redirect(w, r, "/reseller/users/ssl/"+itoa64(id)+"?done=ssl_saved", http.StatusSeeOther)
}

// sslTooLarge answers a paste over the size limit without parsing it.
func (s *Server) sslTooLarge(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := pathID(r, "user")
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	s.sslFail(w, r, p, id, panel.Invalid("body", "err.ssl.body_large", panel.MaxPEMLen>>10))
}

func (s *Server) sslSelfSigned(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := pathID(r, "user")
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Form = r.PostForm
	subj := panel.CertSubject{Company: r.PostFormValue("company"), Department: r.PostFormValue("department"),
		City: r.PostFormValue("city"), State: r.PostFormValue("state"), Country: r.PostFormValue("country"),
		Email: r.PostFormValue("email")}
	if _, err := s.app.SetCertificate(r.Context(), p.Actor, id, app.CertRequest{SelfSigned: &subj}); err != nil {
		s.sslFail(w, r, p, id, err)
		return
	}
	http.Redirect(w, r, "/reseller/users/ssl/"+itoa64(id)+"?done=ssl_saved", http.StatusSeeOther)
}

func (s *Server) sslDelete(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := pathID(r, "user")
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	if err := s.app.DeleteCertificate(r.Context(), p.Actor, id); err != nil {
		s.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/reseller/users/ssl/"+itoa64(id)+"?done=ssl_deleted", http.StatusSeeOther)
}

// ---- MySQL (USR-7) ----

type mysqlListData struct {
	svcListData
	Rows    []store.MySQLRow
	Allowed bool // the admin lets this reseller grant external access
}

func (s *Server) mysqlList(w http.ResponseWriter, r *http.Request, p *Page) {
	q, pg := listParams(r.URL.Query())
	s.renderMySQLList(w, r, p, q, pg, http.StatusOK, 0)
}

func (s *Server) renderMySQLList(w http.ResponseWriter, r *http.Request, p *Page, q string, pg Pager, code int, errID int64) {
	p.Title, p.Menu = "tool.mysql", "users"
	p.Form.Set("q", q)
	res, err := s.app.Store.Reseller(r.Context(), p.Actor, p.Actor.ID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	rows, total, err := s.app.Store.MySQLUsers(r.Context(), p.Actor, store.UserFilter{Search: q, Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		if panel.ErrorKind(err) != panel.KindInvalid {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		code = status(err)
	}
	d := mysqlListData{svcListData: s.listData("/reseller/users/mysql", q, pg, total), Rows: rows, Allowed: res.MySQLExternal}
	d.ErrorID = errID
	p.Data = d
	s.render(w, code, "svc_mysql", p)
}

func (s *Server) mysqlToggle(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := pathID(r, "user")
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	q, pg := listParams(r.PostForm)
	on, err := s.toggleValue(r, p, id)
	if err == nil {
		err = s.app.Store.SetMySQLExternal(r.Context(), p.Actor, id, on)
	}
	if err != nil {
		if k := panel.ErrorKind(err); k == panel.KindNotFound || k == panel.KindInternal {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		s.renderMySQLList(w, r, p, q, pg, status(err), id)
		return
	}
	done := "mysql_off"
	if on {
		done = "mysql_on"
	}
	http.Redirect(w, r, withDone(listBack("/reseller/users/mysql", q, pg), done), http.StatusSeeOther)
}

// ---- ROLE-3: /<login> ----

// shadowed answers a request the catch-all took from the mux's own
// behaviour and reports whether it did: "/admin" still redirects to
// "/admin/", and an address served only for another method ("GET /logout")
// still gets 405.
func (s *Server) shadowed(w http.ResponseWriter, r *http.Request) bool {
	catchAll := func(pattern string) bool { return pattern == "" || strings.HasSuffix(pattern, " /{login}") }
	probe := r.Clone(r.Context())
	probe.Method = http.MethodGet
	probe.URL = &url.URL{Path: r.URL.Path + "/"}
	if _, pattern := s.mux.Handler(probe); !catchAll(pattern) {
		target := r.URL.Path + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return true
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe.Method, probe.URL = m, &url.URL{Path: r.URL.Path}
		if _, pattern := s.mux.Handler(probe); !catchAll(pattern) {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return true
	}
	return false
}

// visitLogin returns the login named by the path, or false (after
// answering) when the path is no login at all.
func (s *Server) visitLogin(w http.ResponseWriter, r *http.Request, p *Page) (string, bool) {
	if s.shadowed(w, r) {
		return "", false
	}
	login := r.PathValue("login")
	if panel.ValidateLogin("login", login) != nil {
		s.fail(w, r, p, &panel.Error{Kind: panel.KindNotFound, Key: "err.page"})
		return "", false
	}
	return login, true
}

// visitForm is the login page for one account, the login filled in and
// fixed. It looks the same whether the account exists or not.
func (s *Server) visitForm(w http.ResponseWriter, r *http.Request, p *Page) {
	login, ok := s.visitLogin(w, r, p)
	if !ok {
		return
	}
	s.renderVisit(w, r, p, login, http.StatusOK)
}

func (s *Server) renderVisit(w http.ResponseWriter, r *http.Request, p *Page, login string, code int) {
	tok, _, err := auth.NewToken()
	if err != nil {
		s.fail(w, r, p, panel.Internal(err))
		return
	}
	s.setCookie(w, r, preCookie, tok, 3600)
	p.CSRF, p.Title = tok, "page.login"
	p.Form = url.Values{}
	p.Data = login
	s.render(w, code, "svc_visit", p)
}

// visitSubmit logs in to the account of the path. app.Login accepts the
// account's own password or, for a user, its reseller's, and then records
// the reseller as acting and the visit as a notice (ROLE-3).
func (s *Server) visitSubmit(w http.ResponseWriter, r *http.Request, p *Page) {
	login, ok := s.visitLogin(w, r, p)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		p.FormError(panel.Invalid("", "err.csrf"))
		s.renderVisit(w, r, p, login, http.StatusBadRequest)
		return
	}
	c, err := r.Cookie(preCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		p.FormError(panel.Forbidden("", "err.csrf"))
		s.renderVisit(w, r, p, login, http.StatusForbidden)
		return
	}
	res, err := s.app.Login(r.Context(), login, r.PostFormValue("password"), clientIP(r))
	if err != nil {
		p.FormError(err)
		s.renderVisit(w, r, p, login, status(err))
		return
	}
	s.setCookie(w, r, preCookie, "", -1)
	s.setCookie(w, r, sessionCookie, res.Token, int(s.app.SessionTTL.Seconds()))
	http.Redirect(w, r, roleHome(res.Actor.Role), http.StatusSeeOther)
}

// ---- JSON API ----

// apiList reads q, page and per of a list request.
func apiList(r *http.Request) (store.UserFilter, Pager) {
	pg := pager(r, 25)
	return store.UserFilter{Search: r.URL.Query().Get("q"), Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per}, pg
}

func (s *Server) apiFrontPageList(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	f, _ := apiList(r)
	rows, total, err := s.app.Store.FrontPageUsers(r.Context(), rs.actor, f)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range rows {
		blocked := []string{}
		for _, b := range x.Blockers {
			blocked = append(blocked, string(b))
		}
		out = append(out, map[string]any{"id": x.ID, "login": x.Login, "name": x.Name, "status": x.Status,
			"frontpage": x.On, "frontpage_login": x.FPLogin, "blocked_by": blocked})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "users": out})
	return nil
}

// toggleRequest reads the user id of the path and {"on": bool} of a
// switch request (FrontPage, MySQL external access). A body without "on"
// is an error naming the field, but only after visible has confirmed the
// id: a foreign id stays "not found", whatever the body says.
func toggleRequest(r *http.Request, visible func(id int64) error) (int64, bool, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return 0, false, err
	}
	var in struct {
		On *bool `json:"on"`
	}
	if err := decode(r, &in); err != nil {
		return 0, false, err
	}
	if in.On == nil {
		if err := visible(id); err != nil {
			return 0, false, err
		}
		return 0, false, panel.Invalid("on", "err.required")
	}
	return id, *in.On, nil
}

func (s *Server) apiFrontPageSet(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, on, err := toggleRequest(r, func(id int64) error {
		_, err := s.app.Store.FrontPage(r.Context(), rs.actor, id)
		return err
	})
	if err != nil {
		return err
	}
	res, err := s.app.SetFrontPage(r.Context(), rs.actor, id, on)
	if err != nil {
		return err
	}
	out := map[string]any{"id": id, "frontpage": on}
	if on {
		out["login"], out["password"] = res.Login, res.Password
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiFrontPagePassword(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	var in struct {
		New  string `json:"new"`
		New2 string `json:"new2"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.app.ChangeFrontPagePassword(r.Context(), rs.actor, in.New, in.New2); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func sslDomainsJSON(ds []store.SSLDomain) []map[string]any {
	out := []map[string]any{}
	for _, d := range ds {
		out = append(out, map[string]any{"name": d.Name, "display": panel.DisplayDomain(d.Name), "address": d.Address, "exclusive": d.Exclusive})
	}
	return out
}

func certJSON(info panel.CertInfo) map[string]any {
	names := info.DNSNames
	if names == nil {
		names = []string{}
	}
	return map[string]any{"subject": info.Subject, "issuer": info.Issuer, "dns_names": names,
		"not_before": info.NotBefore.UTC(), "not_after": info.NotAfter.UTC(), "self_signed": info.SelfSigned,
		"key_type": info.KeyType, "fingerprint_sha256": info.Fingerprint}
}

func (s *Server) apiSSLList(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	f, _ := apiList(r)
	rows, total, err := s.app.Store.SSLUsers(r.Context(), rs.actor, f)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range rows {
		var cert any
		if x.Cert != nil {
			cert = map[string]any{"subject": x.Cert.Subject, "not_after": x.Cert.NotAfter.UTC(), "self_signed": x.Cert.SelfSigned}
		}
		out = append(out, map[string]any{"id": x.ID, "login": x.Login, "name": x.Name, "status": x.Status,
			"ssl_service": x.Service, "domains": sslDomainsJSON(x.Domains), "certificate": cert})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "users": out})
	return nil
}

func (s *Server) sslUserJSON(u store.SSLUser) map[string]any {
	out := map[string]any{"id": u.ID, "login": u.Login, "name": u.Name, "ssl_service": u.Service,
		"domains": sslDomainsJSON(u.Domains), "certificate": nil}
	if u.Cert != nil {
		c := certJSON(u.Cert.Info)
		c["cert_pem"], c["chain_pem"] = u.Cert.CertPEM, u.Cert.ChainPEM
		un := panel.UncoveredDomains(u.Cert.CertPEM, u.DomainNames())
		if un == nil {
			un = []string{}
		}
		c["uncovered"] = un
		out["certificate"] = c
	}
	return out
}

func (s *Server) apiSSLGet(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	u, err := s.app.Store.SSLUser(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sslUserJSON(u))
	return nil
}

func (s *Server) apiSSLPut(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	if r.ContentLength > sslMaxBody {
		_, _ = io.Copy(io.Discard, r.Body)
		return panel.Invalid("body", "err.ssl.body_large", panel.MaxPEMLen>>10)
	}
	r.Body = http.MaxBytesReader(w, r.Body, sslMaxBody)
	var in struct {
		Key        *string `json:"key"`
		Cert       *string `json:"cert"`
		Chain      *string `json:"chain"`
		SelfSigned *struct {
			Company    string `json:"company"`
			Department string `json:"department"`
			City       string `json:"city"`
			State      string `json:"state"`
			Country    string `json:"country"`
			Email      string `json:"email"`
		} `json:"self_signed"`
	}
	if err := decode(r, &in); err != nil {
		if pe := panel.AsError(err); pe.Key == "err.body.large" {
			return panel.Invalid("body", "err.ssl.body_large", panel.MaxPEMLen>>10)
		}
		return err
	}
	var req app.CertRequest
	if in.Key != nil || in.Cert != nil || in.Chain != nil {
		str := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		req.Paste = &panel.CertInput{Key: str(in.Key), Cert: str(in.Cert), Chain: str(in.Chain)}
	}
	if in.SelfSigned != nil {
		x := in.SelfSigned
		req.SelfSigned = &panel.CertSubject{Company: x.Company, Department: x.Department, City: x.City,
			State: x.State, Country: x.Country, Email: x.Email}
	}
	if _, err := s.app.SetCertificate(r.Context(), rs.actor, id, req); err != nil {
		return err
	}
	u, err := s.app.Store.SSLUser(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sslUserJSON(u))
	return nil
}

func (s *Server) apiSSLDelete(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	if err := s.app.DeleteCertificate(r.Context(), rs.actor, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiMySQLList(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	f, _ := apiList(r)
	res, err := s.app.Store.Reseller(r.Context(), rs.actor, rs.actor.ID)
	if err != nil {
		return err
	}
	rows, total, err := s.app.Store.MySQLUsers(r.Context(), rs.actor, f)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range rows {
		out = append(out, map[string]any{"id": x.ID, "login": x.Login, "name": x.Name, "status": x.Status,
			"databases": x.Limit, "external": x.External})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "external_allowed": res.MySQLExternal, "users": out})
	return nil
}

func (s *Server) apiMySQLSet(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, on, err := toggleRequest(r, func(id int64) error {
		_, err := s.app.Store.MySQLExternal(r.Context(), rs.actor, id)
		return err
	})
	if err != nil {
		return err
	}
	if err := s.app.Store.SetMySQLExternal(r.Context(), rs.actor, id, on); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "external": on})
	return nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
