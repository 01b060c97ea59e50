package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"kontor/internal/app"
	"kontor/internal/mail"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// The Users menu of a reseller (USR-1..3): the overview with tools, "edit
// user data" and the user list; the five-step create-user wizard; and the
// change page of one user. The pages only read forms and render; every
// rule (ownership, limits, services) is decided in the app and the store.

// registerUserPages registers the create-user wizard and change-user pages
// (USR-1..3). The list (/reseller/users/list) and the change page
// (/reseller/user/{id}) are registered in routes.go and served here.
func (s *Server) registerUserPages() {
	s.handle("GET", "/reseller/users/create", panel.RoleReseller, s.wizardStart)
	s.handle("POST", "/reseller/users/create", panel.RoleReseller, s.wizardPost)
	s.handle("GET", "/reseller/users/edit", panel.RoleReseller, s.userEditByLogin)
	s.handle("POST", "/reseller/user/{id}/profile", panel.RoleReseller, s.userProfilePost)
	s.handle("POST", "/reseller/user/{id}/plan", panel.RoleReseller, s.userPlanPost)
	s.handle("POST", "/reseller/user/{id}/template", panel.RoleReseller, s.userTemplatePost)
	s.handle("POST", "/reseller/user/{id}/domains", panel.RoleReseller, s.userDomainsPost)
	s.handle("POST", "/reseller/user/{id}/password", panel.RoleReseller, s.userPasswordPost)
	s.handle("POST", "/reseller/user/{id}/status", panel.RoleReseller, s.userStatusPost)
	s.handle("POST", "/reseller/user/{id}/delete", panel.RoleReseller, s.userDeletePost)
	s.handle("POST", "/reseller/user/{id}/mail", panel.RoleReseller, s.userMailPost)
	s.registerUserAPI()
}

// ---------------------------------------------------------------------
// Overview and list (USR-1)

// usersData is the Users overview: tools, the edit box and the list.
type usersData struct {
	Tools []tool
	Rows  []store.UserRow
	Q     string
	Pager Pager
}

// userTools are the overview's tool links (USR-1): create user, FrontPage,
// SSL and MySQL.
func (s *Server) userTools() []tool {
	m, _ := findMenu("users")
	m = s.markReady([]menu{m})[0]
	var out []tool
	for _, t := range m.Tools {
		switch t.Slug {
		case "create", "frontpage", "ssl", "mysql":
			out = append(out, t)
		}
	}
	return out
}

func (s *Server) resellerUsers(w http.ResponseWriter, r *http.Request, p *Page) {
	s.renderUsers(w, r, p, http.StatusOK)
}

// renderUsers shows the overview; code lets the edit box answer 404 for a
// login that is not the reseller's, on the same page.
func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, p *Page, code int) {
	p.Title, p.Menu = "tool.user_list", "users"
	pg := pager(r, 25)
	q := r.URL.Query().Get("q")
	rows, total, err := s.app.Store.Users(r.Context(), p.Actor, store.UserFilter{Search: q, Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		if panel.ErrorKind(err) != panel.KindInvalid {
			s.fail(w, r, p, err)
			return
		}
		// A bad search term is answered on the list itself, which stays usable.
		p.FormError(err)
	}
	pg.Total = total
	pg.Base = "/reseller/users/list?q=" + url.QueryEscape(q) + "&per=" + strconv.Itoa(pg.Per)
	p.Form.Set("q", q)
	p.Data = usersData{Tools: s.userTools(), Rows: rows, Q: q, Pager: pg}
	s.render(w, code, "usr_list", p)
}

// userEditByLogin is the "edit user data" box: a login takes the reseller
// to that user's change page; an empty one to the list to pick from.
func (s *Server) userEditByLogin(w http.ResponseWriter, r *http.Request, p *Page) {
	login := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("login")))
	if login == "" {
		http.Redirect(w, r, "/reseller/users/list#users", http.StatusSeeOther)
		return
	}
	p.Form.Set("login", login)
	if err := panel.ValidateLogin("login", login); err != nil {
		p.FormError(err)
		s.renderUsers(w, r, p, status(err))
		return
	}
	u, err := s.app.Store.UserByLogin(r.Context(), p.Actor, login)
	if err != nil {
		if panel.ErrorKind(err) != panel.KindNotFound {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(panel.Invalid("login", "usr.err.no_such_user", login))
		s.renderUsers(w, r, p, http.StatusNotFound)
		return
	}
	http.Redirect(w, r, "/reseller/user/"+strconv.FormatInt(u.ID, 10), http.StatusSeeOther)
}

// ---------------------------------------------------------------------
// Personal data (step 3 and the change page)

// profileFieldNames are the personal-data fields in form order.
var profileFieldNames = panel.ProfileFields()

// labels returns the reseller's labels of the three definable fields.
func (s *Server) labels(r *http.Request, p *Page) [3]string {
	var out [3]string
	for i := range out {
		def := p.T("usr.custom" + strconv.Itoa(i+1))
		v, err := s.app.Store.AccountSetting(r.Context(), p.Actor.ID, "custom"+strconv.Itoa(i+1)+"_label", def)
		if err != nil || v == "" {
			v = def
		}
		out[i] = v
	}
	return out
}

