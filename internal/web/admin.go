package web

import (
	"net/http"
	"strconv"
	"strings"

	"kontor/internal/app"
	"kontor/internal/panel"
)

func (s *Server) adminResellers(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.reseller_list", "resellers"
	rows, err := s.app.Store.Resellers(r.Context(), p.Actor)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Data = rows
	s.render(w, http.StatusOK, "admin_resellers", p)
}

// resellerFormData is the create form; Created is set after success so
// the page can show the password once.
type resellerFormData struct {
	Created  *panel.Reseller
	Password string
}

func (s *Server) adminResellerNew(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.reseller_create", "resellers"
	p.Form.Set("language", "en")
	p.Data = resellerFormData{}
	s.render(w, http.StatusOK, "admin_reseller_new", p)
}

func (s *Server) adminResellerCreate(w http.ResponseWriter, r *http.Request, p *Page) {
	p.Title, p.Menu = "tool.reseller_create", "resellers"
	p.Form = r.PostForm
	p.Data = resellerFormData{}
	in := app.ResellerInput{Login: r.PostFormValue("login"), Password: r.PostFormValue("password"),
		Name: r.PostFormValue("name"), Company: r.PostFormValue("company"), Email: r.PostFormValue("email"),
		Language: r.PostFormValue("language")}
	var err error
	if in.Limits, err = parseResellerLimits(r.PostForm); err == nil {
		if in.Services, err = parseServices(r.PostForm); err == nil {
			var res panel.Reseller
			var pw string
			res, pw, err = s.app.CreateReseller(r.Context(), p.Actor, in)
			if err == nil {
				p.Data = resellerFormData{Created: &res, Password: pw}
				p.Form.Del("password")
				s.render(w, http.StatusCreated, "admin_reseller_new", p)
				return
			}
		}
	}
	p.FormError(err)
	p.Form.Del("password")
	s.render(w, status(err), "admin_reseller_new", p)
}

// resellerData is the admin's page of one reseller.
type resellerData struct {
	Reseller panel.Reseller
	Usage    []panel.UsageRow
}

func (s *Server) resellerFromPath(w http.ResponseWriter, r *http.Request, p *Page) (panel.Reseller, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, p, panel.NotFound("reseller"))
		return panel.Reseller{}, false
	}
	res, err := s.app.Store.Reseller(r.Context(), p.Actor, id)
	if err != nil {
		s.fail(w, r, p, err)
		return res, false
	}
	return res, true
}

func (s *Server) adminReseller(w http.ResponseWriter, r *http.Request, p *Page) {
	res, ok := s.resellerFromPath(w, r, p)
	if !ok {
		return
	}
	limitsForm(p.Form, res.Limits)
	servicesForm(p.Form, res.Services)
	s.renderReseller(w, r, p, res, http.StatusOK)
}

