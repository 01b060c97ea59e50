package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestIndexSetupInChromium types a start page with a script into the index
// setup, previews it and saves it, in the Debian Chromium: the preview
// frame shows the page for web1, its script never runs (sandbox), the
// panel page cannot be reached from it, and on a phone nothing scrolls
// sideways.
//
// With KONTOR_SCREENSHOTS=<dir> it saves screenshots there.
func TestIndexSetupInChromium(t *testing.T) {
	shots := os.Getenv("KONTOR_SCREENSHOTS")
	f := newFixture(t)
	base := f.srv.URL
	tab := chromiumTab(t, 60*time.Second)
	do := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
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
	// frameText is the text of the preview frame's h1, read through the
	// browser's DOM agent (the page's own scripts cannot reach the frame).
	// frameText is the text of the preview frame. The sandboxed frame has
	// an origin of its own, so Chromium runs it as a target of its own
	// (out of process); the test attaches to that target.
	frameText := func() string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			ts, err := chromedp.Targets(tab)
			if err != nil {
				t.Fatal(err)
			}
			for _, ti := range ts {
				if ti.Type != "iframe" {
					continue
				}
				fctx, cancelF := chromedp.NewContext(tab, chromedp.WithTargetID(ti.TargetID), chromedp.WithDetachOnCancel())
				s, err := chromedp.Run(fctx, chromedp.Text(chromedp.CSS("body")))
				cancelF()
				if err != nil {
					t.Fatalf("text of the preview frame: %v", err)
				}
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("no frame target among %d targets", len(ts))
			}
			time.Sleep(50 * time.Millisecond)
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
	do("open the index setup",
		chromedp.Navigate(base+"/reseller/settings/index"),
		chromedp.WaitVisible(chromedp.ID("html")),
	)
	sees("the fresh index setup", "Index setup", "No start page is set")
	const page = `<h1>Welcome, ##user##</h1><script>document.body.append('script ran'); try { parent.document.body.dataset.pwned = '1' } catch (e) {}</script>`
	evalJS[bool](t, tab, `(document.getElementById('name').value = '', true)`)
	do("type the page",
		chromedp.SendKeys(chromedp.ID("name"), "start.html"),
		chromedp.SetValue(chromedp.ID("html"), page),
	)
	do("preview",
		chromedp.Click(chromedp.CSS(`button[name="op"][value="preview"]`)),
		chromedp.WaitVisible(chromedp.CSS("iframe.idx-preview")),
	)
	sees("the draft preview", "not saved yet", "Preview for web1 start.html")
	if got := frameText(); !strings.Contains(got, "Welcome, web1") {
		t.Errorf("the preview frame shows %q, want Welcome, web1", got)
	}
	do("save",
		chromedp.Click(chromedp.CSS(`main form.card button:not([name])`)),
		chromedp.WaitVisible(chromedp.CSS("p.note.ok")),
	)
	sees("the saved page", "The start page has been saved.")
	if got := f.indexSetup(f.res1); got.Name != "start.html" || got.HTML != page {
		t.Fatalf("stored %+v", got)
	}
	time.Sleep(200 * time.Millisecond) // time for a script that should not run
	if got := frameText(); !strings.Contains(got, "Welcome, web1") || strings.Contains(got, "script ran") {
		t.Errorf("after saving the preview frame shows %q; want the page without its script's output", got)
	}
	if evalJS[bool](t, tab, `document.body.dataset.pwned === '1' || document.querySelector('iframe.idx-preview').contentDocument !== null`) {
		t.Error("the preview frame shares the panel's origin")
	}
	shot("idx-1-desktop")
	do("phone", chromedp.EmulateViewport(390, 844))
	if w := evalJS[float64](t, tab, "document.documentElement.scrollWidth - window.innerWidth"); w > 1 {
		t.Errorf("the index setup on a phone is %v px too wide", w)
	}
	shot("idx-2-phone")
}
