package web

import (
	"net/http"
	"strconv"

	"kontor/internal/panel"
	"kontor/internal/store"
)

// ipsData is the admin's IP address page (ROLE-5).
type ipsData struct {
	IPs       []store.IP
	Resellers []store.ResellerRow
}

func (s *Server) adminIPs(w http.ResponseWriter, r *http.Request, p *Page) {
	s.renderIPs(w, r, p, http.StatusOK)
}

func (s *Server) renderIPs(w http.ResponseWriter, r *http.Request, p *Page, code int) {
	ips, err := s.app.Store.IPs(r.Context(), p.Actor)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	res, err := s.app.Store.Resellers(r.Context(), p.Actor)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Title, p.Menu = "tool.ips", "server"
	p.Data = ipsData{IPs: ips, Resellers: res}
	s.render(w, code, "admin_ips", p)
}

// formID reads an optional id field; "" or "0" is 0.
func formID(r *http.Request, field string) (int64, error) {
	v := r.PostFormValue(field)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, panel.Invalid(field, "err.number")
	}
	return id, nil
}

func (s *Server) adminIPAdd(w http.ResponseWriter, r *http.Request, p *Page) {
	owner, err := formID(r, "reseller")
	if err == nil {
		_, err = s.app.Store.AddIP(r.Context(), p.Actor, r.PostFormValue("address"), r.PostFormValue("shared") != "", owner)
	}
	if err != nil {
		p.Form = r.PostForm
		p.FormError(err)
		s.renderIPs(w, r, p, status(err))
		return
	}
	http.Redirect(w, r, "/admin/ips?done=saved", http.StatusSeeOther)
}

func (s *Server) adminIPOwner(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, p, panel.NotFound("ip"))
		return
	}
	owner, err := formID(r, "reseller")
	if err == nil {
		err = s.app.Store.SetIPOwner(r.Context(), p.Actor, id, owner)
	}
	if err != nil {
		if panel.ErrorKind(err) == panel.KindNotFound {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		s.renderIPs(w, r, p, status(err))
		return
	}
	http.Redirect(w, r, "/admin/ips?done=saved", http.StatusSeeOther)
}

func (s *Server) adminIPDelete(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, p, panel.NotFound("ip"))
		return
	}
	if err := s.app.Store.DeleteIP(r.Context(), p.Actor, id); err != nil {
		if panel.ErrorKind(err) == panel.KindNotFound {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		s.renderIPs(w, r, p, status(err))
		return
	}
	http.Redirect(w, r, "/admin/ips?done=deleted", http.StatusSeeOther)
}

func (s *Server) adminResellerMySQL(w http.ResponseWriter, r *http.Request, p *Page) {
	res, ok := s.resellerFromPath(w, r, p)
	if !ok {
		return
	}
	if err := s.app.Store.SetResellerMySQLExternal(r.Context(), p.Actor, res.ID, r.PostFormValue("mysql_external") != ""); err != nil {
		s.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/admin/resellers/"+strconv.FormatInt(res.ID, 10)+"?done=saved", http.StatusSeeOther)
}