// saveLabels stores the labels of the definable fields from label1..3.
func (s *Server) saveLabels(r *http.Request, p *Page, f url.Values) error {
	vals := make([]string, 3)
	for i := range vals {
		field := "label" + strconv.Itoa(i+1)
		v, err := panel.CleanText(field, f.Get(field), false)
		if err != nil {
			return err
		}
		if len([]rune(v)) > 40 {
			return panel.Invalid(field, "err.text.long", 40)
		}
		vals[i] = v
	}
	for i, v := range vals {
		if err := s.app.Store.SetAccountSetting(r.Context(), p.Actor, "custom"+strconv.Itoa(i+1)+"_label", v); err != nil {
			return err
		}
	}
	return nil
}

// readProfile reads the personal-data fields of a form.
func readProfile(f url.Values) panel.Profile {
	return panel.Profile{Name: f.Get("name"), Company: f.Get("company"), Street: f.Get("street"), Zip: f.Get("zip"),
		City: f.Get("city"), Country: f.Get("country"), Email: f.Get("email"), Phone: f.Get("phone"),
		Custom: [3]string{f.Get("custom1"), f.Get("custom2"), f.Get("custom3")}, Show: f["show"]}
}

// profileForm fills form values from a profile.
func profileForm(f url.Values, pr panel.Profile) {
	vals := []string{pr.Name, pr.Company, pr.Street, pr.Zip, pr.City, pr.Country, pr.Email, pr.Phone, pr.Custom[0], pr.Custom[1], pr.Custom[2]}
	for i, name := range profileFieldNames {
		f.Set(name, vals[i])
	}
	f.Del("show")
	for _, sh := range pr.Show {
		f.Add("show", sh)
	}
}

// checkLanguageDesign checks the language and design fields; designs are
// those the server offers (classic only when the admin enabled it), and
// keep, the design a user already has, even if it is no longer offered.
func (s *Server) checkLanguageDesign(r *http.Request, f url.Values, keep string) error {
	if !panel.ValidLanguage(f.Get("language")) {
		return panel.Invalid("language", "err.language")
	}
	if d := f.Get("design"); !slices.Contains(s.designs(r), d) && (keep == "" || d != keep) {
		return panel.Invalid("design", "err.design")
	}
	return nil
}

// designsWith is the offered designs plus a user's own one.
func (s *Server) designsWith(r *http.Request, own string) []string {
	ds := s.designs(r)
	if own != "" && !slices.Contains(ds, own) {
		ds = append(ds, own)
	}
	return ds
}

// ProfileField describes one personal-data input for the shared partial.
type ProfileField struct {
	Name     string
	Label    string
	Type     string
	Required bool
}

// ProfileFields lists the personal-data inputs with their labels; the
// definable fields carry the reseller's labels.
func (p *Page) ProfileFields(labels [3]string) []ProfileField {
	var out []ProfileField
	for _, n := range profileFieldNames {
		pf := ProfileField{Name: n, Label: p.T("usr.field." + n), Type: "text"}
		switch n {
		case "name":
			pf.Required = true
		case "email":
			pf.Required, pf.Type = true, "email"
		case "phone":
			pf.Type = "tel"
		case "custom1", "custom2", "custom3":
			pf.Label = labels[n[len(n)-1]-'1']
		}
		out = append(out, pf)
	}
	return out
}

// Shows reports whether field is ticked "show on the user's home page".
func (p *Page) Shows(field string) bool { return slices.Contains(p.Form["show"], field) }

// Has reports whether the multi-valued field holds v.
func (p *Page) Has(field, v string) bool { return slices.Contains(p.Form[field], v) }

// ---------------------------------------------------------------------
// The create-user wizard (USR-2)

// wizardSteps are the catalogue keys of the five steps.
var wizardSteps = []string{"usr.step.template", "usr.step.services", "usr.step.personal", "usr.step.domains", "usr.step.done"}

// wizardFields are the fields that travel through the wizard, by the step
// that shows them; every other step carries them as hidden fields, so
// nothing is stored before the final "Create".
func wizardFields(step int) []string {
	switch step {
	case 1:
		return []string{"template"}
	case 2:
		var out []string
		for _, r := range panel.Resources() {
			out = append(out, r.Field())
		}
		for _, sv := range panel.Services() {
			out = append(out, sv.Field())
		}
		return out
	case 3:
		return append(append([]string(nil), profileFieldNames...), "show", "password", "password2", "language", "design")
	case 4:
		return []string{"domain", "dns", "dnr", "ip"}
	}
	return nil
}

type hiddenField struct{ Name, Value string }

// wizDomain is a domain of the user being created.
type wizDomain struct {
	Name     string // punycode
	DNS, DNR bool
}

// Display is the domain in Unicode.
func (d wizDomain) Display() string { return panel.DisplayDomain(d.Name) }

// wizardData is what every wizard step renders.
type wizardData struct {
	Step      int
	Steps     []string
	Hidden    []hiddenField
	Templates []panel.Template
	Reseller  panel.Reseller
	Labels    [3]string
	Designs   []string
	Policy    panel.PasswordPolicy
	Domains   []wizDomain
	IPs       []store.IP
	Warnings  []string
	Expired   bool
	// Step 5.
	User     *panel.User
	Password string
	Mail     mail.Message
	MailNote string // the registration mail could not be prepared
	Sent     string // the address the mail went to
	IPError  string
}

