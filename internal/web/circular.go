package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kontor/internal/app"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// The circular (USR-4): compose, pick the recipients page by page (every
// user with an address is ticked at first; "all"/"none" are one flag in
// the draft, not 10,000 rows), send; the serve process's runner delivers
// in the background and the progress page refreshes itself until it is
// done. Everything works without JavaScript.

const circBase = "/reseller/users/circular"

// registerCircular registers the circular pages (USR-4).
func (s *Server) registerCircular() {
	s.handle("GET", circBase, panel.RoleReseller, s.circCompose)
	s.handle("POST", circBase, panel.RoleReseller, s.circCreate)
	s.handle("GET", circBase+"/{id}", panel.RoleReseller, s.circView)
	s.handle("GET", circBase+"/{id}/edit", panel.RoleReseller, s.circEdit)
	s.handle("POST", circBase+"/{id}/edit", panel.RoleReseller, s.circUpdate)
	s.handle("POST", circBase+"/{id}/recipients", panel.RoleReseller, s.circPick)
	s.handle("POST", circBase+"/{id}/retry", panel.RoleReseller, s.circRetry)

	s.api("GET", "/api/v1/circulars", panel.RoleReseller, s.apiCirculars)
	s.api("POST", "/api/v1/circulars", panel.RoleReseller, s.apiCircularSend)
	s.api("GET", "/api/v1/circulars/{id}", panel.RoleReseller, s.apiCircular)
	s.api("POST", "/api/v1/circulars/{id}/retry", panel.RoleReseller, s.apiCircularRetry)
}

// circURL is the page of circular id.
func circURL(id int64) string { return circBase + "/" + strconv.FormatInt(id, 10) }

// circComposeData is the compose form and the list of past circulars.
type circComposeData struct {
	DraftID int64 // editing a draft (Back from the recipients)
	Tags    []string
	Past    []store.Circular
	Pager   Pager
}

func (s *Server) circComposePage(w http.ResponseWriter, r *http.Request, p *Page, d circComposeData, code int) {
	p.Title, p.Menu = "tool.circular", "users"
	d.Tags = app.CircularTags()
	if d.DraftID == 0 {
		pg := pager(r, 10)
		past, total, err := s.app.Store.Circulars(r.Context(), p.Actor, (pg.Page-1)*pg.Per, pg.Per)
		if err != nil {
			s.fail(w, r, p, err)
			return
		}
		pg.Total, pg.Base = total, circBase+"?per="+strconv.Itoa(pg.Per)
		d.Past, d.Pager = past, pg
	} else {
		p.Title = "circ.title.edit"
	}
	p.Data = d
	s.render(w, code, "circ_compose", p)
}

func (s *Server) circCompose(w http.ResponseWriter, r *http.Request, p *Page) {
	def, err := s.app.CircularDefaults(r.Context(), p.Actor)
	if err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Form.Set("from_name", def.FromName)
	p.Form.Set("from", def.From)
	s.circComposePage(w, r, p, circComposeData{}, http.StatusOK)
}

func circInput(f url.Values) app.CircularInput {
	return app.CircularInput{FromName: f.Get("from_name"), From: f.Get("from"), Subject: f.Get("subject"), Body: f.Get("body")}
}

func (s *Server) circCreate(w http.ResponseWriter, r *http.Request, p *Page) {
	id, err := s.app.ComposeCircular(r.Context(), p.Actor, circInput(r.PostForm))
	if err != nil {
		p.Form = r.PostForm
		p.FormError(err)
		s.circComposePage(w, r, p, circComposeData{}, status(err))
		return
	}
	http.Redirect(w, r, circURL(id), http.StatusSeeOther)
}

// circOf loads the circular named in the path; a foreign or unknown id
// is a 404 like any other.
func (s *Server) circOf(w http.ResponseWriter, r *http.Request, p *Page) (store.Circular, bool) {
	id, err := pathID(r, "circular")
	if err == nil {
		var c store.Circular
		if c, err = s.app.Store.Circular(r.Context(), p.Actor, id); err == nil {
			return c, true
		}
	}
	p.Title, p.Menu = "tool.circular", "users"
	s.fail(w, r, p, err)
	return store.Circular{}, false
}

