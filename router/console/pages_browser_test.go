package console_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// stuckRule sends every event of bus default to a port where nothing
// listens, so its target has a backlog.
const stuckRule = `name: stuck
pattern: {}
targets:
  - id: nowhere
    webhook: {url: "http://127.0.0.1:1/hook", timeout: 1s}
`

// TestBrowserPages opens every page of the console: each has its
// landmarks and a label on every control, keeps a screenshot, and logs
// its weight (HTML+JS+CSS) and time to first paint.
func TestBrowserPages(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{Rules: []string{deleteRule, stuckRule}})
	putRule(t, r, "console-edited", apiRule)
	publish(t, r, createCluster)
	tab := consoletest.Browser(t)

	pages := []struct{ name, path, h1 string }{
		{"sign-in", "sign-in", "Sign in"},
		{"overview", "", "Overview"},
		{"rules", "rules", "Rules"},
		{"rule", "rules/default/stuck", "Rule stuck"},
		{"rule-edit", "rules/default/console-edited/edit", "Edit rule console-edited"},
		{"tester", "tester?bus=default&rule=tke-cluster-deleted&seq=1", "Rule tester"},
	}
	for i, p := range pages {
		if i == 1 {
			consoletest.SignIn(t, tab, r, consoletest.AdminToken)
		}
		consoletest.Do(t, tab, "open "+p.name,
			chromedp.Navigate(r.Console+p.path),
			chromedp.WaitVisible(chromedp.CSS("main h1")))
		if h1 := consoletest.Get(t, tab, "title", chromedp.Text(chromedp.CSS("main h1"))); h1 != p.h1 {
			t.Errorf("%s: heading %q, want %q", p.name, h1, p.h1)
		}
		if bad := consoletest.Unlabelled(t, tab); len(bad) > 0 {
			t.Errorf("%s: controls without a label: %v", p.name, bad)
		}
		want := []string{"main", "nav"}
		if p.name == "sign-in" {
			want = []string{"main"}
		}
		if got := consoletest.Landmarks(t, tab); !slices.Equal(got, want) {
			t.Errorf("%s: landmarks %v, want %v", p.name, got, want)
		}
		m := consoletest.Measure(t, tab)
		t.Logf("page %-10s HTML %5d B + JS/CSS %5d B = %5d B (%5d B sent gzipped); first contentful paint %.0f ms",
			p.name, m.HTMLBytes, m.AssetBytes, m.Total(), m.Wire(), m.FirstPaintMS)
		if m.HTMLBytes == 0 || m.AssetBytes == 0 {
			t.Errorf("%s: measured nothing: %+v", p.name, m)
		}
		consoletest.Screenshot(t, tab, p.name)
	}

	// The overview polls itself (htmx, every 5 s): the stuck target's
	// backlog shows up once the router's sweep has read it.
	consoletest.Do(t, tab, "wait for the backlog on the overview",
		chromedp.Navigate(r.Console),
		chromedp.WaitVisible(chromedp.ID("backlogged")))
	if row := consoletest.Get(t, tab, "backlog", chromedp.Text(chromedp.CSS("#backlogged tbody"))); !strings.Contains(row, "stuck") || !strings.Contains(row, "nowhere") {
		t.Errorf("backlog rows %q, want target nowhere of rule stuck", row)
	}
	if n := consoletest.Get(t, tab, "DLQ size", chromedp.Text(chromedp.ID("dlq-size"))); n != "0" {
		t.Errorf("DLQ size %q, want 0", n)
	}
	consoletest.Screenshot(t, tab, "overview-backlog")
}
