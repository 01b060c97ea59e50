package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"kontor/internal/app"
	"kontor/internal/mail/mailtest"
	"kontor/internal/panel"
)

// circFixture is the fixture with a real SMTP server as the relay (set in
// the admin's settings) and the SMTP sender of the serve process.
func circFixture(t *testing.T) (*fixture, *mailtest.Server) {
	t.Helper()
	f := newFixture(t)
	srv := mailtest.Start(t, mailtest.Options{})
	if err := f.app.SaveSettings(context.Background(), admin, app.Settings{Password: panel.DefaultPasswordPolicy(), MailRelay: srv.Addr}); err != nil {
		t.Fatal(err)
	}
	f.app.Mailer = f.app.SMTPMailer()
	return f, srv
}

// startRunner runs the background sender as serve does, until the test
// ends.
func startRunner(t *testing.T, f *fixture) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.app.RunCirculars(ctx, app.RunnerOptions{Interval: 20 * time.Millisecond})
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// addUsers gives res1 n users with an address.
func addUsers(t *testing.T, f *fixture, res panel.Reseller, names ...string) []panel.User {
	t.Helper()
	var out []panel.User
	for i, n := range names {
		cr, _, err := f.app.CreateUser(context.Background(), resActorOf(res), app.UserInput{
			Profile: panel.Profile{Name: n, Email: fmt.Sprintf("kunde%d-%d@kunden.example", res.ID, i)}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cr.User)
	}
	return out
}

func resActorOf(r panel.Reseller) panel.Actor {
	return panel.Actor{ID: r.ID, Role: panel.RoleReseller, Login: r.Login, ResellerID: r.ID}
}

var pickRe = regexp.MustCompile(`name="pick" value="(\d+)"( checked)?`)

// picks returns the user ids of a recipients page and which are ticked.
func picks(body string) (shown, ticked []string) {
	for _, m := range pickRe.FindAllStringSubmatch(body, -1) {
		shown = append(shown, m[1])
		if m[2] != "" {
			ticked = append(ticked, m[1])
		}
	}
	return shown, ticked
}

var circIDRe = regexp.MustCompile(`^/reseller/users/circular/(\d+)$`)

// waitDone reloads the progress page until the circular is done.
func waitDone(t *testing.T, c *client, path string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := c.get(path)
		if code != http.StatusOK {
			t.Fatalf("progress page: %d %s", code, text(body))
		}
		if !strings.Contains(body, `http-equiv="refresh"`) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("circular not done: %s", text(body))
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// TestCircularInTheBrowser walks USR-4 as a reseller does: compose, see
// every user with an address ticked, untick one, send; the real SMTP
// server gets exactly the other four, each with its own tags filled in;
// the progress page refreshes itself while the runner works and shows the
// result per recipient, also to a fresh login.
func TestCircularInTheBrowser(t *testing.T) {
	f, srv := circFixture(t)
	users := addUsers(t, f, f.res1, "Jürgen Äpfel", "Önder Kaya", "Zoë Brandt", "Maria Groß", "Lars Ørsted")
	c := f.login(f.res1.Login, "/reseller/")

	// The tile is ready, not "coming".
	_, body := c.get("/reseller/users/")
	if !regexp.MustCompile(`class="tile" href="/reseller/users/circular"`).MatchString(body) {
		t.Fatalf("the circular tile is not ready")
	}
	code, body := c.get("/reseller/users/circular")
	if code != 200 || !strings.Contains(text(body), "Compose the mail and click Next") || !strings.Contains(body, "##login##") || !strings.Contains(text(body), "No circulars yet.") {
		t.Fatalf("compose page %d: %s", code, text(body))
	}
	form := url.Values{"from_name": {"Müller & Söhne"}, "from": {"info@mueller.example"},
		"subject": {"Willkommen bei Müller & Söhne, ##name##"}, "body": {"Guten Tag ##name##,\r\nIhr Login lautet ##login##.\r\n"}}

	// Header injection in the subject is refused at compose time, naming
	// the field; nothing is stored, nothing is sent.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("subject", "Hi\r\nBcc: victim@example.com")
	code, body, _ = c.post("/reseller/users/circular", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Line breaks and control characters are not allowed here") ||
		!regexp.MustCompile(`id="subject"[^>]*>\s*<span class="ferr"`).MatchString(body) {
		t.Fatalf("injection: %d %s", code, text(body))
	}
	if !strings.Contains(body, "Guten Tag ##name##") {
		t.Fatal("the refused form lost the text")
	}
	bad.Set("subject", "Hallo")
	bad.Set("body", "Ihr Passwort: ##password##")
	code, body, _ = c.post("/reseller/users/circular", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "##password## is not a tag a circular can use") {
		t.Fatalf("password tag: %d %s", code, text(body))
	}
	if list, total, _ := f.app.Store.Circulars(context.Background(), resActorOf(f.res1), 0, 10); total != 0 {
		t.Fatalf("refused forms stored %v", list)
	}

	// Next: the recipients, all ticked.
	code, _, loc := c.post("/reseller/users/circular", form)
	m := circIDRe.FindStringSubmatch(loc)
	if code != http.StatusSeeOther || m == nil {
		t.Fatalf("compose: %d %q", code, loc)
	}
	page := loc
	_, body = c.get(page)
	shown, ticked := picks(body)
	if len(shown) != 5 || len(ticked) != 5 || !strings.Contains(text(body), "5 of 5 users with an e-mail address are selected.") {
		t.Fatalf("recipients page: shown %v ticked %v: %s", shown, ticked, text(body))
	}
	for _, u := range users {
		if !strings.Contains(body, ">"+u.Login+"<") {
			t.Fatalf("%s missing from the recipients", u.Login)
		}
	}
	if strings.Contains(body, ">"+f.user1.Login+"<") {
		t.Fatal("a user without an address is listed")
	}
	// Back to the text and forward again: the draft keeps it.
	code, _, loc = c.post(page+"/recipients", url.Values{"do": {"back"}, "shown": shown, "pick": ticked})
	if code != http.StatusSeeOther || loc != page+"/edit" {
		t.Fatalf("back: %d %s", code, loc)
	}
	_, body = c.get(loc)
	if !strings.Contains(body, `value="Willkommen bei Müller &amp; Söhne, ##name##"`) || !strings.Contains(body, "Ihr Login lautet ##login##.") {
		t.Fatalf("edit page lost the text: %s", text(body))
	}
	if code, _, loc = c.post(page+"/edit", form); code != http.StatusSeeOther || loc != page {
		t.Fatalf("edit: %d %s", code, loc)
	}

	// Untick Önder and send.
	var keep []string
	for _, id := range ticked {
		if id != itoa(users[1].ID) {
			keep = append(keep, id)
		}
	}
	code, _, loc = c.post(page+"/recipients", url.Values{"do": {"send"}, "shown": shown, "pick": keep, "page": {"1"}})
	if code != http.StatusSeeOther || loc != page+"?done=circ_queued" {
		t.Fatalf("send: %d %s", code, loc)
	}
	// Before the runner starts: the page says so and refreshes itself.
	_, body = c.get(loc)
	if !strings.Contains(body, `<meta http-equiv="refresh" content="2">`) || !strings.Contains(text(body), "The circular is being sent.") ||
		!strings.Contains(text(body), "0 delivered") || !strings.Contains(text(body), "4 left") {
		t.Fatalf("progress before sending: %s", text(body))
	}

	startRunner(t, f)
	got := srv.Wait(4, 10*time.Second)
	if len(got) != 4 {
		t.Fatalf("the server received %d mails, want 4", len(got))
	}
	var rcpts []string
	for _, msg := range got {
		rcpts = append(rcpts, msg.To...)
		var u panel.User
		for _, x := range users {
			if x.Profile.Email == msg.To[0] {
				u = x
			}
		}
		if want := "Willkommen bei Müller & Söhne, " + u.Profile.Name; msg.Subject() != want {
			t.Errorf("subject %q, want %q", msg.Subject(), want)
		}
		if want := "Guten Tag " + u.Profile.Name + ",\nIhr Login lautet " + u.Login + ".\n"; msg.Body != want {
			t.Errorf("body %q, want %q", msg.Body, want)
		}
		if !strings.Contains(msg.Decoded("From"), "Müller & Söhne") || !strings.Contains(msg.Header.Get("From"), "<info@mueller.example>") {
			t.Errorf("From %q", msg.Header.Get("From"))
		}
	}
	sort.Strings(rcpts)
	want := []string{users[0].Profile.Email, users[2].Profile.Email, users[3].Profile.Email, users[4].Profile.Email}
	sort.Strings(want)
	if fmt.Sprint(rcpts) != fmt.Sprint(want) {
		t.Fatalf("delivered to %v, want %v", rcpts, want)
	}

	body = waitDone(t, c, page)
	tx := text(body)
	for _, s := range []string{"Done", "4 delivered", "0 failed", "0 left", "4 recipients"} {
		if !strings.Contains(tx, s) {
			t.Errorf("progress page lacks %q: %s", s, tx)
		}
	}
	if strings.Count(body, `class="tag circ-sent">Delivered`) != 4 || strings.Contains(tx, users[1].Login) {
		t.Errorf("per-recipient results: %s", tx)
	}
	// A reload in a new browser shows the same; so does the list.
	c2 := f.login(f.res1.Login, "/reseller/")
	_, body = c2.get(page)
	if text(body) != tx {
		t.Errorf("the progress differs after a new login:\n%s\n%s", text(body), tx)
	}
	_, body = c2.get("/reseller/users/circular")
	if !strings.Contains(body, `href="`+page+`">Willkommen bei Müller &amp; Söhne, ##name##</a>`) {
		t.Errorf("past circulars: %s", text(body))
	}
	_, body = c2.get("/reseller/general/messages")
	if !strings.Contains(text(body), "Circular “Willkommen bei Müller &amp; Söhne, ##name##” sent: 4 delivered, 0 failed.") {
		t.Errorf("no message for the reseller: %s", text(body))
	}
	// A queued circular cannot be changed any more.
	if code, _, loc := c.post(page+"/recipients", url.Values{"do": {"send"}}); code != http.StatusSeeOther || loc != page {
		t.Errorf("second send: %d %s", code, loc)
	}
	if n := len(srv.Messages()); n != 4 {
		t.Fatalf("%d mails after the second send, want 4", n)
	}
	// The other reseller sees none of it.
	o := f.login(f.res2.Login, "/reseller/")
	for _, p := range []string{page, page + "/edit"} {
		if code, body := o.get(p); code != http.StatusNotFound || strings.Contains(body, "Müller") {
			t.Errorf("res2 GET %s: %d", p, code)
		}
	}
	if code, _, _ := o.post(page+"/retry", nil); code != http.StatusNotFound {
		t.Errorf("res2 retry: %d", code)
	}
	if _, body := o.get("/reseller/users/circular"); strings.Contains(body, "Müller") {
		t.Error("res2's list shows res1's circular")
	}
}

// TestCircularPagesAndSelectAll: with more users than a page, ticks are
// kept across pages, "none" and "all" work without JavaScript, and the
// count says what will happen.
func TestCircularPagesAndSelectAll(t *testing.T) {
	f, srv := circFixture(t)
	ctx := context.Background()
	r3, _, err := f.app.CreateReseller(ctx, admin, app.ResellerInput{Password: "res3pass", Name: "Reseller Three", Email: "office@three.example",
		Limits: panel.ResellerLimits{panel.ResUsers: {Value: 100, Mode: panel.ModeHard}}})
	if err != nil {
		t.Fatal(err)
	}
	f.pw[r3.Login] = "res3pass"
	var names []string
	for i := 0; i < 23; i++ {
		names = append(names, fmt.Sprintf("Kunde%02d Test", i))
	}
	users := addUsers(t, f, r3, names...)
	c := f.login(r3.Login, "/reseller/")
	// The sender defaults to the reseller's name and address.
	_, body := c.get("/reseller/users/circular")
	if !strings.Contains(body, `name="from_name" value="Reseller Three"`) || !strings.Contains(body, `name="from" type="email" value="office@three.example"`) {
		t.Fatalf("defaults: %s", text(body))
	}
	_, _, page := c.post("/reseller/users/circular", url.Values{"from": {"office@three.example"}, "subject": {"Info"}, "body": {"Hallo ##login##"}})
	_, body = c.get(page + "?per=10")
	shown, ticked := picks(body)
	if len(shown) != 10 || len(ticked) != 10 || !strings.Contains(text(body), "23 of 23") || !strings.Contains(text(body), "1 / 3") {
		t.Fatalf("page 1: %v %s", shown, text(body))
	}
	// Untick two on page 1, go to page 2: the ticks are saved.
	_, _, loc := c.post(page+"/recipients", url.Values{"do": {"next"}, "page": {"1"}, "per": {"10"}, "shown": shown, "pick": ticked[2:]})
	_, body = c.get(loc)
	shown2, ticked2 := picks(body)
	if len(shown2) != 10 || shown2[0] == shown[0] || len(ticked2) != 10 || !strings.Contains(text(body), "21 of 23") || !strings.Contains(text(body), "2 / 3") {
		t.Fatalf("page 2 (%s): %v %s", loc, shown2, text(body))
	}
	// Back to page 1: still unticked.
	_, _, loc = c.post(page+"/recipients", url.Values{"do": {"prev"}, "page": {"2"}, "per": {"10"}, "shown": shown2, "pick": ticked2})
	_, body = c.get(loc)
	if _, t1 := picks(body); len(t1) != 8 {
		t.Fatalf("page 1 again: %d ticked", len(t1))
	}
	// Search finds one user; its tick is kept too.
	_, _, loc = c.post(page+"/recipients", url.Values{"do": {"search"}, "q": {users[20].Login}, "page": {"1"}, "per": {"10"}, "shown": shown, "pick": ticked[2:]})
	_, body = c.get(loc)
	if s, tk := picks(body); len(s) != 1 || len(tk) != 1 || s[0] != itoa(users[20].ID) || !strings.Contains(text(body), "1 match the search") {
		t.Fatalf("search (%s): %v %v %s", loc, s, tk, text(body))
	}
	// None, then tick three on the last page and send: exactly three.
	_, _, loc = c.post(page+"/recipients", url.Values{"do": {"none"}, "page": {"1"}, "per": {"10"}})
	_, body = c.get(loc)
	if _, tk := picks(body); len(tk) != 0 || !strings.Contains(text(body), "0 of 23") {
		t.Fatalf("none: %s", text(body))
	}
	// Sending with no one selected is refused with a message.
	code, body, _ := c.post(page+"/recipients", url.Values{"do": {"send"}, "page": {"1"}, "per": {"10"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "No recipient is selected.") {
		t.Fatalf("send to none: %d %s", code, text(body))
	}
	_, body = c.get(page + "?per=10&page=3")
	s3, _ := picks(body)
	if len(s3) != 3 {
		t.Fatalf("page 3 shows %d", len(s3))
	}
	code, _, loc = c.post(page+"/recipients", url.Values{"do": {"send"}, "page": {"3"}, "per": {"10"}, "shown": s3, "pick": s3})
	if code != http.StatusSeeOther || !strings.HasSuffix(loc, "done=circ_queued") {
		t.Fatalf("send three: %d %s", code, loc)
	}
	if n, _ := f.app.SendQueuedCirculars(ctx, app.RunnerOptions{}); n != 3 {
		t.Fatalf("runner sent %d, want 3", n)
	}
	if got := srv.Messages(); len(got) != 3 || got[0].To[0] != users[20].Profile.Email {
		t.Fatalf("received %d", len(got))
	}
	// "All" after "none" selects everyone again (a fresh draft).
	_, _, page2 := c.post("/reseller/users/circular", url.Values{"from": {"office@three.example"}, "subject": {"Zwei"}, "body": {"x"}})
	c.post(page2+"/recipients", url.Values{"do": {"none"}})
	_, _, loc = c.post(page2+"/recipients", url.Values{"do": {"all"}})
	if _, body = c.get(loc); !strings.Contains(text(body), "23 of 23") {
		t.Fatalf("all: %s", text(body))
	}
	// Forged ids in the form (another reseller's user, garbage) change
	// nothing or are refused.
	code, _, _ = c.post(page2+"/recipients", url.Values{"do": {"next"}, "shown": {itoa(f.user2.ID)}})
	if _, body = c.get(page2); code != http.StatusSeeOther || !strings.Contains(text(body), "23 of 23") {
		t.Fatalf("foreign id: %d %s", code, text(body))
	}
	code, body, _ = c.post(page2+"/recipients", url.Values{"do": {"next"}, "shown": {"abc"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "The list of users on this page is not valid.") {
		t.Fatalf("garbage id: %d %s", code, text(body))
	}
}

// TestCircularAPI: compose and send in one call, read the progress, a
// recipient the relay refuses is recorded with its reply while the
// others go out; bad requests are refused naming the field.
func TestCircularAPI(t *testing.T) {
	f, srv := circFixture(t)
	users := addUsers(t, f, f.res1, "Anna Alpha", "Bert Beta", "Carl Gamma")
	srv.Reject(users[1].Profile.Email, "<"+users[1].Profile.Email+">: Recipient address rejected: User unknown in local recipient table")
	api := f.apiLogin(f.res1.Login)
	bad := []struct{ body, field, kind string }{
		{`{"from":"a@res1.example","subject":"x","body":"y"}`, "recipients", "invalid"},
		{`{"from":"a@res1.example","subject":"x","body":"y","recipients":"some"}`, "recipients", "invalid"},
		{`{"from":"a@res1.example","subject":"x","body":"y","recipients":{"a":1}}`, "recipients", "invalid"},
		{`{"from":"a@res1.example","subject":"x","body":"y","recipients":[]}`, "recipients", "invalid"},
		{`{"from":"a@res1.example","subject":"x","body":"y","recipients":[` + itoa(f.user2.ID) + `]}`, "recipients.0", "invalid"},
		{`{"from":"a@res1.example","subject":"x","body":"y","recipients":[` + itoa(users[0].ID) + `,` + itoa(f.user1.ID) + `]}`, "recipients.1", "invalid"},
		{`{"from":"a@res1.example","subject":"Hi\r\nBcc: victim@example.com","body":"y","recipients":"all"}`, "subject", "invalid"},
		{`{"from":"a@res1.example","from_name":"X\nBcc: victim@example.com","subject":"x","body":"y","recipients":"all"}`, "from_name", "invalid"},
		{`{"subject":"x","body":"y","recipients":"all"}`, "from", "invalid"},
		{`{"from":"a@res1.example","subject":"x","body":"##password##","recipients":"all"}`, "body", "invalid"},
		{`{"from":"a@res1.example","subject":"x","body":"y","recipients":"all","bcc":"v@example.com"}`, "bcc", "invalid"},
	}
	for _, b := range bad {
		code, body := api.do("POST", "/api/v1/circulars", b.body)
		e := decodeErr(t, body)
		if code != http.StatusUnprocessableEntity || e.Error.Field != b.field || e.Error.Kind != b.kind {
			t.Errorf("%s: %d %+v", b.body, code, e.Error)
		}
	}
	code, body := api.do("GET", "/api/v1/circulars", "")
	if code != 200 || !strings.Contains(body, `"total": 0`) {
		t.Fatalf("bad requests stored circulars: %s", body)
	}
	code, body = api.do("POST", "/api/v1/circulars", `{"from_name":"Reseller One","from":"info@res1.example","subject":"Neuigkeiten für ##name##","body":"Hallo ##login##","recipients":"all"}`)
	var c struct {
		ID                        int64
		Status                    string
		Total, Sent, Failed, Left int
		Recipients                []struct{ Login, Email, Status, Error string }
		RecipientsTotal           int `json:"recipients_total"`
		Subject, From             string
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil || code != http.StatusCreated || c.Status != "sending" || c.Total != 3 || c.Left != 3 {
		t.Fatalf("send: %d %s", code, body)
	}
	if n, err := f.app.SendQueuedCirculars(context.Background(), app.RunnerOptions{}); err != nil || n != 3 {
		t.Fatalf("runner: %d %v", n, err)
	}
	code, body = api.do("GET", "/api/v1/circulars/"+itoa(c.ID), "")
	if err := json.Unmarshal([]byte(body), &c); err != nil || code != 200 || c.Status != "done" || c.Sent != 2 || c.Failed != 1 || c.Left != 0 || c.RecipientsTotal != 3 {
		t.Fatalf("progress: %d %s", code, body)
	}
	for _, r := range c.Recipients {
		switch r.Email {
		case users[1].Profile.Email:
			if r.Status != "failed" || !strings.HasPrefix(r.Error, "550 5.1.1 <"+r.Email+">: Recipient address rejected: User unknown in local recipient table") {
				t.Errorf("refused recipient %+v", r)
			}
		default:
			if r.Status != "sent" || r.Error != "" {
				t.Errorf("recipient %+v", r)
			}
		}
	}
	if got := srv.Messages(); len(got) != 2 {
		t.Fatalf("the server got %d mails, want 2", len(got))
	}
	code, body = api.do("GET", "/api/v1/circulars/"+itoa(c.ID)+"?status=failed", "")
	if json.Unmarshal([]byte(body), &c); code != 200 || c.RecipientsTotal != 1 || c.Recipients[0].Login != users[1].Login {
		t.Fatalf("failed only: %s", body)
	}
	if code, body = api.do("GET", "/api/v1/circulars/"+itoa(c.ID)+"?status=bogus", ""); code != 422 {
		t.Fatalf("bad status filter: %d %s", code, body)
	}
	// The browser shows the relay's reply beside the recipient, and offers
	// to send again to the failed one.
	b := f.login(f.res1.Login, "/reseller/")
	_, page := b.get("/reseller/users/circular/" + itoa(c.ID))
	if !strings.Contains(text(page), "Recipient address rejected: User unknown in local recipient table") ||
		!strings.Contains(text(page), "Send again to the 1 failed recipients") || strings.Contains(page, `http-equiv="refresh"`) {
		t.Fatalf("progress page: %s", text(page))
	}
	_, page = b.get("/reseller/users/circular/" + itoa(c.ID) + "?status=failed")
	if strings.Count(page, `class="tag circ-failed">Failed`) != 1 || strings.Contains(text(page), users[0].Login) {
		t.Fatalf("filtered page: %s", text(page))
	}
	code, _, loc := b.post("/reseller/users/circular/"+itoa(c.ID)+"/retry", nil)
	if code != http.StatusSeeOther || !strings.HasSuffix(loc, "done=circ_retry") {
		t.Fatalf("retry: %d %s", code, loc)
	}
	_, page = b.get(loc)
	if !strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(text(page), "1 left") {
		t.Fatalf("after retry: %s", text(page))
	}
	// Another reseller: not found, in the API as in the browser.
	o := f.apiLogin(f.res2.Login)
	for _, p := range []string{"/api/v1/circulars/" + itoa(c.ID)} {
		if code, body := o.do("GET", p, ""); code != 404 || strings.Contains(body, "Neuigkeiten") {
			t.Errorf("res2 %s: %d", p, code)
		}
	}
	if code, _ := o.do("POST", "/api/v1/circulars/"+itoa(c.ID)+"/retry", "{}"); code != 404 {
		t.Errorf("res2 retry: %d", code)
	}
	if code, body := o.do("GET", "/api/v1/circulars", ""); code != 200 || strings.Contains(body, "Neuigkeiten") {
		t.Errorf("res2 list: %s", body)
	}
	if code, _ := f.apiLogin(f.user1.Login).do("POST", "/api/v1/circulars", `{"recipients":"all"}`); code != 403 {
		t.Errorf("a user sends a circular: %d", code)
	}
}

// The admin sets the relay on the server settings page; a bad value is
// refused naming the field and the old one stays.
func TestAdminMailRelaySetting(t *testing.T) {
	f, srv := circFixture(t)
	c := f.login("admin", "/admin/")
	_, body := c.get("/admin/settings")
	if !strings.Contains(body, `name="mail_relay" value="`+srv.Addr+`"`) || !strings.Contains(text(body), "Mail relay (host:port)") {
		t.Fatalf("settings page: %s", text(body))
	}
	form := url.Values{"password_min": {"6"}, "password_max": {"12"}, "mail_relay": {"mail.example.com:25\r\nX: y"}}
	code, body, _ := c.post("/admin/settings", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Enter the relay as host:port") {
		t.Fatalf("bad relay: %d %s", code, text(body))
	}
	form.Set("mail_relay", "smtp.example.net:587")
	if code, _, loc := c.post("/admin/settings", form); code != http.StatusSeeOther || loc != "/admin/settings?done=saved" {
		t.Fatalf("save: %d %s", code, loc)
	}
	if set, _ := f.app.Settings(context.Background()); set.MailRelay != "smtp.example.net:587" {
		t.Fatalf("relay %q", set.MailRelay)
	}
}

// In German the circular speaks Confixx: Rundschreiben, Benutzer,
// Platzhalter, formal "Sie".
func TestCircularInGerman(t *testing.T) {
	f, srv := circFixture(t)
	users := addUsers(t, f, f.res1, "Jürgen Äpfel")
	srv.Reject(users[0].Profile.Email, "Mailbox voll")
	c := f.login(f.res1.Login, "/reseller/")
	c.get("/reseller/general/language")
	if code, _, _ := c.post("/reseller/general/language", url.Values{"language": {"de"}, "design": {"default"}}); code != http.StatusSeeOther {
		t.Fatalf("language: %d", code)
	}
	_, body := c.get("/reseller/users/circular")
	for _, s := range []string{"Rundschreiben", "Platzhalter", "der Benutzername", "Weiter", "Noch keine Rundschreiben."} {
		if !strings.Contains(text(body), s) {
			t.Errorf("compose page lacks %q: %s", s, text(body))
		}
	}
	code, body, _ := c.post("/reseller/users/circular", url.Values{"from": {"info@res1.example"}, "subject": {"Hallo\nBcc: x@example.com"}, "body": {"x"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(body), "Zeilenumbrüche und Steuerzeichen sind hier nicht erlaubt") {
		t.Fatalf("German error: %d %s", code, text(body))
	}
	_, _, page := c.post("/reseller/users/circular", url.Values{"from": {"info@res1.example"}, "subject": {"Hallo"}, "body": {"x"}})
	_, body = c.get(page)
	if !strings.Contains(text(body), "1 von 1 Benutzern mit E-Mail-Adresse sind ausgewählt.") || !strings.Contains(text(body), "An ausgewählte Empfänger senden") {
		t.Fatalf("recipients in German: %s", text(body))
	}
	shown, ticked := picks(body)
	c.post(page+"/recipients", url.Values{"do": {"send"}, "shown": shown, "pick": ticked})
	if _, err := f.app.SendQueuedCirculars(context.Background(), app.RunnerOptions{}); err != nil {
		t.Fatal(err)
	}
	_, body = c.get(page)
	for _, s := range []string{"Abgeschlossen", "0 zugestellt", "1 fehlgeschlagen", "Fehlgeschlagen", "550 5.1.1 Mailbox voll", "Erneut an die 1 fehlgeschlagenen Empfänger senden"} {
		if !strings.Contains(text(body), s) {
			t.Errorf("progress page lacks %q: %s", s, text(body))
		}
	}
	_, body = c.get("/reseller/general/messages")
	if !strings.Contains(text(body), "Rundschreiben „Hallo“ abgeschlossen: 0 zugestellt, 1 fehlgeschlagen.") {
		t.Errorf("German message: %s", text(body))
	}
}
