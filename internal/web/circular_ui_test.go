package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCircularInChromium sends a circular the way a reseller does, in
// the Debian Chromium without any script of ours: type the mail, Next,
// untick a user with a click, Send; the progress page reloads itself
// (meta refresh, allowed by the CSP) until the runner is done. On a phone
// the recipient list and the progress page do not scroll sideways.
//
// With KONTOR_SCREENSHOTS=<dir> it saves screenshots there.
func TestCircularInChromium(t *testing.T) {
	shots := os.Getenv("KONTOR_SCREENSHOTS")
	f, srv := circFixture(t)
	users := addUsers(t, f, f.res1, "Jürgen Äpfel", "Önder Kaya", "Zoë Brandt")
	base := f.srv.URL
	tab := chromiumTab(t, 90*time.Second)
	do := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	at := func(step, want string) {
		t.Helper()
		if got := evalJS[string](t, tab, "location.pathname + location.search"); got != want {
			t.Fatalf("%s: at %s, want %s", step, got, want)
		}
	}
	sees := func(page string, want ...string) {
		t.Helper()
		body := evalJS[string](t, tab, "document.body.innerText")
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not show %q; it shows:\n%s", page, w, body)
			}
		}
	}
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fitsPhone := func(page string) {
		t.Helper()
		if w := evalJS[float64](t, tab, "document.documentElement.scrollWidth - window.innerWidth"); w > 1 {
			t.Errorf("%s on a phone is %v px too wide", page, w)
		}
	}

	do("log in",
		chromedp.Navigate(base+"/login?lang=en"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), f.res1.Login),
		chromedp.SendKeys(chromedp.ID("password"), f.pw[f.res1.Login]),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("table.usage")),
	)
	do("open the circular",
		chromedp.Navigate(base+"/reseller/users/circular"),
		chromedp.WaitVisible(chromedp.ID("subject")),
	)
	// The sender name is prefilled with the reseller's: replace it.
	evalJS[bool](t, tab, `(document.getElementById('from_name').value = '', true)`)
	do("type the mail",
		chromedp.SendKeys(chromedp.ID("from_name"), "Müller & Söhne"),
		chromedp.SendKeys(chromedp.ID("from"), "info@mueller.example"),
		chromedp.SendKeys(chromedp.ID("subject"), "Wartung am Samstag, ##name##"),
		chromedp.SendKeys(chromedp.ID("body"), "Guten Tag ##name##,\nIhr Paket ##login## ist kurz nicht erreichbar."),
	)
	shot("circ-1-compose")
	do("click Next",
		chromedp.Click(chromedp.CSS(`main form.card button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="pick"]`)),
	)
	sees("the recipients", "3 of 3 users with an e-mail address are selected.", users[0].Login, users[1].Login, users[2].Login)
	// A click on the login (a label) unticks the user.
	do("untick Önder", chromedp.Click(chromedp.CSS(`label[for="pick`+itoa(users[1].ID)+`"]`)))
	if evalJS[bool](t, tab, `document.getElementById('pick`+itoa(users[1].ID)+`').checked`) {
		t.Fatal("the click on the login did not untick the box")
	}
	do("phone", chromedp.EmulateViewport(390, 844))
	fitsPhone("the recipients")
	shot("circ-2-recipients-phone")
	do("desktop", chromedp.EmulateViewport(1280, 900))
	do("send",
		chromedp.Click(chromedp.CSS(`button[name="do"][value="send"]`)),
		chromedp.WaitVisible(chromedp.CSS("progress.circ-progress")),
	)
	at("send", "/reseller/users/circular/1?done=circ_queued")
	sees("the progress", "The circular is being sent.", "0 delivered", "2 left")
	shot("circ-3-progress-running")

	// The runner starts; the page reloads itself until it says Done.
	startRunner(t, f)
	deadline := time.Now().Add(20 * time.Second)
	// While the page reloads there may be no body for a moment.
	const bodyText = "document.body ? document.body.innerText : ''"
	for !strings.Contains(evalJS[string](t, tab, bodyText), "2 delivered") {
		if time.Now().After(deadline) {
			t.Fatalf("the page never showed the result: %s", evalJS[string](t, tab, bodyText))
		}
		time.Sleep(100 * time.Millisecond)
	}
	do("wait for the finished page", chromedp.WaitVisible(chromedp.CSS("progress.circ-progress")))
	sees("the finished progress", "Done", "2 delivered", "0 failed", "0 left")
	if strings.Contains(evalJS[string](t, tab, bodyText), "is being sent") {
		t.Error("the finished page still says the circular is being sent")
	}
	if evalJS[bool](t, tab, `!!document.querySelector('meta[http-equiv="refresh"]')`) {
		t.Error("the finished page still refreshes itself")
	}
	if got := srv.Messages(); len(got) != 2 {
		t.Fatalf("the server got %d mails, want 2", len(got))
	}
	do("phone", chromedp.EmulateViewport(390, 844))
	fitsPhone("the progress page")
	shot("circ-4-progress-done-phone")
}
