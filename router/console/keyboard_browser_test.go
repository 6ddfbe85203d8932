package console_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestBrowserKeyboard signs in and moves between pages with the keyboard
// only: the sign-in form takes the focus, Tab reaches the skip link, the
// sign-out button and every nav entry, and Enter opens one.
func TestBrowserKeyboard(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	tab := consoletest.Browser(t)
	consoletest.Do(t, tab, "open the sign-in page",
		chromedp.Navigate(r.Console+"sign-in"),
		chromedp.WaitVisible(chromedp.ID("token")))
	if f := consoletest.Focused(t, tab); f != "#token" {
		t.Errorf("the sign-in page opens with the focus on %s, want the token field", f)
	}
	if f := consoletest.Tab(t, tab); f != "button Sign in" {
		t.Errorf("Tab from the token field goes to %s, want the Sign in button", f)
	}
	consoletest.Do(t, tab, "type the token and press Enter",
		chromedp.Focus(chromedp.ID("token")),
		chromedp.KeyEvent(consoletest.AdminToken),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("nav")))

	var order []string
	for range 8 {
		order = append(order, consoletest.Tab(t, tab))
	}
	want := []string{"a /console/#main", "button Sign out", "a /console/", "a /console/rules", "a /console/tester"}
	if !slices.Equal(order[:len(want)], want) {
		t.Errorf("Tab order %v, want it to start %v", order, want)
	}
	consoletest.Do(t, tab, "open Rules with Enter",
		chromedp.Focus(chromedp.CSS(`nav a[href="/console/rules"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`nav a[aria-current="page"][href="/console/rules"]`)))
	if h1 := consoletest.Get(t, tab, "title", chromedp.Text(chromedp.CSS("main h1"))); h1 != "Rules" {
		t.Errorf("Enter on the nav entry opened %q", h1)
	}
}

// TestBrowserDLQKeyboard redrives a dead letter with the keyboard only:
// Tab reaches its Redrive button and Enter redrives it.
func TestBrowserDLQKeyboard(t *testing.T) {
	hook := &failingHook{}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	r := consoletest.Start(t, consoletest.Options{Rules: []string{hookRule(srv.URL)}})
	publishOn(t, r, "default", testEvent("dead-1", "console.test.match"))
	tab := consoletest.Browser(t)
	consoletest.SignIn(t, tab, r, consoletest.AdminToken)
	reloadUntil(t, tab, r.Console+"dlq", `!!document.querySelector("#letters")`)

	hook.fixed.Store(true)
	consoletest.TabTo(t, tab, "button Redrive")
	consoletest.Do(t, tab, "press Enter on Redrive",
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("redriven")))
	if msg := consoletest.Get(t, tab, "redriven", chromedp.Text(chromedp.ID("redriven"))); !strings.Contains(msg, "Redriven: 1 ") {
		t.Errorf("after Enter on Redrive: %q", msg)
	}
	for hook.delivered.Load() == 0 {
		consoletest.Do(t, tab, "wait for the delivery", chromedp.Sleep(100*time.Millisecond))
	}
}
