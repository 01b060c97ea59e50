package web

import (
	"net/http"

	"kontor/internal/panel"
)

// userHomeData is the user's own start page: its account and the personal
// data the reseller marked "show on the user's home page" (USR-2 step 3).
type userHomeData struct {
	userViewData
	Shown []shownField
}

type shownField struct{ Label, Value string }

func (s *Server) userHome(w http.ResponseWriter, r *http.Request, p *Page) {
	u, err := s.app.Store.User(r.Context(), p.Actor, p.Actor.ID)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Title, p.Menu = "page.user_home", "home"
	d := userHomeData{userViewData: userView(u)}
	pr := u.Profile
	values := map[string]string{"name": pr.Name, "company": pr.Company, "street": pr.Street, "zip": pr.Zip,
		"city": pr.City, "country": pr.Country, "email": pr.Email, "phone": pr.Phone,
		"custom1": pr.Custom[0], "custom2": pr.Custom[1], "custom3": pr.Custom[2]}
	for _, f := range panel.ProfileFields() {
		if !pr.ShowsField(f) || values[f] == "" {
			continue
		}
		label := p.T("usr.field." + f)
		if len(f) == 7 && f[:6] == "custom" {
			// The definable fields carry the labels the reseller chose.
			def := p.T("usr." + f)
			if v, err := s.app.Store.AccountSetting(r.Context(), u.ParentID, f+"_label", def); err == nil && v != "" {
				label = v
			} else {
				label = def
			}
		}
		d.Shown = append(d.Shown, shownField{Label: label, Value: values[f]})
	}
	p.Data = d
	s.render(w, http.StatusOK, "userhome", p)
}
