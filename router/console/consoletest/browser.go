package consoletest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ScreenshotsEnv names the directory screenshots are kept in.
const ScreenshotsEnv = "AUDITBUS_SCREENSHOTS"

// browserTimeout bounds one test's use of the browser, so a hung page
// fails the test rather than CI's timeout.
const browserTimeout = 2 * time.Minute

// chromiumPath finds Debian's chromium.
func chromiumPath(t testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH: install Debian's chromium package (.ci/run does when it is missing)")
	return ""
}

// Browser starts a headless Chromium with a fresh profile and returns a
// tab's context for chromedp.Run; the browser stops with t.Cleanup.
func Browser(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return tab
}

// Do runs steps in the tab, failing the test with what on error.
func Do(t testing.TB, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Get runs one action in the tab and returns its value, failing the test
// with what on error.
func Get[T any](t testing.TB, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(tab, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// SignIn opens the console's sign-in page and signs in with token,
// waiting for the page it lands on.
func SignIn(t testing.TB, tab context.Context, r *Router, token string) {
	t.Helper()
	Do(t, tab, "sign in",
		chromedp.Navigate(r.Console+"sign-in"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitNotPresent(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	)
}

// Screenshot keeps a full-page PNG of the tab as name.png in the
// screenshots directory ($AUDITBUS_SCREENSHOTS, else the test's temp
// dir), logging its path.
func Screenshot(t testing.TB, tab context.Context, name string) string {
	t.Helper()
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png := Get(t, tab, "screenshot "+name, chromedp.FullScreenshot(100)) // 100: PNG; less is JPEG
	p := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()+"-"+name)+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s: %s (%d bytes)", name, p, len(png))
	return p
}
