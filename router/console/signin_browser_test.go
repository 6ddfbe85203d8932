package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestBrowserSignIn signs in with a token in a real browser, and is
// refused with a wrong one.
func TestBrowserSignIn(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	tab := consoletest.Browser(t)

	consoletest.Do(t, tab, "open the console",
		chromedp.Navigate(r.Console+"rules"),
		chromedp.WaitVisible(chromedp.ID("token")))
	if url := consoletest.Get(t, tab, "location", chromedp.Location()); !strings.Contains(url, "/console/sign-in?next=%2Fconsole%2Frules") {
		t.Errorf("unsigned request went to %s, want the sign-in page coming back to /console/rules", url)
	}
	consoletest.Screenshot(t, tab, "sign-in")

	consoletest.Do(t, tab, "sign in with a wrong token",
		chromedp.SendKeys(chromedp.ID("token"), "abt_not-a-token"),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("signin-error")))
	if msg := consoletest.Get(t, tab, "error", chromedp.Text(chromedp.ID("signin-error"))); msg != "That token is not valid." {
		t.Errorf("wrong token: %q", msg)
	}

	consoletest.Do(t, tab, "sign in with the admin token",
		chromedp.SendKeys(chromedp.ID("token"), consoletest.AdminToken),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("nav")))
	if h1 := consoletest.Get(t, tab, "title", chromedp.Text(chromedp.CSS("main h1"))); h1 != "Rules" {
		t.Errorf("after sign-in the page is %q, want the Rules page asked for", h1)
	}
	who := consoletest.Get(t, tab, "identity", chromedp.Text(chromedp.CSS(".signout strong")))
	if who != "admin" {
		t.Errorf("signed in as %q", who)
	}
}