// Grants lets the limits partial show the reseller's own limits.
func (d wizardData) Grants() *panel.Reseller { return &d.Reseller }

func (s *Server) wizardStart(w http.ResponseWriter, r *http.Request, p *Page) {
	f := url.Values{}
	// GEN-3: the reseller's language and design are the new user's defaults.
	f.Set("language", p.Account.Language)
	f.Set("design", p.Account.Design)
	if !slices.Contains(s.designs(r), p.Account.Design) {
		f.Set("design", "default")
	}
	tok, err := s.app.Store.NewFormToken(r.Context(), p.Actor, "wizard")
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	f.Set("once", tok)
	p.Form = f
	code := http.StatusOK
	if v := r.URL.Query().Get("template"); v != "" && v != "0" {
		f.Set("template", v)
		if _, err := s.wizardTemplate(r, p, f); err != nil {
			p.FormError(err)
			f.Del("template")
			code = status(err)
		}
	}
	s.renderWizard(w, r, p, 1, code, nil)
}

// wizardTemplate resolves the template field: nil for "no template".
func (s *Server) wizardTemplate(r *http.Request, p *Page, f url.Values) (*panel.Template, error) {
	v := f.Get("template")
	if v == "" || v == "0" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, panel.Invalid("template", "usr.err.template")
	}
	t, err := s.app.Store.Template(r.Context(), p.Actor, id)
	if err != nil {
		if panel.ErrorKind(err) == panel.KindNotFound {
			return nil, panel.Invalid("template", "usr.err.template")
		}
		return nil, err
	}
	return &t, nil
}

// wizardPost handles every step's buttons: "go" is next, back, or a
// step's own action (labels, add, apply, delete, create).
func (s *Server) wizardPost(w http.ResponseWriter, r *http.Request, p *Page) {
	f := url.Values{}
	for k, v := range r.PostForm {
		if k != "csrf" {
			f[k] = append([]string(nil), v...)
		}
	}
	p.Form = f
	step, _ := strconv.Atoi(f.Get("step"))
	if step < 1 || step > 4 {
		step = 1
	}
	act := f.Get("go")
	f.Del("go")
	f.Del("step")
	if act == "back" && step > 1 {
		s.renderWizard(w, r, p, step-1, http.StatusOK, nil)
		return
	}
	switch step {
	case 1:
		t, err := s.wizardTemplate(r, p, f)
		if err != nil {
			p.FormError(err)
			s.renderWizard(w, r, p, 1, status(err), nil)
			return
		}
		// The template fills step 2 once; going back and forth keeps what
		// the reseller changed there.
		key := f.Get("template")
		if t == nil {
			key = ""
		}
		if t != nil && key != f.Get("tplfilled") {
			userLimitsForm(f, t.Limits)
			for _, sv := range panel.Services() {
				f.Del(sv.Field())
			}
			servicesForm(f, t.Services)
		} else if f.Get(panel.ResStorage.Field()) == "" {
			userLimitsForm(f, nil)
		}
		f.Set("tplfilled", key)
		s.renderWizard(w, r, p, 2, http.StatusOK, nil)
	case 2:
		over, err := s.wizardCheckPlan(r, p, f)
		if err != nil {
			p.FormError(err)
			s.renderWizard(w, r, p, 2, status(err), nil)
			return
		}
		s.renderWizard(w, r, p, 3, http.StatusOK, s.overWarnings(p, over))
	case 3:
		if act == "labels" {
			if err := s.saveLabels(r, p, f); err != nil {
				p.FormError(err)
				s.renderWizard(w, r, p, 3, status(err), nil)
				return
			}
			p.Notice = "usr.labels_saved"
			s.renderWizard(w, r, p, 3, http.StatusOK, nil)
			return
		}
		if err := s.wizardCheckPersonal(r, f); err != nil {
			p.FormError(err)
			s.renderWizard(w, r, p, 3, status(err), nil)
			return
		}
		s.renderWizard(w, r, p, 4, http.StatusOK, nil)
	case 4:
		s.wizardDomains(w, r, p, f, act)
	}
}

// wizardCheckPlan reads step 2 and checks it against the reseller's
// limits and services now (USR-2: refused at once, not at the end).
func (s *Server) wizardCheckPlan(r *http.Request, p *Page, f url.Values) ([]panel.Resource, error) {
	limits, err := parseUserLimits(f)
	if err != nil {
		return nil, err
	}
	services, err := parseServices(f)
	if err != nil {
		return nil, err
	}
	return s.app.Store.CheckNewUser(r.Context(), p.Actor, limits, services)
}

// wizardCheckPersonal checks step 3: required fields, passwords, language
// and design.
func (s *Server) wizardCheckPersonal(r *http.Request, f url.Values) error {
	if _, err := readProfile(f).Clean(true); err != nil {
		return err
	}
	if pw := f.Get("password"); pw != "" {
		set, err := s.app.Settings(r.Context())
		if err != nil {
			return err
		}
		if err := set.Password.Check("password", pw); err != nil {
			return err
		}
		if pw != f.Get("password2") {
			return panel.Invalid("password2", "err.password.mismatch")
		}
	}
	return s.checkLanguageDesign(r, f, "")
}