func (s *Server) renderReseller(w http.ResponseWriter, r *http.Request, p *Page, res panel.Reseller, code int) {
	usage, err := s.app.Store.Usage(r.Context(), p.Actor, res.ID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Title, p.Menu = "page.reseller", "resellers"
	p.Data = resellerData{Reseller: res, Usage: usage}
	s.render(w, code, "admin_reseller", p)
}

func (s *Server) adminResellerLimits(w http.ResponseWriter, r *http.Request, p *Page) {
	s.resellerForm(w, r, p, func(res panel.Reseller) error {
		limits, err := parseResellerLimits(r.PostForm)
		if err != nil {
			return err
		}
		return s.app.Store.SetResellerLimits(r.Context(), p.Actor, res.ID, limits)
	})
}

func (s *Server) adminResellerServices(w http.ResponseWriter, r *http.Request, p *Page) {
	s.resellerForm(w, r, p, func(res panel.Reseller) error {
		ss, err := parseServices(r.PostForm)
		if err != nil {
			return err
		}
		return s.app.Store.SetResellerServices(r.Context(), p.Actor, res.ID, ss)
	})
}

// resellerForm saves one of the forms of the admin's reseller page with
// save. On an error the page comes back with what was submitted, and the
// page's other forms show their stored values.
func (s *Server) resellerForm(w http.ResponseWriter, r *http.Request, p *Page, save func(panel.Reseller) error) {
	res, ok := s.resellerFromPath(w, r, p)
	if !ok {
		return
	}
	if err := save(res); err != nil {
		p.Form = r.PostForm
		// Fill in the form that was not submitted; the submitted one keeps
		// exactly what was sent (an unticked box stays unticked).
		if !hasPrefix(p.Form, "limit.") {
			limitsForm(p.Form, res.Limits)
		}
		if !hasPrefix(p.Form, "service.") {
			servicesForm(p.Form, res.Services)
		}
		p.FormError(err)
		s.renderReseller(w, r, p, res, status(err))
		return
	}
	http.Redirect(w, r, "/admin/resellers/"+strconv.FormatInt(res.ID, 10)+"?done=saved", http.StatusSeeOther)
}

func (s *Server) adminResellerStatus(w http.ResponseWriter, r *http.Request, p *Page) {
	res, ok := s.resellerFromPath(w, r, p)
	if !ok {
		return
	}
	st := panel.StatusEnabled
	if r.PostFormValue("status") == string(panel.StatusLocked) {
		st = panel.StatusLocked
	}
	if err := s.app.Store.SetStatus(r.Context(), p.Actor, res.ID, st); err != nil {
		s.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/admin/resellers/"+strconv.FormatInt(res.ID, 10)+"?done=saved", http.StatusSeeOther)
}

func (s *Server) adminResellerDelete(w http.ResponseWriter, r *http.Request, p *Page) {
	res, ok := s.resellerFromPath(w, r, p)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != res.Login {
		p.Form = url2form(res)
		p.FormError(panel.Invalid("confirm", "err.confirm", res.Login))
		s.renderReseller(w, r, p, res, http.StatusUnprocessableEntity)
		return
	}
	if err := s.app.Store.DeleteAccount(r.Context(), p.Actor, res.ID); err != nil {
		s.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/admin/?done=deleted", http.StatusSeeOther)
}

func url2form(res panel.Reseller) map[string][]string {
	f := map[string][]string{}
	limitsForm(f, res.Limits)
	servicesForm(f, res.Services)
	return f
}

func (s *Server) adminSettings(w http.ResponseWriter, r *http.Request, p *Page) {
	set, err := s.app.Settings(r.Context())
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Form.Set("password_min", strconv.Itoa(set.Password.Min))
	p.Form.Set("password_max", strconv.Itoa(set.Password.Max))
	p.Form.Set("panel_url", set.PanelURL)
	p.Form.Set("server_name", set.ServerName)
	p.Form.Set("mail_relay", set.MailRelay)
	p.Form.Set("dns_nameservers", strings.Join(set.DNSNameServers, "\n"))
	p.Form.Set("mail_host", set.MailHost)
	p.Form.Set("coldfusion", set.ColdFusion)
	if set.ClassicSkins {
		p.Form.Set("classic_skins", "1")
	}
	p.Title, p.Menu = "tool.server_settings", "server"
	s.render(w, http.StatusOK, "admin_settings", p)
}

func (s *Server) adminSettingsSave(w http.ResponseWriter, r *http.Request, p *Page) {
	set := app.Settings{PanelURL: r.PostFormValue("panel_url"), ServerName: r.PostFormValue("server_name"),
		ClassicSkins: r.PostFormValue("classic_skins") != "", MailRelay: r.PostFormValue("mail_relay"),
		// Name servers come one a line or separated by spaces.
		DNSNameServers: strings.Fields(r.PostFormValue("dns_nameservers")),
		MailHost:       r.PostFormValue("mail_host"), ColdFusion: r.PostFormValue("coldfusion")}
	var err error
	if set.Password.Min, err = strconv.Atoi(r.PostFormValue("password_min")); err != nil {
		err = panel.Invalid("password_min", "err.number")
	} else if set.Password.Max, err = strconv.Atoi(r.PostFormValue("password_max")); err != nil {
		err = panel.Invalid("password_max", "err.number")
	} else {
		err = s.app.SaveSettings(r.Context(), p.Actor, set)
	}
	if err != nil {
		p.Form = r.PostForm
		p.FormError(err)
		p.Title, p.Menu = "tool.server_settings", "server"
		s.render(w, status(err), "admin_settings", p)
		return
	}
	http.Redirect(w, r, "/admin/settings?done=saved", http.StatusSeeOther)
}

// hasPrefix reports whether any submitted field starts with prefix.
func hasPrefix(f map[string][]string, prefix string) bool {
	for k := range f {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
