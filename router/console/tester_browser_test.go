package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestBrowserRuleTester tests a rule that does not match a pasted event
// and reads why on the page, then picks a recent event off the bus.
func TestBrowserRuleTester(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{Rules: []string{deleteRule}})
	publish(t, r, createCluster)
	tab := consoletest.Browser(t)
	consoletest.SignIn(t, tab, r, consoletest.AdminToken)

	consoletest.Do(t, tab, "test a pasted event",
		chromedp.Navigate(r.Console+"tester"),
		chromedp.WaitVisible(chromedp.ID("event")),
		chromedp.SetValue(chromedp.ID("rule"), "default/tke-cluster-deleted"),
		chromedp.SetValue(chromedp.ID("event"), createCluster),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("verdict")))
	verdict := consoletest.Get(t, tab, "verdict", chromedp.Text(chromedp.ID("verdict")))
	if !strings.HasPrefix(verdict, "Does not match") {
		t.Errorf("verdict %q", verdict)
	}
	clauses := consoletest.Get(t, tab, "clauses", chromedp.Text(chromedp.ID("clauses")))
	for _, want := range []string{`data.eventName wants ["DeleteCluster"], has ["CreateCluster"]`, "fails", "passes"} {
		if !strings.Contains(clauses, want) {
			t.Errorf("the explanation lacks %q:\n%s", want, clauses)
		}
	}
	consoletest.Screenshot(t, tab, "tester-result")

	consoletest.Do(t, tab, "pick the recent event",
		chromedp.Navigate(r.Console+"tester?bus=default&rule=tke-cluster-deleted"),
		chromedp.WaitVisible(chromedp.ID("recent")),
		chromedp.Click(chromedp.CSS("#recent a")),
		chromedp.WaitVisible(chromedp.ID("event")))
	picked := consoletest.Get(t, tab, "picked event", chromedp.Value(chromedp.ID("event")))
	rule := consoletest.Get(t, tab, "chosen rule", chromedp.Value(chromedp.ID("rule")))
	if !strings.Contains(picked, `"id": "evt-1"`) || rule != "default/tke-cluster-deleted" {
		t.Errorf("picking the recent event filled in rule %q, event %s", rule, picked)
	}
}

// TestBrowserRuleTesterDocument tests a pasted rule document, stored
// nowhere: its problems are shown at line:col, and a bad event's problem
// is shown in place (htmx swaps 4xx answers too).
func TestBrowserRuleTesterDocument(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	tab := consoletest.Browser(t)
	consoletest.SignIn(t, tab, r, consoletest.TesterToken)
	submit := chromedp.Click(chromedp.CSS("main form button[type=submit]"))
	consoletest.Do(t, tab, "test a broken document",
		chromedp.Navigate(r.Console+"tester"),
		chromedp.WaitVisible(chromedp.ID("event")),
		chromedp.Click(chromedp.CSS("summary")),
		chromedp.SetValue(chromedp.ID("document"), "name: draft\npattern:\n  type: [\"tke:CloudEvent:ApiCall\"]\nenabled: maybe\ntargets:\n  - id: out\n    log: {}\n"),
		chromedp.SetValue(chromedp.ID("event"), createCluster),
		submit,
		chromedp.WaitVisible(chromedp.ID("problems")))
	if p := consoletest.Get(t, tab, "problems", chromedp.Text(chromedp.ID("problems"))); !strings.HasPrefix(p, "4:10: ") {
		t.Errorf("problems %q, want 4:10", p)
	}
	consoletest.Do(t, tab, "test a good document",
		chromedp.SetValue(chromedp.ID("document"), "name: draft\npattern:\n  type: [\"tke:CloudEvent:ApiCall\"]\ntargets:\n  - id: out\n    log: {}\n"),
		submit,
		chromedp.WaitVisible(chromedp.ID("verdict")))
	if v := consoletest.Get(t, tab, "verdict", chromedp.Text(chromedp.ID("verdict"))); !strings.HasPrefix(v, "Matches: rule draft") {
		t.Errorf("verdict %q", v)
	}
	consoletest.Do(t, tab, "test a bad event",
		chromedp.Evaluate[chromedp.Void](`window.samePage = true`),
		chromedp.SetValue(chromedp.ID("event"), `{"specversion":"1.0","id":"x"}`),
		submit,
		chromedp.WaitVisible(chromedp.ID("test-error")))
	if msg := consoletest.Get(t, tab, "error", chromedp.Text(chromedp.ID("test-error"))); !strings.HasPrefix(msg, "event: ") {
		t.Errorf("bad event: %q", msg)
	}
	if !consoletest.Get(t, tab, "same page", chromedp.Evaluate[bool](`window.samePage === true`)) {
		t.Error("the 400 answer reloaded the page: htmx did not swap it in place")
	}
	consoletest.Screenshot(t, tab, "tester-bad-event")
}
