package console_test

import (
	"slices"
	"testing"

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
