package web

import (
	"net/http"
	"net/url"
	"strconv"

	"kontor/internal/panel"
)

// registerTemplates registers the Templates menu's pages (TPL-1..3). The
// menu's overview with its tiles stays the shared menu page; "Edit
// template" is the page that manages the list (delete several, change,
// create a user from one), as the guide's "Managing your templates".
func (s *Server) registerTemplates() {
	s.handle("GET", "/reseller/templates/create", panel.RoleReseller, s.tplCreateForm)
	s.handle("POST", "/reseller/templates/create", panel.RoleReseller, s.tplCreate)
	s.handle("GET", "/reseller/templates/edit", panel.RoleReseller, s.tplManage)
	s.handle("POST", "/reseller/templates/delete", panel.RoleReseller, s.tplDeleteSeveral)
	s.handle("GET", "/reseller/templates/{id}/edit", panel.RoleReseller, s.tplEditForm)
	s.handle("POST", "/reseller/templates/{id}/edit", panel.RoleReseller, s.tplUpdate)
	s.handle("POST", "/reseller/templates/{id}/delete", panel.RoleReseller, s.tplDeleteOne)
	s.handle("GET", "/reseller/templates/email", panel.RoleReseller, s.tplEmail)
	s.handle("POST", "/reseller/templates/email", panel.RoleReseller, s.tplEmailSave)
	s.handle("GET", "/reseller/templates/create-user", panel.RoleReseller, s.tplCreateUser)
	s.registerTemplatesAPI()
}

// tplFormData is the create and edit form. Template is nil when creating.
type tplFormData struct {
	Template *panel.Template
	Reseller panel.Reseller
}

// Grants lets the limits partial show the reseller's own limits.
func (d tplFormData) Grants() *panel.Reseller { return &d.Reseller }

// tplForm reads the template form: name, limits and services. The limits
// and services are parsed before anything is stored; the store checks
// them against the reseller.
func tplForm(f url.Values) (panel.Template, error) {
	t := panel.Template{Name: f.Get("name")}
	var err error
	if t.Limits, err = parseUserLimits(f); err != nil {
		return t, err
	}
	t.Services, err = parseServices(f)
	return t, err
}

func (s *Server) renderTplForm(w http.ResponseWriter, r *http.Request, p *Page, t *panel.Template, code int) {
	res, err := s.app.Store.Reseller(r.Context(), p.Actor, p.Actor.ID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Menu = "templates"
	p.Title = "tool.template_create"
	if t != nil {
		p.Title = "tpl.page.edit"
	}
	p.Data = tplFormData{Template: t, Reseller: res}
	s.render(w, code, "tpl_form", p)
}

func (s *Server) tplCreateForm(w http.ResponseWriter, r *http.Request, p *Page) {
	userLimitsForm(p.Form, nil)
	s.renderTplForm(w, r, p, nil, http.StatusOK)
}

func (s *Server) tplCreate(w http.ResponseWriter, r *http.Request, p *Page) {
	t, err := tplForm(r.PostForm)
	if err == nil {
		_, err = s.app.Store.CreateTemplate(r.Context(), p.Actor, t)
	}
	if err != nil {
		p.Form = r.PostForm
		p.FormError(err)
		s.renderTplForm(w, r, p, nil, status(err))
		return
	}
	http.Redirect(w, r, "/reseller/templates/edit?done=tpl_created", http.StatusSeeOther)
}

// tplFromPath loads the template of the {id} in the path; a foreign or
// unknown id is "not found", before any input is looked at.
func (s *Server) tplFromPath(w http.ResponseWriter, r *http.Request, p *Page) (panel.Template, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, p, panel.NotFound("template"))
		return panel.Template{}, false
	}
	t, err := s.app.Store.Template(r.Context(), p.Actor, id)
	if err != nil {
		s.fail(w, r, p, err)
		return t, false
	}
	return t, true
}

func (s *Server) tplEditForm(w http.ResponseWriter, r *http.Request, p *Page) {
	t, ok := s.tplFromPath(w, r, p)
	if !ok {
		return
	}
	p.Form.Set("name", t.Name)
	userLimitsForm(p.Form, t.Limits)
	servicesForm(p.Form, t.Services)
	s.renderTplForm(w, r, p, &t, http.StatusOK)
}

func (s *Server) tplUpdate(w http.ResponseWriter, r *http.Request, p *Page) {
	old, ok := s.tplFromPath(w, r, p)
	if !ok {
		return
	}
	t, err := tplForm(r.PostForm)
	if err == nil {
		t.ID = old.ID
		_, err = s.app.Store.UpdateTemplate(r.Context(), p.Actor, t)
	}
	if err != nil {
		if panel.ErrorKind(err) == panel.KindNotFound {
			s.fail(w, r, p, err)
			return
		}
		p.Form = r.PostForm
		p.FormError(err)
		s.renderTplForm(w, r, p, &old, status(err))
		return
	}
	http.Redirect(w, r, "/reseller/templates/edit?done=saved", http.StatusSeeOther)
}

// tplListData is the "Manage templates" page.
type tplListData struct {
	Templates []panel.Template
}