func (s *Server) circEdit(w http.ResponseWriter, r *http.Request, p *Page) {
	c, ok := s.circOf(w, r, p)
	if !ok {
		return
	}
	if c.Status != store.CircularDraft {
		http.Redirect(w, r, circURL(c.ID), http.StatusSeeOther)
		return
	}
	p.Form.Set("from_name", c.FromName)
	p.Form.Set("from", c.From)
	p.Form.Set("subject", c.Subject)
	p.Form.Set("body", c.Body)
	s.circComposePage(w, r, p, circComposeData{DraftID: c.ID}, http.StatusOK)
}

func (s *Server) circUpdate(w http.ResponseWriter, r *http.Request, p *Page) {
	c, ok := s.circOf(w, r, p)
	if !ok {
		return
	}
	if err := s.app.UpdateCircular(r.Context(), p.Actor, c.ID, circInput(r.PostForm)); err != nil {
		p.Form = r.PostForm
		p.FormError(err)
		s.circComposePage(w, r, p, circComposeData{DraftID: c.ID}, status(err))
		return
	}
	http.Redirect(w, r, circURL(c.ID), http.StatusSeeOther)
}

// circView is the draft's recipient list, or the progress of a queued one.
func (s *Server) circView(w http.ResponseWriter, r *http.Request, p *Page) {
	c, ok := s.circOf(w, r, p)
	if !ok {
		return
	}
	if c.Status == store.CircularDraft {
		s.circRecipients(w, r, p, c, r.URL.Query(), http.StatusOK)
		return
	}
	s.circProgress(w, r, p, c)
}

// circRecipientsData is one page of a draft's candidates.
type circRecipientsData struct {
	C     store.Circular
	Page  store.CandidatePage
	Q     string
	Pager Pager
}

