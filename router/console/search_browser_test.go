package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestBrowserSearch: a published event is found by a filter and by a
// pattern, and its detail page shows it as stored.
func TestBrowserSearch(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	publishOn(t, r, "default", testEvent("found-1", "console.test.match"))
	publishOn(t, r, "default", testEvent("other-1", "console.test.other"))
	tab := consoletest.Browser(t)
	consoletest.SignIn(t, tab, r, consoletest.AdminToken)

	reloadUntil(t, tab, r.Console+"search?type=console.test.match", `!!document.querySelector("#hits")`)
	rows := consoletest.Get(t, tab, "hits", chromedp.Text(chromedp.ID("hits")))
	if !strings.Contains(rows, "found-1") || strings.Contains(rows, "other-1") {
		t.Errorf("search by type: %q, want found-1 only", rows)
	}
	consoletest.Do(t, tab, "search by pattern",
		chromedp.Navigate(r.Console+"search"),
		chromedp.WaitVisible(chromedp.ID("s-pattern")),
		chromedp.SendKeys(chromedp.ID("s-pattern"), `subject: ["res-found-1"]`),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("hits")))
	consoletest.CheckPage(t, tab, "search")
	consoletest.Do(t, tab, "open the event",
		chromedp.Click(chromedp.CSS(`#hits a`)),
		chromedp.WaitVisible(chromedp.ID("event-json")))
	if ev := consoletest.Get(t, tab, "event", chromedp.Text(chromedp.ID("event-json"))); !strings.Contains(ev, `"found-1"`) {
		t.Errorf("detail %q: want the event", ev)
	}
	consoletest.CheckPage(t, tab, "event")

	consoletest.Do(t, tab, "a bad time",
		chromedp.Navigate(r.Console+"search?since=yesterday"),
		chromedp.WaitVisible(chromedp.ID("search-error")))
	if msg := consoletest.Get(t, tab, "error", chromedp.Text(chromedp.ID("search-error"))); !strings.Contains(msg, "since") || !strings.Contains(msg, "RFC 3339") {
		t.Errorf("bad since: %q", msg)
	}
}

// TestBrowserNotificationsTopics: both pages render what the API holds,
// the subscription's secret masked.
func TestBrowserNotificationsTopics(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	apiCall(t, r, "PUT", "/v1/topics/sec", `{"subscriptions":[{"id":"soc","protocol":"https","endpoint":"https://user:pw@127.0.0.1:9/smn?token=abc","secret":"a-secret-of-at-least-24-bytes"}]}`)
	apiCall(t, r, "POST", "/v3/p1/notifications", `{"notification_name":"all-ops","operation_type":"complete","topic_id":"urn:smn:auditbus:default:sec"}`)
	tab := consoletest.Browser(t)
	consoletest.SignIn(t, tab, r, consoletest.AdminToken)

	consoletest.Do(t, tab, "notifications", chromedp.Navigate(r.Console+"notifications"), chromedp.WaitVisible(chromedp.ID("notifications")))
	if row := consoletest.Get(t, tab, "row", chromedp.Text(chromedp.ID("notifications"))); !strings.Contains(row, "all-ops") || !strings.Contains(row, "urn:smn:auditbus:default:sec") {
		t.Errorf("notifications: %q", row)
	}
	consoletest.CheckPage(t, tab, "notifications")

	consoletest.Do(t, tab, "topics", chromedp.Navigate(r.Console+"topics"), chromedp.WaitVisible(chromedp.CSS("table.subscriptions")))
	body := consoletest.Get(t, tab, "topics", chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(body, "soc") || strings.Contains(body, "pw@") || strings.Contains(body, "token=abc") || strings.Contains(body, "a-secret") {
		t.Errorf("topics page: %q, want subscription soc with its credentials masked", body)
	}
	consoletest.CheckPage(t, tab, "topics")

	// The notification's rule sends to the topic: subscription soc runs
	// as its target notify-soc, shown with its delivery state (waiting
	// for the endpoint's consent, which never comes) on the topics page
	// and on the rule's page.
	reloadUntil(t, tab, r.Console+"topics", `(document.querySelector('tr[data-subscription="soc"] td.runs') || {}).textContent.includes("subscription")`)
	runs := consoletest.Get(t, tab, "runs", chromedp.Text(chromedp.CSS(`tr[data-subscription="soc"] td.runs`)))
	if !strings.Contains(runs, "notify-soc") || !strings.Contains(runs, "waiting") {
		t.Errorf("subscription soc runs as %q, want target notify-soc with its state and backlog", runs)
	}
	if body := consoletest.Get(t, tab, "topics", chromedp.Text(chromedp.CSS("main"))); strings.Contains(body, "pw@") || strings.Contains(body, "token=abc") || strings.Contains(body, "a-secret") {
		t.Errorf("topics page with runs: %q, want credentials masked", body)
	}
	consoletest.Do(t, tab, "open the rule from the run",
		chromedp.Click(chromedp.CSS(`tr[data-subscription="soc"] td.runs a`)),
		chromedp.WaitVisible(chromedp.CSS(`#targets tr[data-run="notify-soc"]`)))
	if row := consoletest.Get(t, tab, "run row", chromedp.Text(chromedp.CSS(`#targets tr[data-run="notify-soc"]`))); !strings.Contains(row, "subscription") {
		t.Errorf("the rule's page shows its topic target's run as %q, want kind subscription and its state", row)
	}
}