// overWarnings renders "past a maximum" notes: allowed, highlighted.
func (s *Server) overWarnings(p *Page, over []panel.Resource) []string {
	var out []string
	for _, r := range over {
		out = append(out, p.T("usr.warn.over", r))
	}
	return out
}

// wizardDomainList reads the domains of the user being created: the
// "domain" values, with DNS and DNR when the name is among "dns"/"dnr".
// Names are normalized again: hidden fields come back from the browser.
func wizardDomainList(f url.Values) ([]wizDomain, error) {
	var out []wizDomain
	seen := map[string]bool{}
	for _, d := range f["domain"] {
		name, err := panel.NormalizeDomain("domain", d)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, wizDomain{Name: name, DNS: slices.Contains(f["dns"], d), DNR: slices.Contains(f["dnr"], d)})
	}
	return out, nil
}

func setDomainList(f url.Values, ds []wizDomain) {
	f.Del("domain")
	f.Del("dns")
	f.Del("dnr")
	for _, d := range ds {
		f.Add("domain", d.Name)
		if d.DNS {
			f.Add("dns", d.Name)
		}
		if d.DNR {
			f.Add("dnr", d.Name)
		}
	}
}

// wizardDomains handles step 4: add, apply, delete several, create.
func (s *Server) wizardDomains(w http.ResponseWriter, r *http.Request, p *Page, f url.Values, act string) {
	ctx := r.Context()
	again := func(err error) {
		if err != nil {
			p.FormError(err)
		}
		code := http.StatusOK
		if err != nil {
			code = status(err)
		}
		s.renderWizard(w, r, p, 4, code, nil)
	}
	ds, err := wizardDomainList(f)
	if err != nil {
		f.Del("domain")
		again(err)
		return
	}
	setDomainList(f, ds)
	sel := f["sel"]
	f.Del("sel")
	switch act {
	case "add":
		name, err := panel.NormalizeDomain("newdomain", f.Get("newdomain"))
		if err == nil {
			for _, d := range ds {
				if d.Name == name {
					err = panel.Conflict("newdomain", "usr.err.domain_listed", panel.DisplayDomain(name))
				}
			}
		}
		if err == nil {
			var taken bool
			if taken, err = s.app.Store.DomainTaken(ctx, name); err == nil && taken {
				err = panel.Conflict("newdomain", "err.domain.taken", panel.DisplayDomain(name))
			}
		}
		if err != nil {
			again(err)
			return
		}
		ds = append(ds, wizDomain{Name: name, DNS: f.Get("dnsnew") != "", DNR: f.Get("dnrnew") != ""})
		setDomainList(f, ds)
		f.Del("newdomain")
		f.Set("dnsnew", "1")
		f.Del("dnrnew")
		again(nil)
		return
	case "delete":
		var keep []wizDomain
		for _, d := range ds {
			if !slices.Contains(sel, d.Name) {
				keep = append(keep, d)
			}
		}
		setDomainList(f, keep)
		again(nil)
		return
	case "create":
		s.wizardCreate(w, r, p, f, ds)
		return
	}
	// "apply" and anything else: the flags were read from the checkboxes.
	again(nil)
}

// wizardIP checks the chosen exclusive address: one of the reseller's own
// that no user has, and only with a domain to put on it.
func (s *Server) wizardIP(r *http.Request, p *Page, f url.Values, ds []wizDomain) (int64, error) {
	v := f.Get("ip")
	if v == "" || v == "0" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, panel.Invalid("ip", "usr.err.ip")
	}
	ips, err := s.app.ExclusiveIPs(r.Context(), p.Actor, panel.User{})
	if err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(ips, func(ip store.IP) bool { return ip.ID == id }) {
		return 0, panel.Invalid("ip", "usr.err.ip")
	}
	if len(ds) == 0 {
		return 0, panel.Invalid("ip", "usr.err.ip_no_domain")
	}
	return id, nil
}

// stepOfField is the wizard step whose form holds field, so that an error
// found at the end is shown where it can be corrected.
func stepOfField(field string) int {
	switch {
	case field == "template":
		return 1
	case strings.HasPrefix(field, "limit"), strings.HasPrefix(field, "service"):
		return 2
	case field == "show", field == "password", field == "password2", field == "language", field == "design", slices.Contains(profileFieldNames, field):
		return 3
	}
	return 4
}

