package web

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kontor/internal/testenv"
)

// chromiumTab starts the Debian Chromium headless (as root: no sandbox;
// no background networking, which this machine's closed network refuses)
// with a fresh profile, and returns a tab. The browser is closed at the
// end of the test, and a surviving Chromium process fails it.
func chromiumTab(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Need(t, "Chromium (Debian package chromium)")
	}
	profile := t.TempDir() // created before the cleanup below, so removed after it
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900), chromedp.UserDataDir(profile),
	)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancel()
		if left := chromiumLeftovers(profile); len(left) > 0 {
			t.Errorf("chromium processes survived the test: %v", left)
		}
	})
	return tab
}
