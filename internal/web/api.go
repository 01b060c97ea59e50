package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"kontor/internal/app"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// The JSON API serves the same service calls as the pages. Clients log in
// with POST /api/v1/session and send the token as "Authorization: Bearer";
// browsers never send that header by themselves, so the API needs no CSRF
// token.

func (s *Server) registerAPI() {
	s.mux.HandleFunc("POST /api/v1/session", s.apiLogin)
	s.api("DELETE", "/api/v1/session", "", s.apiLogout)
	s.api("GET", "/api/v1/me", "", s.apiMe)
	s.api("PUT", "/api/v1/password", "", s.apiPassword)
	s.api("GET", "/api/v1/messages", "", s.apiMessages)
	s.api("GET", "/api/v1/resellers", panel.RoleAdmin, s.apiResellers)
	s.api("POST", "/api/v1/resellers", panel.RoleAdmin, s.apiResellerCreate)
	s.api("GET", "/api/v1/resellers/{id}", panel.RoleAdmin, s.apiReseller)
	s.api("PUT", "/api/v1/resellers/{id}/limits", panel.RoleAdmin, s.apiResellerLimits)
	s.api("GET", "/api/v1/resellers/{id}/usage", panel.RoleAdmin, s.apiResellerUsage)
	s.api("GET", "/api/v1/usage", panel.RoleReseller, s.apiUsage)
	s.api("GET", "/api/v1/users", panel.RoleReseller, s.apiUsers)
	s.api("POST", "/api/v1/users", panel.RoleReseller, s.apiUserCreate)
	s.api("GET", "/api/v1/users/{id}", panel.RoleReseller, s.apiUser)
	s.api("POST", "/api/v1/users/{id}/domains", panel.RoleReseller, s.apiDomainAdd)
	s.api("DELETE", "/api/v1/domains/{id}", panel.RoleReseller, s.apiDomainDelete)
}

type apiHandler func(w http.ResponseWriter, r *http.Request, rs *reqSession) error

// api registers a JSON endpoint for role ("" = any logged-in role).
func (s *Server) api(method, pattern string, role panel.Role, h apiHandler) {
	s.routes = append(s.routes, Route{Method: method, Pattern: pattern, Role: role, API: true})
	s.mux.HandleFunc(method+" "+pattern, func(w http.ResponseWriter, r *http.Request) {
		lang := pickLanguage(r)
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			s.apiError(w, r, lang, &panel.Error{Kind: panel.KindUnauthorized, Key: "err.session"})
			return
		}
		ss, actor, err := s.app.Session(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			s.apiError(w, r, lang, err)
			return
		}
		rs := &reqSession{token: strings.TrimSpace(tok), ss: ss, actor: actor, lang: lang}
		if role != "" && actor.Role != role {
			s.apiError(w, r, lang, panel.Forbidden("", "err.forbidden"))
			return
		}
		if err := h(w, r, rs); err != nil {
			s.apiError(w, r, lang, err)
		}
	})
}

