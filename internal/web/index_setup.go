package web

import (
	"net/http"

	"kontor/internal/app"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// The index setup (SET-2): the reseller's start page for the web root of
// every new user. The page is the reseller's own HTML for its users'
// webspace; inside the panel it is only ever shown escaped: as the
// textarea's text, as escaped source, and in the srcdoc of an iframe with
// an empty sandbox (no scripts, an origin of its own), whose attribute
// html/template escapes.

const indexSetupPath = "/reseller/settings/index"

func (s *Server) registerIndexSetup() {
	s.handle("GET", indexSetupPath, panel.RoleReseller, s.indexSetupForm)
	s.handle("POST", indexSetupPath, panel.RoleReseller, s.indexSetupSubmit)
}

// indexSetupData is what the page shows besides the form.
type indexSetupData struct {
	Login   string // the user the preview is for
	Name    string // file name of the previewed page
	Preview string // the page with ##user## replaced, "" when none
	Draft   bool   // the preview shows the submitted, unsaved page
}

func previewOf(in store.IndexSetup, draft bool) indexSetupData {
	return indexSetupData{Login: app.IndexPreviewLogin, Name: in.Name, Preview: app.IndexPreview(in.HTML, app.IndexPreviewLogin), Draft: draft}
}

func (s *Server) indexSetupForm(w http.ResponseWriter, r *http.Request, p *Page) {
	in, err := s.app.IndexSetup(r.Context(), p.Actor, p.Actor.ID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Form.Set("name", in.Name)
	p.Form.Set("html", in.HTML)
	s.renderIndexSetup(w, p, previewOf(in, false), http.StatusOK)
}

// indexSetupSubmit saves the setup, or with op=preview only shows the
// submitted page. The reseller is always the actor itself: no id in the
// form or URL can point the change at another reseller.
func (s *Server) indexSetupSubmit(w http.ResponseWriter, r *http.Request, p *Page) {
	in := store.IndexSetup{Name: r.PostFormValue("name"), HTML: r.PostFormValue("html")}
	var err error
	if r.PostFormValue("op") == "preview" {
		if in, err = app.CheckIndexSetup(in); err == nil {
			p.Form = r.PostForm
			s.renderIndexSetup(w, p, previewOf(in, true), http.StatusOK)
			return
		}
	} else if _, err = s.app.SaveIndexSetup(r.Context(), p.Actor, p.Actor.ID, in); err == nil {
		http.Redirect(w, r, indexSetupPath+"?done=index_saved", http.StatusSeeOther)
		return
	}
	if code := status(err); code != http.StatusUnprocessableEntity {
		s.fail(w, r, p, err)
		return
	}
	// The form comes back as sent; the preview keeps showing what is stored.
	p.Form = r.PostForm
	p.FormError(err)
	stored, serr := s.app.IndexSetup(r.Context(), p.Actor, p.Actor.ID)
	if serr != nil {
		s.fail(w, r, p, serr)
		return
	}
	s.renderIndexSetup(w, p, previewOf(stored, false), status(err))
}

func (s *Server) renderIndexSetup(w http.ResponseWriter, p *Page, d indexSetupData, code int) {
	p.Title, p.Menu = "tool.index", "settings"
	p.Data = d
	s.render(w, code, "index_setup", p)
}