// wizardCreate is the final "Create": everything is checked again (hidden
// fields come from the browser), the one-time token makes a reload or a
// double click create one user, and step 5 shows login, password and the
// registration mail.
func (s *Server) wizardCreate(w http.ResponseWriter, r *http.Request, p *Page, f url.Values, ds []wizDomain) {
	ctx := r.Context()
	back := func(err error) {
		p.FormError(err)
		step := stepOfField(panel.AsError(err).Field)
		if panel.ErrorKind(err) == panel.KindInternal {
			step = 4
		}
		s.renderWizard(w, r, p, step, status(err), nil)
	}
	t, err := s.wizardTemplate(r, p, f)
	if err != nil {
		back(err)
		return
	}
	limits, err := parseUserLimits(f)
	if err != nil {
		back(err)
		return
	}
	services, err := parseServices(f)
	if err != nil {
		back(err)
		return
	}
	if err := s.wizardCheckPersonal(r, f); err != nil {
		back(err)
		return
	}
	ipID, err := s.wizardIP(r, p, f, ds)
	if err != nil {
		back(err)
		return
	}
	tok := f.Get("once")
	claimed, doneID, err := s.app.Store.ClaimFormToken(ctx, p.Actor, "wizard", tok)
	if err != nil {
		if panel.AsError(err).Key == "err.once.expired" {
			p.FormError(err)
			s.renderWizard(w, r, p, 4, http.StatusConflict, nil)
			return
		}
		back(err)
		return
	}
	if !claimed {
		// This form already created its user: show that user instead of
		// creating another one.
		http.Redirect(w, r, "/reseller/user/"+strconv.FormatInt(doneID, 10)+"?done=usr_exists", http.StatusSeeOther)
		return
	}
	in := app.UserInput{Password: f.Get("password"), Language: f.Get("language"), Design: f.Get("design"),
		Profile: readProfile(f), Limits: limits, Services: services}
	for _, d := range ds {
		in.Domains = append(in.Domains, store.NewDomain{Name: d.Name, DNS: d.DNS, DNR: d.DNR})
	}
	res, pw, err := s.app.CreateUser(ctx, p.Actor, in)
	if err != nil {
		if rerr := s.app.Store.ReleaseFormToken(ctx, p.Actor, "wizard", tok); rerr != nil {
			s.log.Error("release wizard token", "err", rerr)
		}
		back(err)
		return
	}
	if err := s.app.Store.FinishFormToken(ctx, p.Actor, "wizard", tok, res.User.ID); err != nil {
		s.log.Error("finish wizard token", "err", err)
	}
	u := res.User
	d := wizardData{User: &u, Password: pw, Warnings: s.overWarnings(p, res.Over)}
	// The exclusive address goes onto every domain of the new user, in the
	// same request; a failure (someone took it meanwhile) is shown, the
	// user exists and keeps the shared address.
	if ipID != 0 {
		for _, dm := range u.Domains {
			if err := s.app.Store.SetDomainIP(ctx, p.Actor, dm.ID, ipID); err != nil {
				d.IPError = s.cat.Error(p.Lang, err)
				break
			}
		}
	}
	tplID := int64(0)
	if t != nil {
		tplID = t.ID
	}
	s.prepareMail(r, p, &d, tplID, u, pw)
	p.Form = url.Values{}
	p.Form.Set("template", strconv.FormatInt(tplID, 10))
	p.Form.Set("to", d.Mail.To)
	p.Form.Set("subject", d.Mail.Subject)
	p.Form.Set("body", d.Mail.Body)
	p.Notice = "usr.created"
	s.renderDone(w, p, d, http.StatusCreated)
}

// prepareMail fills the registration mail of step 5 from the template's
// e-mail setup; when it cannot be built, the reseller writes it by hand.
func (s *Server) prepareMail(r *http.Request, p *Page, d *wizardData, tplID int64, u panel.User, pw string) {
	m, err := s.app.RegistrationMail(r.Context(), p.Actor, tplID, u, pw)
	if err != nil {
		if panel.ErrorKind(err) == panel.KindInternal {
			s.log.Error("registration mail", "user", u.Login, "err", err)
		}
		d.MailNote = s.cat.Error(p.Lang, err)
		m = mail.Message{ToName: u.Profile.Name, To: u.Profile.Email}
	}
	d.Mail = m
}

func (s *Server) renderDone(w http.ResponseWriter, p *Page, d wizardData, code int) {
	p.Title, p.Menu = "tool.user_create", "users"
	d.Step, d.Steps = 5, wizardSteps
	p.Data = d
	s.render(w, code, "usr_done", p)
}

// renderWizard shows step (1–4) with every other step's values hidden.
func (s *Server) renderWizard(w http.ResponseWriter, r *http.Request, p *Page, step, code int, warnings []string) {
	ctx := r.Context()
	p.Title, p.Menu = "tool.user_create", "users"
	d := wizardData{Step: step, Steps: wizardSteps, Warnings: warnings}
	own := map[string]bool{}
	for _, n := range wizardFields(step) {
		own[n] = true
	}
	carry := []string{"once", "tplfilled"}
	for st := 1; st <= 4; st++ {
		carry = append(carry, wizardFields(st)...)
	}
	for _, n := range carry {
		if own[n] {
			continue
		}
		for _, v := range p.Form[n] {
			d.Hidden = append(d.Hidden, hiddenField{n, v})
		}
	}
	if p.Form.Get("once") == "" {
		d.Expired = true
	}
	var err error
	switch step {
	case 1:
		if d.Templates, err = s.app.Store.Templates(ctx, p.Actor); err != nil {
			s.fail(w, r, p, err)
			return
		}
	case 2:
		if d.Reseller, err = s.app.Store.Reseller(ctx, p.Actor, p.Actor.ID); err != nil {
			s.fail(w, r, p, err)
			return
		}
	case 3:
		d.Labels = s.labels(r, p)
		d.Designs = s.designs(r)
		set, err := s.app.Settings(ctx)
		if err != nil {
			s.fail(w, r, p, err)
			return
		}
		d.Policy = set.Password
		for i := range d.Labels {
			if p.Form.Get("label"+strconv.Itoa(i+1)) == "" {
				p.Form.Set("label"+strconv.Itoa(i+1), d.Labels[i])
			}
		}
	case 4:
		// A new domain is served by our name servers unless unticked.
		if p.Form.Get("newdomain") == "" && !p.Form.Has("dnsnew") {
			p.Form.Set("dnsnew", "1")
		}
		d.Domains, _ = wizardDomainList(p.Form)
		if d.IPs, err = s.app.ExclusiveIPs(ctx, p.Actor, panel.User{}); err != nil {
			s.fail(w, r, p, err)
			return
		}
	}
	p.Data = d
	s.render(w, code, "usr_wizard", p)
}

