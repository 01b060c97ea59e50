package web

import (
	"net/http"

	"kontor/internal/app"
	"kontor/internal/panel"
)

// The JSON API of the change-user page (USR-3): the same app calls as the
// pages. Every handler loads the user (or domain) of the path first, so a
// foreign id is "not found" before the body is even looked at (ROLE-4).

func (s *Server) registerUserAPI() {
	s.api("PUT", "/api/v1/users/{id}/profile", panel.RoleReseller, s.apiUserProfile)
	s.api("PUT", "/api/v1/users/{id}/limits", panel.RoleReseller, s.apiUserLimits)
	s.api("PUT", "/api/v1/users/{id}/services", panel.RoleReseller, s.apiUserServices)
	s.api("POST", "/api/v1/users/{id}/template", panel.RoleReseller, s.apiUserTemplate)
	s.api("PUT", "/api/v1/users/{id}/password", panel.RoleReseller, s.apiUserPassword)
	s.api("PUT", "/api/v1/users/{id}/status", panel.RoleReseller, s.apiUserStatus)
	s.api("DELETE", "/api/v1/users/{id}", panel.RoleReseller, s.apiUserDelete)
	s.api("PUT", "/api/v1/domains/{id}", panel.RoleReseller, s.apiDomainChange)
}

// apiPathUser loads the user of the path.
func (s *Server) apiPathUser(r *http.Request, rs *reqSession) (panel.User, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return panel.User{}, err
	}
	return s.app.Store.User(r.Context(), rs.actor, id)
}

// writeUser answers with the user as stored now, and the resources whose
// grant passed a maximum.
func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, rs *reqSession, id int64, over []panel.Resource) error {
	u, err := s.app.Store.User(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	out := userJSON(u)
	ov := []string{}
	for _, o := range over {
		ov = append(ov, string(o))
	}
	out["over_maximum"] = ov
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiUserProfile(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	u, err := s.apiPathUser(r, rs)
	if err != nil {
		return err
	}
	var in struct {
		Name     string    `json:"name"`
		Company  string    `json:"company"`
		Street   string    `json:"street"`
		Zip      string    `json:"zip"`
		City     string    `json:"city"`
		Country  string    `json:"country"`
		Email    string    `json:"email"`
		Phone    string    `json:"phone"`
		Custom   [3]string `json:"custom"`
		Show     []string  `json:"show"`
		Language string    `json:"language"`
		Design   string    `json:"design"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Design != "" && in.Design != u.Design {
		allowed := false
		for _, d := range s.designs(r) {
			allowed = allowed || d == in.Design
		}
		if !allowed {
			return panel.Invalid("design", "err.design")
		}
	}
	err = s.app.ChangeProfile(r.Context(), rs.actor, u.ID, app.ProfileInput{Profile: panel.Profile{Name: in.Name,
		Company: in.Company, Street: in.Street, Zip: in.Zip, City: in.City, Country: in.Country, Email: in.Email,
		Phone: in.Phone, Custom: in.Custom, Show: in.Show}, Language: in.Language, Design: in.Design})
	if err != nil {
		return err
	}
	return s.writeUser(w, r, rs, u.ID, nil)
}

// apiUserLimits sets the limits given in the body ({"storage": 500, …});
// the others stay as they are.
func (s *Server) apiUserLimits(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	u, err := s.apiPathUser(r, rs)
	if err != nil {
		return err
	}
	var in map[string]int64
	if err := decode(r, &in); err != nil {
		return err
	}
	lim := panel.Limits{}
	for k, v := range in {
		res := panel.Resource(k)
		if !res.Valid() || res == panel.ResUsers {
			return panel.Invalid("limits."+k, "err.limit.unknown", k)
		}
		lim[res] = v
	}
	over, err := s.app.ChangePlan(r.Context(), rs.actor, u.ID, lim, nil)
	if err != nil {
		return err
	}
	return s.writeUser(w, r, rs, u.ID, over)
}

// apiUserServices sets the services given in the body ({"php": 1, …});
// the others stay as they are.
func (s *Server) apiUserServices(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	u, err := s.apiPathUser(r, rs)
	if err != nil {
		return err
	}
	var in map[string]int
	if err := decode(r, &in); err != nil {
		return err
	}
	ss := panel.ServiceSet{}
	for k, v := range u.Services {
		ss[k] = v
	}
	for k, v := range in {
		ss[panel.Service(k)] = v
	}
	if err := ss.Validate(); err != nil {
		return err
	}
	if _, err := s.app.ChangePlan(r.Context(), rs.actor, u.ID, nil, ss); err != nil {
		return err
	}
	return s.writeUser(w, r, rs, u.ID, nil)
}

func (s *Server) apiUserTemplate(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	u, err := s.apiPathUser(r, rs)
	if err != nil {
		return err
	}
	var in struct {
		TemplateID int64 `json:"template_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.TemplateID <= 0 {
		return panel.Invalid("template_id", "err.required")
	}
	over, err := s.app.ApplyTemplate(r.Context(), rs.actor, u.ID, in.TemplateID)
	if err != nil {
		return err
	}
	return s.writeUser(w, r, rs, u.ID, over)
}

// apiUserPassword sets the password given, or generates one when it is
// empty; the answer carries it once.
func (s *Server) apiUserPassword(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	u, err := s.apiPathUser(r, rs)
	if err != nil {
		return err
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	pw, err := s.app.ChangeUserPassword(r.Context(), rs.actor, u.ID, in.Password, in.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "login": u.Login, "password": pw})
	return nil
}

func (s *Server) apiUserStatus(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	u, err := s.apiPathUser(r, rs)
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.app.SetUserStatus(r.Context(), rs.actor, u.ID, panel.Status(in.Status)); err != nil {
		return err
	}
	return s.writeUser(w, r, rs, u.ID, nil)
}

func (s *Server) apiUserDelete(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	u, err := s.apiPathUser(r, rs)
	if err != nil {
		return err
	}
	if err := s.app.DeleteUser(r.Context(), rs.actor, u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiDomainChange sets a domain's DNS and DNR flags and its IP address
// ({"dns": true, "dnr": false, "ip": 3}; 0 is the server's shared
// address); fields left out stay as they are.
func (s *Server) apiDomainChange(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "domain")
	if err != nil {
		return err
	}
	if _, err := s.app.Store.Domain(r.Context(), rs.actor, id); err != nil {
		return err
	}
	var in struct {
		DNS *bool  `json:"dns"`
		DNR *bool  `json:"dnr"`
		IP  *int64 `json:"ip"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.IP != nil && *in.IP != 0 {
		d, err := s.app.Store.Domain(r.Context(), rs.actor, id)
		if err != nil {
			return err
		}
		u, err := s.app.Store.User(r.Context(), rs.actor, d.UserID)
		if err != nil {
			return err
		}
		ips, err := s.app.ExclusiveIPs(r.Context(), rs.actor, u)
		if err != nil {
			return err
		}
		ok := false
		for _, ip := range ips {
			ok = ok || ip.ID == *in.IP
		}
		if !ok {
			return panel.Invalid("ip", "usr.err.ip")
		}
	}
	d, err := s.app.ChangeDomain(r.Context(), rs.actor, id, app.DomainChange{DNS: in.DNS, DNR: in.DNR, IPID: in.IP})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": d.ID, "user_id": d.UserID, "name": d.Name, "display": d.Display(),
		"dns": d.DNS, "dnr": d.DNR, "ip": d.IPID})
	return nil
}
