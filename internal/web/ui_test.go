package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kontor/internal/testenv"
)

// TestUIInChromium drives the Debian Chromium, headless, through the panel as
// a person would: log in, open a drop-down menu, look at the pages on a phone,
// switch the language. It asserts what the browser shows, not the HTML.
//
// With KONTOR_SCREENSHOTS=<dir> it saves full-page screenshots there.
func TestUIInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Need(t, "Chromium (Debian package chromium)")
	}
	shots := os.Getenv("KONTOR_SCREENSHOTS")
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	f := newFixture(t)
	base := f.srv.URL
	profile := t.TempDir() // created before the cleanup below, so removed after it

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(profile),
	)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser() // closes the tabs and the browser
		cancelAlloc()   // kills the browser if it is still there, and waits for it
		cancel()
		if left := chromiumLeftovers(profile); len(left) > 0 {
			t.Errorf("chromium processes survived the test: %v", left)
		}
	})

	// do runs the steps in the tab; a failure names the step.
	do := func(tab context.Context, step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// load runs steps that load a page (navigation, a click on a link, a
	// form submission) and waits for it; it must answer 200 at path.
	load := func(tab context.Context, step, path string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := chromedp.RunResponse(tab, steps...)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if resp.Status != 200 {
			t.Fatalf("%s: HTTP %d for %s", step, resp.Status, resp.URL)
		}
		if got := evalJS[string](t, tab, "location.pathname + location.search"); got != path {
			t.Fatalf("%s: at %s, want %s", step, got, path)
		}
	}
	// shot saves a full-page screenshot when KONTOR_SCREENSHOTS is set.
	shot := func(tab context.Context, name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// noOverflow asserts that the page does not scroll sideways.
	noOverflow := func(tab context.Context, page string) {
		t.Helper()
		type widths struct {
			Scroll, Inner float64
			Wide          []string // elements that reach past the right edge
		}
		m := evalJS[widths](t, tab, `(() => {
			const w = window.innerWidth;
			const past = e => e.checkVisibility() && e.getBoundingClientRect().right > w + 1;
			// The outermost rendered elements that reach past the edge.
			const wide = [...document.querySelectorAll('body *')]
				.filter(e => past(e) && !(e.parentElement && past(e.parentElement)))
				.slice(0, 8)
				.map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className.replace(/ /g, '.') : '') +
					' (' + Math.round(e.getBoundingClientRect().width) + ' px wide, right edge at ' +
					Math.round(e.getBoundingClientRect().right) + ')');
			return {Scroll: document.documentElement.scrollWidth, Inner: w, Wide: wide};
		})()`)
		if m.Inner != 390 {
			t.Fatalf("%s: window.innerWidth = %v, want the phone's 390", page, m.Inner)
		}
		if m.Scroll > m.Inner+1 {
			t.Errorf("%s on a phone: the page is %v px wide for a %v px screen; too wide: %s",
				page, m.Scroll, m.Inner, strings.Join(m.Wide, ", "))
		}
	}
	// sees asserts that the visible text of the page holds each of want.
	sees := func(tab context.Context, page string, want ...string) {
		t.Helper()
		body := evalJS[string](t, tab, "document.body.innerText")
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not show %q; it shows:\n%s", page, w, body)
			}
		}
	}

	// 1. The reseller logs in and lands on General's overview.
	res := browser
	login := f.res1.Login
	load(res, "open the login page", "/login?lang=en", chromedp.Navigate(base+"/login?lang=en"))
	do(res, "type the login",
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), login),
		chromedp.SendKeys(chromedp.ID("password"), f.pw[login]),
	)
	load(res, "log in", "/reseller/general/", chromedp.Submit(chromedp.ID("password")))
	do(res, "wait for the overview", chromedp.WaitVisible(chromedp.CSS("table.usage")))
	if h1 := evalJS[string](t, res, `document.querySelector('main h1').innerText.trim()`); h1 != "General" {
		t.Errorf("overview heading %q, want General", h1)
	}
	if !evalJS[bool](t, res, `(() => {
		const h = [...document.querySelectorAll('main h2')].find(h => h.innerText.trim() === 'Your resources');
		const tb = document.querySelector('table.usage');
		return !!h && !!tb && !!(h.compareDocumentPosition(tb) & Node.DOCUMENT_POSITION_FOLLOWING);
	})()`) {
		t.Error(`the overview has no resource table under a "Your resources" heading`)
	}
	// user1 has 1200 MB against the reseller's maximum of 1000.
	over := evalJS[string](t, res, `(() => {
		const th = document.querySelector('table.usage tr.over th');
		return th ? th.closest('tr').innerText.replace(/\s+/g, ' ') : '';
	})()`)
	if !strings.Contains(over, "Storage") || !strings.Contains(over, "1200") || !strings.Contains(over, "1000") {
		t.Errorf("the highlighted (over) row is %q, want storage with 1200 of 1000", over)
	}
	sees(res, "the overview", login, "Log out", "Change password", "Your resources")
	shot(res, "1-desktop-overview")

	// 2. The Users menu opens on a click and leads to the user list.
	const usersMenu = `[...document.querySelectorAll('details.menu > summary')].find(s => s.innerText.trim() === 'Users')`
	const userListLink = `[...` + usersMenu + `.parentElement.querySelectorAll('a')].find(a => a.innerText.trim() === 'User list')`
	linkShown := `(() => { const a = ` + userListLink + `; return !!a && a.offsetParent !== null && a.getBoundingClientRect().height > 0; })()`
	if evalJS[bool](t, res, linkShown) {
		t.Error(`"User list" shows before the Users menu is opened`)
	}
	do(res, "open the Users menu",
		chromedp.Click(chromedp.JSPath(usersMenu)),
		chromedp.WaitVisible(chromedp.JSPath(userListLink)),
	)
	if !evalJS[bool](t, res, linkShown) {
		t.Fatal(`"User list" does not show after a click on Users`)
	}
	shot(res, "1b-desktop-users-menu")
	load(res, "click User list", "/reseller/users/list", chromedp.Click(chromedp.JSPath(userListLink)))
	do(res, "wait for the user list", chromedp.WaitVisible(chromedp.CSS("table.grid")))
	sees(res, "the user list", "User list", f.user1.Login, "Anna Alpha", "alpha.example")

	// 3. On a phone no page scrolls sideways.
	do(res, "turn into a phone", chromedp.EmulateViewport(390, 844))
	load(res, "open the overview on a phone", "/reseller/general/", chromedp.Navigate(base+"/reseller/general/"))
	do(res, "wait for the overview", chromedp.WaitVisible(chromedp.CSS("table.usage")))
	noOverflow(res, "the overview")
	shot(res, "2-phone-overview")
	load(res, "open the user list on a phone", "/reseller/users/list", chromedp.Navigate(base+"/reseller/users/list"))
	do(res, "wait for the user list", chromedp.WaitVisible(chromedp.CSS("table.grid")))
	sees(res, "the user list on a phone", f.user1.Login, "alpha.example")
	noOverflow(res, "the user list")
	shot(res, "3-phone-user-list")
	// The opened menu fits on the phone's screen.
	do(res, "open the Users menu on a phone",
		chromedp.Click(chromedp.JSPath(usersMenu)),
		chromedp.WaitVisible(chromedp.JSPath(userListLink)),
	)
	if !evalJS[bool](t, res, `(() => {
		const r = (`+userListLink+`).closest('ul').getBoundingClientRect();
		return r.left >= 0 && r.right <= window.innerWidth && r.height > 0;
	})()`) {
		t.Error("on a phone the opened Users menu does not fit on the screen")
	}
	noOverflow(res, "the user list with the Users menu open")
	shot(res, "3b-phone-users-menu")

	// The admin, in a browser context of their own (own cookies), looks at
	// the reseller on a phone.
	adm, cancelAdm := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelAdm()
	do(adm, "turn the admin's tab into a phone", chromedp.EmulateViewport(390, 844))
	load(adm, "open the login page (admin)", "/login?lang=en", chromedp.Navigate(base+"/login?lang=en"))
	do(adm, "type the admin's login",
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), f.pw["admin"]),
	)
	load(adm, "log in as admin", "/admin/", chromedp.Submit(chromedp.ID("password")))
	resPath := "/admin/resellers/" + strconv.FormatInt(f.res1.ID, 10)
	load(adm, "open the reseller", resPath, chromedp.Navigate(base+resPath))
	do(adm, "wait for the reseller", chromedp.WaitVisible(chromedp.CSS("table.usage")))
	sees(adm, "the admin's reseller page", login, "Reseller One")
	noOverflow(adm, "the admin's reseller page")
	shot(adm, "4-phone-admin-reseller")
	load(adm, "log out (admin)", "/login?done=logout", chromedp.Click(chromedp.CSS("header.top .who button")))
	do(adm, "wait for the login form", chromedp.WaitVisible(chromedp.ID("login")))
	cancelAdm()

	// 4. The reseller switches to German; the menus follow.
	do(res, "back to the desktop", chromedp.EmulateViewport(1280, 900))
	load(res, "open the language page", "/reseller/general/language", chromedp.Navigate(base+"/reseller/general/language"))
	do(res, "choose German",
		chromedp.WaitVisible(chromedp.ID("language")),
		chromedp.SetValue(chromedp.ID("language"), "de"),
	)
	load(res, "save the language", "/reseller/general/language?done=saved",
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	do(res, "wait for the menus", chromedp.WaitVisible(chromedp.CSS("nav.menus")))
	if menus := evalJS[string](t, res, `document.querySelector('nav.menus').innerText`); !strings.Contains(menus, "Allgemein") {
		t.Errorf("after the switch to German the menus show %q, want Allgemein", menus)
	}
	load(res, "open the overview in German", "/reseller/general/", chromedp.Navigate(base+"/reseller/general/"))
	do(res, "wait for the overview", chromedp.WaitVisible(chromedp.CSS("table.usage")))
	sees(res, "the German overview", "Allgemein", "Ihre Ressourcen", "Abmelden")
	shot(res, "5-german-overview")
	do(res, "turn into a phone", chromedp.EmulateViewport(390, 844))
	load(res, "reload the German overview on a phone", "/reseller/general/", chromedp.Reload())
	do(res, "wait for the overview", chromedp.WaitVisible(chromedp.CSS("table.usage")))
	noOverflow(res, "the German overview")
	shot(res, "6-phone-german-overview")
}

// evalJS evaluates a JavaScript expression in the tab.
func evalJS[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// chromiumLeftovers returns the processes still running with the user data
// directory dir, after giving them a few seconds to go. It kills those that
// stay. It reads /proc (Linux), so it needs no pgrep.
func chromiumLeftovers(dir string) []string {
	want := []byte("--user-data-dir=" + dir)
	find := func() map[int]string {
		found := map[int]string{}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err != nil {
				continue
			}
			for arg := range bytes.SplitSeq(cmd, []byte{0}) {
				if bytes.Equal(arg, want) {
					found[pid] = string(bytes.SplitN(cmd, []byte{0}, 2)[0])
					break
				}
			}
		}
		return found
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		found := find()
		if len(found) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var out []string
			for pid, name := range found {
				if p, err := os.FindProcess(pid); err == nil {
					if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
						name += " (kill: " + err.Error() + ")"
					}
				}
				out = append(out, fmt.Sprintf("%d %s", pid, name))
			}
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}