// userMailPost sends the registration mail of step 5, as edited.
func (s *Server) userMailPost(w http.ResponseWriter, r *http.Request, p *Page) {
	u, ok := s.userFromPath(w, r, p)
	if !ok {
		return
	}
	f := r.PostForm
	tplID, _ := strconv.ParseInt(f.Get("template"), 10, 64)
	if tplID < 0 {
		tplID = 0
	}
	d := wizardData{User: &u, Password: f.Get("password")}
	// Sender and names come from the e-mail setup again, not from the
	// browser; only recipient, subject and body are the reseller's edit.
	s.prepareMail(r, p, &d, tplID, u, "")
	m := d.Mail
	m.To, m.Subject, m.Body = strings.TrimSpace(f.Get("to")), f.Get("subject"), f.Get("body")
	if m.ToName == "" {
		m.ToName = u.Profile.Name
	}
	d.Mail, d.MailNote = m, ""
	p.Form = url.Values{}
	for _, k := range []string{"template", "to", "subject", "body"} {
		p.Form.Set(k, f.Get(k))
	}
	err := s.checkMail(m)
	if err == nil {
		err = s.app.SendMail(r.Context(), p.Actor, m)
	}
	if err != nil {
		if panel.ErrorKind(err) == panel.KindInternal {
			s.log.Error("send registration mail", "user", u.Login, "err", err)
		}
		p.FormError(err)
		s.renderDone(w, p, d, status(err))
		return
	}
	d.Sent = m.To
	s.renderDone(w, p, d, http.StatusOK)
}

// checkMail checks the edited fields before anything is sent; SendMail
// checks every header again.
func (s *Server) checkMail(m mail.Message) error {
	if _, err := panel.ValidateEmail("to", m.To, true); err != nil {
		return err
	}
	if err := mail.CheckHeader("subject", m.Subject); err != nil {
		return err
	}
	if strings.TrimSpace(m.Subject) == "" {
		return panel.Invalid("subject", "err.required")
	}
	return mail.CheckBody("body", m.Body, true)
}

// ---------------------------------------------------------------------
// The change page (USR-3)

// changeData is the change page of one user.
type changeData struct {
	User        panel.User
	Reseller    panel.Reseller
	Templates   []panel.Template
	Labels      [3]string
	Designs     []string
	Policy      panel.PasswordPolicy
	IPs         []store.IP
	IP          int64 // the exclusive address of the user's domains, 0 none
	NewPassword string
	Limits      []limitView
	Services    []serviceView
	Sync        app.AgentSync // whether the server has applied the user
}

// Grants lets the limits partial show the reseller's own limits.
func (d changeData) Grants() *panel.Reseller { return &d.Reseller }

// IPOf returns the address of an IP id among the offered ones.
func (d changeData) IPOf(id int64) string {
	for _, ip := range d.IPs {
		if ip.ID == id {
			return ip.Address
		}
	}
	return ""
}

// userFromPath loads the user of the path's {id}; anything outside the
// reseller's subtree is "not found" (ROLE-4).
func (s *Server) userFromPath(w http.ResponseWriter, r *http.Request, p *Page) (panel.User, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, p, panel.NotFound("user"))
		return panel.User{}, false
	}
	u, err := s.app.Store.User(r.Context(), p.Actor, id)
	if err != nil {
		s.fail(w, r, p, err)
		return u, false
	}
	return u, true
}

func (s *Server) resellerUser(w http.ResponseWriter, r *http.Request, p *Page) {
	u, ok := s.userFromPath(w, r, p)
	if !ok {
		return
	}
	s.renderChange(w, r, p, u, nil, http.StatusOK)
}

// commonIP is the address all of a user's domains share, 0 when none or
// mixed.
func commonIP(u panel.User) int64 {
	var ip int64
	for i, d := range u.Domains {
		if i == 0 {
			ip = d.IPID
		} else if d.IPID != ip {
			return 0
		}
	}
	return ip
}

// renderChange shows the change page: the stored values, overlaid with
// the submitted form of the section that failed (posted).
func (s *Server) renderChange(w http.ResponseWriter, r *http.Request, p *Page, u panel.User, posted url.Values, code int) {
	s.renderChangePassword(w, r, p, u, posted, "", code)
}