// circRecipients renders the page of candidates that q (page, per, q)
// names.
func (s *Server) circRecipients(w http.ResponseWriter, r *http.Request, p *Page, c store.Circular, q url.Values, code int) {
	p.Title, p.Menu = "circ.title.recipients", "users"
	pg := pagerOf(q, 50)
	search := q.Get("q")
	load := func() (store.CandidatePage, error) {
		return s.app.Store.CircularCandidates(r.Context(), p.Actor, c.ID,
			store.CandidateFilter{Search: search, Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	}
	cp, err := load()
	if err == nil && cp.Total > 0 && len(cp.Rows) == 0 {
		// A search or "none" shrank the list under the page: show the last.
		pg.Total = cp.Total
		pg.Page = pg.Pages()
		cp, err = load()
	}
	if err != nil {
		if panel.ErrorKind(err) != panel.KindInvalid {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		code = status(err)
	}
	pg.Total = cp.Total
	p.Form.Set("q", search)
	p.Data = circRecipientsData{C: c, Page: cp, Q: search, Pager: pg}
	s.render(w, code, "circ_recipients", p)
}

// pagerOf reads page and per from values (a query or a posted form).
func pagerOf(v url.Values, defPer int) Pager {
	r := &http.Request{URL: &url.URL{RawQuery: url.Values{"page": {v.Get("page")}, "per": {v.Get("per")}}.Encode()}}
	return pager(r, defPer)
}

// circPick saves the ticks of the page shown, then does what the button
// says: another page, search, select all or none, back to the text, or
// send.
func (s *Server) circPick(w http.ResponseWriter, r *http.Request, p *Page) {
	c, ok := s.circOf(w, r, p)
	if !ok {
		return
	}
	if c.Status != store.CircularDraft {
		http.Redirect(w, r, circURL(c.ID), http.StatusSeeOther)
		return
	}
	f := r.PostForm
	shown, err := idList("pick", f["shown"])
	if err == nil {
		var ticked []int64
		if ticked, err = idList("pick", f["pick"]); err == nil {
			err = s.app.Store.PickCircular(r.Context(), p.Actor, c.ID, shown, ticked)
		}
	}
	next := url.Values{"q": {f.Get("q")}, "per": {f.Get("per")}}
	page, _ := strconv.Atoi(f.Get("page"))
	if page < 1 {
		page = 1
	}
	if err == nil {
		switch f.Get("do") {
		case "prev":
			page--
		case "next":
			page++
		case "search":
			page = 1
		case "all", "none":
			err = s.app.Store.SelectCircular(r.Context(), p.Actor, c.ID, f.Get("do") == "all")
		case "back":
			http.Redirect(w, r, circURL(c.ID)+"/edit", http.StatusSeeOther)
			return
		case "send":
			if _, err = s.app.QueueCircular(r.Context(), p.Actor, c.ID); err == nil {
				http.Redirect(w, r, circURL(c.ID)+"?done=circ_queued", http.StatusSeeOther)
				return
			}
		}
	}
	next.Set("page", strconv.Itoa(max(page, 1)))
	if err != nil {
		if panel.ErrorKind(err) == panel.KindNotFound {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		s.circRecipients(w, r, p, c, next, status(err))
		return
	}
	http.Redirect(w, r, circURL(c.ID)+"?"+next.Encode(), http.StatusSeeOther)
}

// idList parses ids of form fields; at most one page's worth.
func idList(field string, vals []string) ([]int64, error) {
	if len(vals) > 100 {
		return nil, panel.Invalid(field, "err.circular.page")
	}
	out := make([]int64, 0, len(vals))
	for _, v := range vals {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, panel.Invalid(field, "err.circular.page")
		}
		out = append(out, id)
	}
	return out, nil
}

// circProgressData is a queued or finished circular with one page of its
// recipients.
type circProgressData struct {
	C       store.Circular
	Rows    []store.CircularRecipient
	Status  string // recipient filter
	Pager   Pager
	Running bool
}

// Done is the number of recipients handled so far.
func (d circProgressData) Done() int { return d.C.Counts.Sent + d.C.Counts.Failed }

func (s *Server) circProgress(w http.ResponseWriter, r *http.Request, p *Page, c store.Circular) {
	p.Title, p.Menu = "circ.title.progress", "users"
	if c.Status != store.CircularSending && (p.Notice == "done.circ_queued" || p.Notice == "done.circ_retry") {
		// The page refreshed itself to the end: "is being sent" is over.
		p.Notice = ""
	}
	pg := pager(r, 50)
	st := r.URL.Query().Get("status")
	rows, total, err := s.app.Store.CircularRecipients(r.Context(), p.Actor, c.ID,
		store.RecipientFilter{Status: store.RecipientStatus(st), Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	code := http.StatusOK
	if err != nil {
		if panel.ErrorKind(err) != panel.KindInvalid {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		code, st = status(err), ""
	}
	pg.Total = total
	pg.Base = circURL(c.ID) + "?status=" + url.QueryEscape(st) + "&per=" + strconv.Itoa(pg.Per)
	p.Data = circProgressData{C: c, Rows: rows, Status: st, Pager: pg, Running: c.Status == store.CircularSending}
	s.render(w, code, "circ_progress", p)
}

func (s *Server) circRetry(w http.ResponseWriter, r *http.Request, p *Page) {
	c, ok := s.circOf(w, r, p)
	if !ok {
		return
	}
	if _, err := s.app.RetryCircular(r.Context(), p.Actor, c.ID); err != nil {
		if panel.ErrorKind(err) == panel.KindNotFound {
			s.fail(w, r, p, err)
			return
		}
		p.FormError(err)
		s.circProgress(w, r, p, c)
		return
	}
	http.Redirect(w, r, circURL(c.ID)+"?done=circ_retry", http.StatusSeeOther)
}

// RecipientError is the reason a recipient failed, for the person: the
// relay's reply as it came, or Kontor's own reason in their language.
func (p *Page) RecipientError(rc store.CircularRecipient) string {
	if rc.ErrorKey != "" {
		return p.T(rc.ErrorKey)
	}
	return rc.Error
}

// Percent is how much of a circular is handled, 0 to 100.
func (p *Page) Percent(c store.Circular) int {
	if c.Counts.Total == 0 {
		return 0
	}
	return (c.Counts.Sent + c.Counts.Failed) * 100 / c.Counts.Total
}

// ---------------------------------------------------------------------
// JSON API

func circularJSON(c store.Circular) map[string]any {
	out := map[string]any{"id": c.ID, "status": c.Status, "from_name": c.FromName, "from": c.From, "subject": c.Subject,
		"body": c.Body, "created_at": c.CreatedAt, "total": c.Counts.Total, "sent": c.Counts.Sent, "failed": c.Counts.Failed,
		"left": c.Counts.Left()}
	if !c.QueuedAt.IsZero() {
		out["queued_at"] = c.QueuedAt
	}
	if !c.FinishedAt.IsZero() {
		out["finished_at"] = c.FinishedAt
	}
	return out
}

func (s *Server) apiCirculars(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	pg := pager(r, 25)
	list, total, err := s.app.Store.Circulars(r.Context(), rs.actor, (pg.Page-1)*pg.Per, pg.Per)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, c := range list {
		m := circularJSON(c)
		delete(m, "body")
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "page": pg.Page, "per": pg.Per, "circulars": out})
	return nil
}

// apiCircularSend composes and queues a circular: recipients is "all" or
// a list of user ids. The sender defaults to the reseller's name and
// address.
func (s *Server) apiCircularSend(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	var in struct {
		FromName   *string         `json:"from_name"`
		From       *string         `json:"from"`
		Subject    string          `json:"subject"`
		Body       string          `json:"body"`
		Recipients json.RawMessage `json:"recipients"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	all, ids, err := parseRecipients(in.Recipients)
	if err != nil {
		return err
	}
	ci, err := s.app.CircularDefaults(r.Context(), rs.actor)
	if err != nil {
		return err
	}
	if in.FromName != nil {
		ci.FromName = *in.FromName
	}
	if in.From != nil {
		ci.From = *in.From
	}
	ci.Subject, ci.Body = in.Subject, in.Body
	id, _, err := s.app.SendCircular(r.Context(), rs.actor, ci, all, ids)
	if err != nil {
		return err
	}
	c, err := s.app.Store.Circular(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, circularJSON(c))
	return nil
}

// parseRecipients reads "all" or [id, …].
func parseRecipients(raw json.RawMessage) (bool, []int64, error) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return false, nil, panel.Invalid("recipients", "err.required")
	}
	var word string
	if json.Unmarshal(raw, &word) == nil {
		if word != "all" {
			return false, nil, panel.Invalid("recipients", "err.circular.recipients")
		}
		return true, nil, nil
	}
	var ids []int64
	if err := json.Unmarshal(raw, &ids); err != nil {
		return false, nil, panel.Invalid("recipients", "err.circular.recipients")
	}
	if len(ids) == 0 {
		return false, nil, panel.Invalid("recipients", "err.circular.none")
	}
	return false, ids, nil
}

func (s *Server) apiCircular(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "circular")
	if err != nil {
		return err
	}
	c, err := s.app.Store.Circular(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	pg := pager(r, 100)
	st := store.RecipientStatus(r.URL.Query().Get("status"))
	rows, total, err := s.app.Store.CircularRecipients(r.Context(), rs.actor, id, store.RecipientFilter{Status: st, Offset: (pg.Page - 1) * pg.Per, Limit: pg.Per})
	if err != nil {
		return err
	}
	recs := []map[string]any{}
	for _, rc := range rows {
		m := map[string]any{"user_id": rc.UserID, "login": rc.Login, "name": rc.Name, "email": rc.Email, "status": rc.Status, "attempts": rc.Attempts}
		if rc.ErrorKey != "" {
			m["error"] = s.cat.T(rs.lang, rc.ErrorKey)
		} else if rc.Error != "" {
			m["error"] = rc.Error
		}
		recs = append(recs, m)
	}
	out := circularJSON(c)
	out["recipients"] = recs
	out["recipients_total"], out["page"], out["per"] = total, pg.Page, pg.Per
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiCircularRetry(w http.ResponseWriter, r *http.Request, rs *reqSession) error {
	id, err := pathID(r, "circular")
	if err != nil {
		return err
	}
	if _, err := s.app.RetryCircular(r.Context(), rs.actor, id); err != nil {
		return err
	}
	c, err := s.app.Store.Circular(r.Context(), rs.actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, circularJSON(c))
	return nil
}
