package console_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestBrowserTail: the live tail shows an event published over the API
// that its pattern matches, and not one it does not; a pattern that does
// not compile is shown with its line:col.
func TestBrowserTail(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	tab := consoletest.Browser(t)
	consoletest.SignIn(t, tab, r, consoletest.AdminToken)

	consoletest.Do(t, tab, "a broken pattern",
		chromedp.Navigate(r.Console+"tail?"+url.Values{"pattern": {"type: [\"a\"]\ndata:\n  n: [{nope: 1}]"}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("problems")))
	if msg := consoletest.Get(t, tab, "problems", chromedp.Text(chromedp.ID("problems"))); !strings.Contains(msg, "pattern:3:") {
		t.Errorf("problem %q: want it positioned at line 3 of the pattern", msg)
	}

	consoletest.Do(t, tab, "follow a pattern",
		chromedp.Navigate(r.Console+"tail"),
		chromedp.WaitVisible(chromedp.ID("pattern")),
		chromedp.SendKeys(chromedp.ID("pattern"), `type: ["console.test.match"]`),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
	// The empty pattern's page follows every event too: wait for the
	// submitted one before its stream counts.
	for !strings.Contains(consoletest.Get(t, tab, "location", chromedp.Location()), "pattern=type") {
		consoletest.Do(t, tab, "wait for the page", chromedp.Sleep(50*time.Millisecond))
	}
	consoletest.Do(t, tab, "wait for the stream",
		chromedp.WaitReady(chromedp.ID("tail-events")),
		chromedp.Poll[chromedp.Void](`document.getElementById("tail-status").textContent.startsWith("Following")`))
	consoletest.CheckPage(t, tab, "tail")

	publishOn(t, r, "default", testEvent("other-1", "console.test.other"))
	publishOn(t, r, "default", testEvent("live-1", "console.test.match"))
	consoletest.Do(t, tab, "see the event arrive", chromedp.WaitVisible(chromedp.CSS(`#tail-events li[data-id="live-1"]`)))
	if n := consoletest.Get(t, tab, "unmatched", chromedp.Evaluate[int](`document.querySelectorAll('#tail-events li[data-id="other-1"]').length`)); n != 0 {
		t.Error("the tail shows an event its pattern does not match")
	}
	head := consoletest.Get(t, tab, "entry", chromedp.Text(chromedp.CSS(`#tail-events li[data-id="live-1"] .tail-head`)))
	if !strings.Contains(head, "console.test.match") || !strings.Contains(head, "default") {
		t.Errorf("entry %q: want its type and bus", head)
	}
	consoletest.Screenshot(t, tab, "tail-live")
}