type apiErr struct {
	Kind    string `json:"kind"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

var kindNames = map[panel.Kind]string{panel.KindInvalid: "invalid", panel.KindNotFound: "not_found",
	panel.KindForbidden: "forbidden", panel.KindConflict: "conflict", panel.KindUnauthorized: "unauthorized",
	panel.KindThrottled: "throttled", panel.KindInternal: "internal"}

func (s *Server) apiError(w http.ResponseWriter, r *http.Request, lang string, err error) {
	code := status(err)
	if code == http.StatusInternalServerError {
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	pe := panel.AsError(err)
	writeJSON(w, code, map[string]apiErr{"error": {Kind: kindNames[pe.Kind], Field: pe.Field, Message: s.cat.Error(lang, err)}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// refused with a message naming them.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return panel.Invalid("body", "err.body.large")
		}
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return panel.Invalid(ute.Field, "err.body.type", ute.Field, ute.Type.String())
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return panel.Invalid(strings.Trim(f, `"`), "err.body.unknown", strings.Trim(f, `"`))
		}
		return panel.Invalid("body", "err.body.json")
	}
	if _, err := dec.Token(); err != io.EOF {
		return panel.Invalid("body", "err.body.json")
	}
	return nil
}

func pathID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, panel.NotFound(what)
	}
	return id, nil
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	lang := pickLanguage(r)
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		s.apiError(w, r, lang, err)
		return
	}
	res, err := s.app.Login(r.Context(), in.Login, in.Password, clientIP(r))
	if err != nil {
		s.apiError(w, r, lang, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": res.Token, "login": res.Actor.Login, "role": res.Actor.Role})
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	if err := s.app.Logout(r.Context(), rs.token, rs.actor); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	a, err := s.app.Store.Account(r.Context(), rs.actor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": a.ID, "login": a.Login, "role": a.Role, "status": a.Status,
		"language": a.Language, "design": a.Design, "acting_reseller_id": rs.actor.ActingID})
	return nil
}

func (s *Server) apiPassword(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	var in struct {
		Old  string `json:"old"`
		New  string `json:"new"`
		New2 string `json:"new2"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.app.ChangePassword(r.Context(), rs.actor, rs.token, in.Old, in.New, in.New2); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiMessages(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	pg := pager(r, 25)
	kind := panel.MessageKind(r.URL.Query().Get("kind"))
	if kind != "" && kind != panel.MsgError && kind != panel.MsgNotice {
		return panel.Invalid("kind", "err.kind")
	}
	items, total, err := s.app.Store.Messages(r.Context(), rs.actor, store.MessageFilter{Kind: kind, Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, m := range items {
		out = append(out, map[string]any{"id": m.ID, "kind": m.Kind, "subject": m.Subject, "text": s.cat.Message(rs.lang, m), "created_at": m.CreatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "messages": out})
	return nil
}

// JSON forms of limits.
type limitJSON struct {
	Value          int64  `json:"value"`
	Mode           string `json:"mode"`
	AllowUnlimited bool   `json:"allow_unlimited"`
}

func resellerJSON(res panel.Reseller) map[string]any {
	lim := map[string]limitJSON{}
	for r, l := range res.Limits {
		lim[string(r)] = limitJSON{l.Value, string(l.Mode), l.AllowUnlimited}
	}
	sv := map[string]int{}
	for k, v := range res.Services {
		sv[string(k)] = v
	}
	return map[string]any{"id": res.ID, "login": res.Login, "name": res.Name, "company": res.Company, "email": res.Email,
		"status": res.Status, "language": res.Language, "design": res.Design, "limits": lim, "services": sv,
		"default_user_id": res.DefaultUserID}
}

func parseLimitsJSON(in map[string]limitJSON) (panel.ResellerLimits, error) {
	out := panel.ResellerLimits{}
	for k, v := range in {
		r := panel.Resource(k)
		if !r.Valid() {
			return nil, panel.Invalid("limits."+k, "err.limit.unknown", k)
		}
		if v.Mode == "" {
			v.Mode = string(panel.ModeMaximum)
		}
		l := panel.ResellerLimit{Value: v.Value, Mode: panel.Mode(v.Mode), AllowUnlimited: v.AllowUnlimited}
		if err := l.Validate(r); err != nil {
			return nil, err
		}
		out[r] = l
	}
	return out, nil
}

func parseServicesJSON(in map[string]int) (panel.ServiceSet, error) {
	out := panel.ServiceSet{}
	for k, v := range in {
		out[panel.Service(k)] = v
	}
	return out, out.Validate()
}

func (s *Server) apiResellers(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	rows, err := s.app.Store.Resellers(r.Context(), rs.actor)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range rows {
		out = append(out, map[string]any{"id": x.ID, "login": x.Login, "name": x.Name, "company": x.Company, "status": x.Status, "users": x.Users})
	}
	writeJSON(w, http.StatusOK, map[string]any{"resellers": out})
	return nil
}

func (s *Server) apiResellerCreate(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	var in struct {
		Login    string               `json:"login"`
		Password string               `json:"password"`
		Name     string               `json:"name"`
		Company  string               `json:"company"`
		Email    string               `json:"email"`
		Language string               `json:"language"`
		Design   string               `json:"design"`
		Limits   map[string]limitJSON `json:"limits"`
		Services map[string]int       `json:"services"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	lim, err := parseLimitsJSON(in.Limits)
	if err != nil {
		return err
	}
	sv, err := parseServicesJSON(in.Services)
	if err != nil {
		return err
	}
	res, pw, err := s.app.CreateReseller(r.Context(), rs.actor, app.ResellerInput{Login: in.Login, Password: in.Password,
		Name: in.Name, Company: in.Company, Email: in.Email, Language: in.Language, Design: in.Design, Limits: lim, Services: sv})
	if err != nil {
		return err
	}
	out := resellerJSON(res)
	out["password"] = pw
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) apiReseller(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "reseller")
	if err != nil {
		return err
	}
	res, err := s.app.Store.Reseller(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resellerJSON(res))
	return nil
}

func (s *Server) apiResellerLimits(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "reseller")
	if err != nil {
		return err
	}
	var in map[string]limitJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	lim, err := parseLimitsJSON(in)
	if err != nil {
		return err
	}
	if err := s.app.Store.SetResellerLimits(r.Context(), rs.actor, id, lim); err != nil {
		return err
	}
	return s.apiReseller(w, r, rs)
}

func usageJSON(rows []panel.UsageRow) []map[string]any {
	out := []map[string]any{}
	for _, u := range rows {
		out = append(out, map[string]any{"resource": u.Resource, "used": u.Used, "allocated": u.Allocated.Sum,
			"allocated_unlimited": u.Allocated.Unlimited, "limit": u.Limit.Value, "mode": u.Limit.Mode, "over_maximum": u.OverMaximum()})
	}
	return out
}

func (s *Server) apiResellerUsage(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "reseller")
	if err != nil {
		return err
	}
	rows, err := s.app.Store.Usage(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"usage": usageJSON(rows)})
	return nil
}

func (s *Server) apiUsage(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	rows, err := s.app.Store.Usage(r.Context(), rs.actor, rs.actor.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"usage": usageJSON(rows)})
	return nil
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	pg := pager(r, 25)
	rows, total, err := s.app.Store.Users(r.Context(), rs.actor, store.UserFilter{Search: r.URL.Query().Get("q"), Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, u := range rows {
		ds := []string{}
		for _, d := range u.Domains {
			ds = append(ds, panel.DisplayDomain(d))
		}
		out = append(out, map[string]any{"id": u.ID, "login": u.Login, "name": u.Name, "email": u.Email, "status": u.Status, "default": u.IsDefault, "domains": ds})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "page": pg.Page, "per": pg.Per, "users": out})
	return nil
}

func userJSON(u panel.User) map[string]any {
	lim := map[string]int64{}
	for k, v := range u.Limits {
		lim[string(k)] = v
	}
	sv := map[string]int{}
	for k, v := range u.Services {
		sv[string(k)] = v
	}
	ds := []map[string]any{}
	for _, d := range u.Domains {
		ds = append(ds, map[string]any{"id": d.ID, "name": d.Name, "display": d.Display(), "dns": d.DNS, "dnr": d.DNR})
	}
	p := u.Profile
	return map[string]any{"id": u.ID, "login": u.Login, "reseller": u.ResellerLogin, "status": u.Status,
		"language": u.Language, "design": u.Design, "default": u.IsDefault, "limits": lim, "services": sv, "domains": ds,
		"profile": map[string]any{"name": p.Name, "company": p.Company, "street": p.Street, "zip": p.Zip, "city": p.City,
			"country": p.Country, "email": p.Email, "phone": p.Phone, "custom": p.Custom, "show": p.Show}}
}

func (s *Server) apiUserCreate(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	var in struct {
		Password string           `json:"password"`
		Language string           `json:"language"`
		Design   string           `json:"design"`
		Name     string           `json:"name"`
		Company  string           `json:"company"`
		Email    string           `json:"email"`
		Phone    string           `json:"phone"`
		Limits   map[string]int64 `json:"limits"`
		Services map[string]int   `json:"services"`
		Domains  []struct {
			Name string `json:"name"`
			DNS  bool   `json:"dns"`
			DNR  bool   `json:"dnr"`
		} `json:"domains"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	lim := panel.Limits{}
	for k, v := range in.Limits {
		lim[panel.Resource(k)] = v
	}
	sv, err := parseServicesJSON(in.Services)
	if err != nil {
		return err
	}
	ui := app.UserInput{Password: in.Password, Language: in.Language, Design: in.Design, Limits: lim, Services: sv,
		Profile: panel.Profile{Name: in.Name, Company: in.Company, Email: in.Email, Phone: in.Phone}}
	for _, d := range in.Domains {
		ui.Domains = append(ui.Domains, store.NewDomain{Name: d.Name, DNS: d.DNS, DNR: d.DNR})
	}
	res, pw, err := s.app.CreateUser(r.Context(), rs.actor, ui)
	if err != nil {
		return err
	}
	out := userJSON(res.User)
	out["password"] = pw
	over := []string{}
	for _, o := range res.Over {
		over = append(over, string(o))
	}
	out["over_maximum"] = over
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) apiUser(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	u, err := s.app.Store.User(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userJSON(u))
	return nil
}

func (s *Server) apiDomainAdd(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	var in struct {
		Name string `json:"name"`
		DNS  bool   `json:"dns"`
		DNR  bool   `json:"dnr"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := s.app.Store.AddDomain(r.Context(), rs.actor, id, store.NewDomain{Name: in.Name, DNS: in.DNS, DNR: in.DNR})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": d.ID, "name": d.Name, "display": d.Display(), "dns": d.DNS, "dnr": d.DNR})
	return nil
}

func (s *Server) apiDomainDelete(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "domain")
	if err != nil {
		return err
	}
	if err := s.app.Store.DeleteDomain(r.Context(), rs.actor, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
