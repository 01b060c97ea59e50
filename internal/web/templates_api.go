package web

import (
	"net/http"
	"strconv"

	"kontor/internal/panel"
)

// The templates' JSON API (TPL-1..3), for resellers. Template ids in the
// path are checked by the store before any input is looked at, so a
// foreign template is 404 whatever the body says.
func (s *Server) registerTemplatesAPI() {
	s.api("GET", "/api/v1/templates", panel.RoleReseller, s.apiTemplates)
	s.api("POST", "/api/v1/templates", panel.RoleReseller, s.apiTemplateCreate)
	s.api("POST", "/api/v1/templates/delete", panel.RoleReseller, s.apiTemplatesDelete)
	s.api("GET", "/api/v1/templates/{id}", panel.RoleReseller, s.apiTemplate)
	s.api("PUT", "/api/v1/templates/{id}", panel.RoleReseller, s.apiTemplateUpdate)
	s.api("DELETE", "/api/v1/templates/{id}", panel.RoleReseller, s.apiTemplateDelete)
	s.api("GET", "/api/v1/templates/{id}/mail", panel.RoleReseller, s.apiTemplateMail)
	s.api("PUT", "/api/v1/templates/{id}/mail", panel.RoleReseller, s.apiTemplateMailSave)
}

// templateJSON shows every user resource (0 = not available) and the
// services that are on.
func templateJSON(t panel.Template) map[string]any {
	lim := map[string]int64{}
	for _, r := range panel.Resources() {
		lim[string(r)] = t.Limits[r]
	}
	sv := map[string]int{}
	for k, v := range t.Services {
		if v > 0 {
			sv[string(k)] = v
		}
	}
	return map[string]any{"id": t.ID, "name": t.Name, "limits": lim, "services": sv}
}

// templateIn is the body of POST and PUT: the whole template, limits and
// services not given are 0 and off.
type templateIn struct {
	Name     string           `json:"name"`
	Limits   map[string]int64 `json:"limits"`
	Services map[string]int   `json:"services"`
}

func (in templateIn) template() (panel.Template, error) {
	t := panel.Template{Name: in.Name, Limits: panel.Limits{}}
	for k, v := range in.Limits {
		r := panel.Resource(k)
		if !r.Valid() || r == panel.ResUsers {
			return t, panel.Invalid("limits."+k, "err.limit.unknown", k)
		}
		t.Limits[r] = v
	}
	var err error
	t.Services, err = parseServicesJSON(in.Services)
	return t, err
}

func (s *Server) apiTemplates(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	ts, err := s.app.Store.Templates(r.Context(), rs.actor)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, t := range ts {
		out = append(out, templateJSON(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": out})
	return nil
}

func (s *Server) apiTemplateCreate(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	var in templateIn
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := in.template()
	if err != nil {
		return err
	}
	t, err = s.app.Store.CreateTemplate(r.Context(), rs.actor, t)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, templateJSON(t))
	return nil
}

func (s *Server) apiTemplate(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "template")
	if err != nil {
		return err
	}
	t, err := s.app.Store.Template(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, templateJSON(t))
	return nil
}

func (s *Server) apiTemplateUpdate(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "template")
	if err != nil {
		return err
	}
	if _, err := s.app.Store.Template(r.Context(), rs.actor, id); err != nil {
		return err
	}
	var in templateIn
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := in.template()
	if err != nil {
		return err
	}
	t.ID = id
	if t, err = s.app.Store.UpdateTemplate(r.Context(), rs.actor, t); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, templateJSON(t))
	return nil
}

func (s *Server) apiTemplateDelete(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "template")
	if err != nil {
		return err
	}
	if err := s.app.Store.DeleteTemplates(r.Context(), rs.actor, []int64{id}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiTemplatesDelete deletes several templates, all or none (TPL-1).
func (s *Server) apiTemplatesDelete(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	var in struct {
		IDs []int64 `json:"ids"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.app.Store.DeleteTemplates(r.Context(), rs.actor, in.IDs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// mailPathID reads the template id of a mail path: 0 is the default mail.
func mailPathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 0 {
		return 0, panel.NotFound("template")
	}
	return id, nil
}

func mailJSON(m panel.MailTemplate, stored bool) map[string]any {
	return map[string]any{"template_id": m.TemplateID, "stored": stored, "from_name": m.FromName, "from": m.From,
		"subject": m.Subject, "body": m.Body}
}

func (s *Server) apiTemplateMail(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := mailPathID(r)
	if err != nil {
		return err
	}
	m, stored, err := s.app.MailTemplateFor(r.Context(), rs.actor, rs.actor.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mailJSON(m, stored))
	return nil
}

func (s *Server) apiTemplateMailSave(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := mailPathID(r)
	if err != nil {
		return err
	}
	if id != 0 {
		if _, err := s.app.Store.Template(r.Context(), rs.actor, id); err != nil {
			return err
		}
	}
	var in struct {
		FromName string `json:"from_name"`
		From     string `json:"from"`
		Subject  string `json:"subject"`
		Body     string `json:"body"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	m := panel.MailTemplate{TemplateID: id, FromName: in.FromName, From: in.From, Subject: in.Subject, Body: in.Body}
	if err := s.app.SaveMailTemplate(r.Context(), rs.actor, rs.actor.ID, m); err != nil {
		return err
	}
	return s.apiTemplateMail(w, r, rs)
}
