package console_test

import (
	"net/http/httptest"
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

// TestBrowserPages opens every page of the console and checks each the
// same way (consoletest.CheckPage): its landmarks, a label on every
// control, Tab reaching every control in main, a screenshot, and its
// weight (HTML+JS+CSS) and time to first paint logged.
func TestBrowserPages(t *testing.T) {
	hook := &failingHook{}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	r := consoletest.Start(t, consoletest.Options{Rules: []string{deleteRule, stuckRule, hookRule(srv.URL)}})
	putRule(t, r, "console-edited", apiRule)
	publish(t, r, createCluster)                                          // sequence 1
	publishOn(t, r, "default", testEvent("dead-1", "console.test.match")) // sequence 2, dead-lettered by to-hook
	apiCall(t, r, "PUT", "/v1/topics/sec", `{"subscriptions":[{"id":"soc","protocol":"https","endpoint":"https://user:pw@127.0.0.1:9/smn?token=abc","secret":"a-secret-of-at-least-24-bytes"}]}`)
	apiCall(t, r, "POST", "/v3/p1/notifications", `{"notification_name":"all-ops","operation_type":"complete","topic_id":"urn:smn:auditbus:default:sec"}`)
	tab := consoletest.Browser(t)

	// ready is true on the page once what the server does in the
	// background (indexing, dead-lettering) shows on it.
	pages := []struct{ name, path, h1, ready string }{
		{"sign-in", "sign-in", "Sign in", ""},
		{"overview", "", "Overview", ""},
		{"rules", "rules", "Rules", ""},
		{"rule", "rules/default/stuck", "Rule stuck", ""},
		{"rule-edit", "rules/default/console-edited/edit", "Edit rule console-edited", ""},
		{"tester", "tester?bus=default&rule=tke-cluster-deleted&seq=1", "Rule tester", ""},
		{"tail", "tail", "Live tail", ""},
		{"search", "search?type=console.test.match", "Audit search", `!!document.querySelector("#hits")`},
		{"event", "search/default/2", "Event dead-1", ""},
		{"dlq", "dlq", "Dead letters", `!!document.querySelector("#letters")`},
		{"notifications", "notifications", "Notifications", ""},
		{"topics", "topics", "Topics", ""},
	}
	for i, p := range pages {
		if i == 1 {
			consoletest.SignIn(t, tab, r, consoletest.AdminToken)
		}
		if p.ready != "" {
			reloadUntil(t, tab, r.Console+p.path, p.ready)
		} else {
			consoletest.Do(t, tab, "open "+p.name,
				chromedp.Navigate(r.Console+p.path),
				chromedp.WaitVisible(chromedp.CSS("main h1")))
		}
		if h1 := consoletest.Get(t, tab, "title", chromedp.Text(chromedp.CSS("main h1"))); h1 != p.h1 {
			t.Errorf("%s: heading %q, want %q", p.name, h1, p.h1)
		}
		var landmarks []string
		if p.name == "sign-in" {
			landmarks = []string{"main"}
		}
		consoletest.CheckPage(t, tab, p.name, landmarks...)
	}

	// The overview polls itself (htmx, every 5 s): the stuck target's
	// backlog shows up once the router's sweep has read it.
	consoletest.Do(t, tab, "wait for the backlog on the overview",
		chromedp.Navigate(r.Console),
		chromedp.WaitVisible(chromedp.ID("backlogged")))
	if row := consoletest.Get(t, tab, "backlog", chromedp.Text(chromedp.CSS("#backlogged tbody"))); !strings.Contains(row, "stuck") || !strings.Contains(row, "nowhere") {
		t.Errorf("backlog rows %q, want target nowhere of rule stuck", row)
	}
	// to-hook's one dead letter (the DLQ page listed it above).
	if n := consoletest.Get(t, tab, "DLQ size", chromedp.Text(chromedp.ID("dlq-size"))); n != "1" {
		t.Errorf("DLQ size %q, want 1", n)
	}
	consoletest.Screenshot(t, tab, "overview-backlog")

	// The DLQ size opens the DLQ; a backlogged target's row opens its
	// rule and its own dead letters.
	consoletest.Do(t, tab, "open the DLQ from its size",
		chromedp.Click(chromedp.ID("dlq-link")),
		chromedp.WaitVisible(chromedp.ID("letters")))
	consoletest.Do(t, tab, "back to the overview", chromedp.Navigate(r.Console), chromedp.WaitVisible(chromedp.ID("backlogged")))
	if n := consoletest.Get(t, tab, "rule link", chromedp.Evaluate[int](`document.querySelectorAll('#backlogged a[href="/console/rules/default/stuck"]').length`)); n == 0 {
		t.Error("the backlogged row of stuck links to no rule page")
	}
	consoletest.Do(t, tab, "open the target's dead letters",
		chromedp.Click(chromedp.CSS(`#backlogged a[aria-label="Dead letters of stuck target nowhere"]`)),
		chromedp.WaitVisible(chromedp.ID("d-target")))
	for id, want := range map[string]string{"d-bus": "default", "d-rule": "stuck", "d-target": "nowhere"} {
		if v := consoletest.Get(t, tab, id, chromedp.Value(chromedp.ID(id))); v != want {
			t.Errorf("the DLQ page opened from the backlog has %s %q, want %q", id, v, want)
		}
	}
}