func (s *Server) tplManage(w http.ResponseWriter, r *http.Request, p *Page) {
	// The drop-down "choose a template, then Edit template" (the guide's
	// way) submits ?id=; without script it lands here and goes on.
	if v := r.URL.Query().Get("id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, p, panel.NotFound("template"))
			return
		}
		if _, err := s.app.Store.Template(r.Context(), p.Actor, id); err != nil {
			s.fail(w, r, p, err)
			return
		}
		http.Redirect(w, r, "/reseller/templates/"+strconv.FormatInt(id, 10)+"/edit", http.StatusSeeOther)
		return
	}
	s.renderTplManage(w, r, p, http.StatusOK)
}

func (s *Server) renderTplManage(w http.ResponseWriter, r *http.Request, p *Page, code int) {
	ts, err := s.app.Store.Templates(r.Context(), p.Actor)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Title, p.Menu = "tpl.page.manage", "templates"
	p.Data = tplListData{Templates: ts}
	s.render(w, code, "tpl_list", p)
}

func (s *Server) tplDeleteSeveral(w http.ResponseWriter, r *http.Request, p *Page) {
	var ids []int64
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, p, panel.NotFound("template"))
			return
		}
		ids = append(ids, id)
	}
	if err := s.app.Store.DeleteTemplates(r.Context(), p.Actor, ids); err != nil {
		if panel.ErrorKind(err) == panel.KindNotFound {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		s.renderTplManage(w, r, p, status(err))
		return
	}
	http.Redirect(w, r, "/reseller/templates/edit?done=deleted", http.StatusSeeOther)
}

func (s *Server) tplDeleteOne(w http.ResponseWriter, r *http.Request, p *Page) {
	t, ok := s.tplFromPath(w, r, p)
	if !ok {
		return
	}
	if err := s.app.Store.DeleteTemplates(r.Context(), p.Actor, []int64{t.ID}); err != nil {
		s.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/reseller/templates/edit?done=deleted", http.StatusSeeOther)
}

// tplMailData is the e-mail setup (TPL-3): the template chosen, its mail,
// and the tags listed beside the form.
type tplMailData struct {
	Templates    []panel.Template
	TemplateID   int64
	TemplateName string
	Stored       bool
	Tags         []string
}

// mailTemplateID reads the template of the e-mail setup: "" or 0 is the
// default mail ("no template / individual setting").
func mailTemplateID(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, panel.NotFound("template")
	}
	return id, nil
}

func (s *Server) tplEmail(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := mailTemplateID(r.URL.Query().Get("template"))
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	m, stored, err := s.app.MailTemplateFor(r.Context(), p.Actor, p.Actor.ID, id)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Form.Set("from_name", m.FromName)
	p.Form.Set("from", m.From)
	p.Form.Set("subject", m.Subject)
	p.Form.Set("body", m.Body)
	s.renderTplEmail(w, r, p, id, stored, http.StatusOK)
}

func (s *Server) renderTplEmail(w http.ResponseWriter, r *http.Request, p *Page, id int64, stored bool, code int) {
	ts, err := s.app.Store.Templates(r.Context(), p.Actor)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	d := tplMailData{Templates: ts, TemplateID: id, Stored: stored, Tags: panel.MailTags()}
	for _, t := range ts {
		if t.ID == id {
			d.TemplateName = t.Name
		}
	}
	p.Title, p.Menu = "tool.template_email", "templates"
	p.Data = d
	s.render(w, code, "tpl_email", p)
}

func (s *Server) tplEmailSave(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := mailTemplateID(r.PostFormValue("template"))
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	m := panel.MailTemplate{TemplateID: id, FromName: r.PostFormValue("from_name"), From: r.PostFormValue("from"),
		Subject: r.PostFormValue("subject"), Body: r.PostFormValue("body")}
	if err := s.app.SaveMailTemplate(r.Context(), p.Actor, p.Actor.ID, m); err != nil {
		if panel.ErrorKind(err) == panel.KindNotFound {
			s.fail(w, r, p, err)
			return
		}
		_, stored, lerr := s.app.Store.MailTemplate(r.Context(), p.Actor, p.Actor.ID, id)
		if lerr != nil {
			s.fail(w, r, p, lerr)
			return
		}
		p.Form = r.PostForm
		p.FormError(err)
		s.renderTplEmail(w, r, p, id, stored, status(err))
		return
	}
	http.Redirect(w, r, "/reseller/templates/email?template="+strconv.FormatInt(id, 10)+"&done=saved", http.StatusSeeOther)
}

// tplCreateUser is the Templates menu's "Create user". With ?template=ID
// (the list's "Create user from this") it goes straight to the Users
// menu's create-user wizard with that template chosen; without, it shows
// the wizard's first question, which template, as a form that submits to
// the wizard (no script needed).
func (s *Server) tplCreateUser(w http.ResponseWriter, r *http.Request, p *Page) {
	v := r.URL.Query().Get("template")
	if v == "" {
		ts, err := s.app.Store.Templates(r.Context(), p.Actor)
		if err != nil {
			s.fail(w, r, p, err)
			return
		}
		p.Title, p.Menu = "tool.user_create", "templates"
		p.Data = tplListData{Templates: ts}
		s.render(w, http.StatusOK, "tpl_createuser", p)
		return
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		s.fail(w, r, p, panel.NotFound("template"))
		return
	}
	if id != 0 {
		if _, err := s.app.Store.Template(r.Context(), p.Actor, id); err != nil {
			s.fail(w, r, p, err)
			return
		}
	}
	http.Redirect(w, r, "/reseller/users/create?template="+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