// renderChangePassword is renderChange that also shows a new password once.
func (s *Server) renderChangePassword(w http.ResponseWriter, r *http.Request, p *Page, u panel.User, posted url.Values, pw string, code int) {
	ctx := r.Context()
	d := changeData{User: u, Labels: s.labels(r, p), Designs: s.designsWith(r, u.Design), IP: commonIP(u), NewPassword: pw}
	var err error
	if d.Reseller, err = s.app.Store.Reseller(ctx, p.Actor, p.Actor.ID); err != nil {
		s.fail(w, r, p, err)
		return
	}
	if d.Templates, err = s.app.Store.Templates(ctx, p.Actor); err != nil {
		s.fail(w, r, p, err)
		return
	}
	if d.IPs, err = s.app.ExclusiveIPs(ctx, p.Actor, u); err != nil {
		s.fail(w, r, p, err)
		return
	}
	set, err := s.app.Settings(ctx)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	d.Policy = set.Password
	if d.Sync, err = s.app.UserSync(ctx, p.Actor, u.ID); err != nil {
		s.fail(w, r, p, err)
		return
	}
	v := userView(u)
	d.Limits, d.Services = v.Limits, v.Services
	f := url.Values{}
	profileForm(f, u.Profile)
	f.Set("language", u.Language)
	f.Set("design", u.Design)
	userLimitsForm(f, u.Limits)
	servicesForm(f, u.Services)
	for _, dm := range u.Domains {
		id := strconv.FormatInt(dm.ID, 10)
		if dm.DNS {
			f.Add("dns", id)
		}
		if dm.DNR {
			f.Add("dnr", id)
		}
	}
	f.Set("ip", strconv.FormatInt(d.IP, 10))
	f.Set("dnsnew", "1")
	for i, l := range d.Labels {
		f.Set("label"+strconv.Itoa(i+1), l)
	}
	if posted != nil {
		if posted.Has("name") {
			f.Del("show")
		}
		if posted.Has("ip") {
			f.Del("dns")
			f.Del("dnr")
		}
		for k, vs := range posted {
			if k != "csrf" && k != "password" && k != "password2" {
				f[k] = vs
			}
		}
	}
	p.Form = f
	p.Title, p.Menu = "usr.change.title", "users"
	p.Data = d
	s.render(w, code, "usr_change", p)
}

// changed redirects back to the change page after a change, so a reload
// does not send the form again.
func changed(w http.ResponseWriter, r *http.Request, u panel.User, done, anchor string) {
	http.Redirect(w, r, "/reseller/user/"+strconv.FormatInt(u.ID, 10)+"?done="+done+"#"+anchor, http.StatusSeeOther)
}

func (s *Server) userProfilePost(w http.ResponseWriter, r *http.Request, p *Page) {
	u, ok := s.userFromPath(w, r, p)
	if !ok {
		return
	}
	f := r.PostForm
	if f.Get("go") == "labels" {
		if err := s.saveLabels(r, p, f); err != nil {
			p.FormError(err)
			s.renderChange(w, r, p, u, f, status(err))
			return
		}
		p.Notice = "usr.labels_saved"
		s.renderChange(w, r, p, u, f, http.StatusOK)
		return
	}
	err := s.checkLanguageDesign(r, f, u.Design)
	if err == nil {
		err = s.app.ChangeProfile(r.Context(), p.Actor, u.ID, app.ProfileInput{Profile: readProfile(f),
			Language: f.Get("language"), Design: f.Get("design")})
	}
	if err != nil {
		p.FormError(err)
		s.renderChange(w, r, p, u, f, status(err))
		return
	}
	changed(w, r, u, "saved", "personal")
}

func (s *Server) userPlanPost(w http.ResponseWriter, r *http.Request, p *Page) {
	u, ok := s.userFromPath(w, r, p)
	if !ok {
		return
	}
	f := r.PostForm
	limits, err := parseUserLimits(f)
	var services panel.ServiceSet
	if err == nil {
		services, err = parseServices(f)
	}
	var over []panel.Resource
	if err == nil {
		over, err = s.app.ChangePlan(r.Context(), p.Actor, u.ID, limits, services)
	}
	if err != nil {
		p.FormError(err)
		s.renderChange(w, r, p, u, f, status(err))
		return
	}
	done := "saved"
	if len(over) > 0 {
		done = "usr_over"
	}
	changed(w, r, u, done, "services")
}

func (s *Server) userTemplatePost(w http.ResponseWriter, r *http.Request, p *Page) {
	u, ok := s.userFromPath(w, r, p)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PostFormValue("template"), 10, 64)
	if err != nil || id <= 0 {
		err = panel.Invalid("template", "usr.err.template")
	}
	var over []panel.Resource
	if err == nil {
		over, err = s.app.ApplyTemplate(r.Context(), p.Actor, u.ID, id)
	}
	if err != nil {
		p.FormError(err)
		s.renderChange(w, r, p, u, url.Values{"template": {r.PostFormValue("template")}}, status(err))
		return
	}
	done := "usr_template"
	if len(over) > 0 {
		done = "usr_over"
	}
	changed(w, r, u, done, "services")
}

// userDomainsPost handles the domains and IP form: add, apply (flags and
// IP), delete several.
func (s *Server) userDomainsPost(w http.ResponseWriter, r *http.Request, p *Page) {
	u, ok := s.userFromPath(w, r, p)
	if !ok {
		return
	}
	ctx := r.Context()
	f := r.PostForm
	fail := func(err error) {
		p.FormError(err)
		s.renderChange(w, r, p, u, f, status(err))
	}
	mine := map[string]panel.Domain{}
	for _, d := range u.Domains {
		mine[strconv.FormatInt(d.ID, 10)] = d
	}
	switch f.Get("go") {
	case "add":
		name, err := panel.NormalizeDomain("newdomain", f.Get("newdomain"))
		if err != nil {
			fail(err)
			return
		}
		d, err := s.app.Store.AddDomain(ctx, p.Actor, u.ID, store.NewDomain{Name: name, DNS: f.Get("dnsnew") != "", DNR: f.Get("dnrnew") != ""})
		if err != nil {
			if pe := panel.AsError(err); pe.Field == "domain" {
				err = &panel.Error{Kind: pe.Kind, Field: "newdomain", Key: pe.Key, Args: pe.Args, Err: pe.Err}
			}
			fail(err)
			return
		}
		// A user with an exclusive address has it on every domain.
		if ip := commonIP(u); ip != 0 {
			if err := s.app.Store.SetDomainIP(ctx, p.Actor, d.ID, ip); err != nil {
				fail(err)
				return
			}
		}
		changed(w, r, u, "saved", "domains")
	case "delete":
		sel := f["sel"]
		if len(sel) == 0 {
			fail(panel.Invalid("sel", "usr.err.none_selected"))
			return
		}
		for _, id := range sel {
			if _, ok := mine[id]; !ok {
				fail(panel.NotFound("domain"))
				return
			}
		}
		for _, id := range sel {
			if err := s.app.Store.DeleteDomain(ctx, p.Actor, mine[id].ID); err != nil {
				fail(err)
				return
			}
		}
		changed(w, r, u, "deleted", "domains")
	default: // apply: flags and IP
		ipv := f.Get("ip")
		ip, err := strconv.ParseInt(ipv, 10, 64)
		if ipv == "" {
			ip, err = commonIP(u), nil
		}
		if err != nil || ip < 0 {
			fail(panel.Invalid("ip", "usr.err.ip"))
			return
		}
		if ip != 0 {
			ips, err := s.app.ExclusiveIPs(ctx, p.Actor, u)
			if err != nil {
				fail(err)
				return
			}
			if !slices.ContainsFunc(ips, func(x store.IP) bool { return x.ID == ip }) {
				fail(panel.Invalid("ip", "usr.err.ip"))
				return
			}
			if len(u.Domains) == 0 {
				fail(panel.Invalid("ip", "usr.err.ip_no_domain"))
				return
			}
		}
		for _, d := range u.Domains {
			id := strconv.FormatInt(d.ID, 10)
			dns, dnr := slices.Contains(f["dns"], id), slices.Contains(f["dnr"], id)
			if dns != d.DNS || dnr != d.DNR {
				if err := s.app.Store.SetDomainFlags(ctx, p.Actor, d.ID, dns, dnr); err != nil {
					fail(err)
					return
				}
			}
			if d.IPID != ip {
				if err := s.app.Store.SetDomainIP(ctx, p.Actor, d.ID, ip); err != nil {
					fail(err)
					return
				}
			}
		}
		changed(w, r, u, "saved", "domains")
	}
}

func (s *Server) userPasswordPost(w http.ResponseWriter, r *http.Request, p *Page) {
	u, ok := s.userFromPath(w, r, p)
	if !ok {
		return
	}
	pw, err := s.app.ChangeUserPassword(r.Context(), p.Actor, u.ID, r.PostFormValue("password"), r.PostFormValue("password2"))
	if err != nil {
		p.FormError(err)
		s.renderChange(w, r, p, u, url.Values{}, status(err))
		return
	}
	// The new password is shown once, on this answer; it is not stored in
	// a form or a redirect.
	p.Notice = "usr.password_set"
	s.renderChangePassword(w, r, p, u, nil, pw, http.StatusOK)
}

func (s *Server) userStatusPost(w http.ResponseWriter, r *http.Request, p *Page) {
	u, ok := s.userFromPath(w, r, p)
	if !ok {
		return
	}
	st := panel.Status(r.PostFormValue("status"))
	if err := s.app.SetUserStatus(r.Context(), p.Actor, u.ID, st); err != nil {
		p.FormError(err)
		s.renderChange(w, r, p, u, nil, status(err))
		return
	}
	done := "usr_unlocked"
	if st == panel.StatusLocked {
		done = "usr_locked"
	}
	changed(w, r, u, done, "status")
}

func (s *Server) userDeletePost(w http.ResponseWriter, r *http.Request, p *Page) {
	u, ok := s.userFromPath(w, r, p)
	if !ok {
		return
	}
	if strings.TrimSpace(r.PostFormValue("confirm")) != u.Login {
		err := panel.Invalid("confirm", "err.confirm", u.Login)
		p.FormError(err)
		s.renderChange(w, r, p, u, url.Values{"confirm": {r.PostFormValue("confirm")}}, status(err))
		return
	}
	if err := s.app.DeleteUser(r.Context(), p.Actor, u.ID); err != nil {
		p.FormError(err)
		s.renderChange(w, r, p, u, nil, status(err))
		return
	}
	http.Redirect(w, r, "/reseller/users/list?done=usr_deleted", http.StatusSeeOther)
}
