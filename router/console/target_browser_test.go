package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestBrowserEnableTarget: a target that answered 410 Gone shows as
// disabled on the overview and its rule's page, and the Enable button
// there resumes its deliveries.
func TestBrowserEnableTarget(t *testing.T) {
	var gone atomic.Bool
	gone.Store(true)
	var delivered atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
			return
		}
		delivered.Add(1)
	}))
	t.Cleanup(hook.Close)
	r := consoletest.Start(t, consoletest.Options{Rules: []string{fmt.Sprintf(`name: to-gone
pattern: {}
targets:
  - id: gone
    webhook: {url: %q}
`, hook.URL)}})
	publish(t, r, createCluster)
	tab := consoletest.Browser(t)
	consoletest.SignIn(t, tab, r, consoletest.AdminToken)

	// The overview polls itself until the 410 has disabled the target.
	consoletest.Do(t, tab, "wait for the held target on the overview",
		chromedp.Navigate(r.Console),
		chromedp.WaitVisible(chromedp.ID("held")))
	if row := consoletest.Get(t, tab, "held", chromedp.Text(chromedp.CSS("#held tbody"))); !strings.Contains(row, "disabled") || !strings.Contains(row, "410") {
		t.Errorf("held row %q, want the target disabled by HTTP 410", row)
	}
	consoletest.Do(t, tab, "open the rule", chromedp.Click(chromedp.CSS(`#held a[href="/console/rules/default/to-gone"]`)),
		chromedp.WaitVisible(chromedp.ID("enable-gone")))
	consoletest.Screenshot(t, tab, "rule-held")

	gone.Store(false)
	consoletest.Do(t, tab, "enable the target",
		chromedp.Click(chromedp.ID("enable-gone")),
		chromedp.WaitNotPresent(chromedp.ID("enable-gone")),
		chromedp.WaitVisible(chromedp.ID("targets")))
	if state := consoletest.Get(t, tab, "state", chromedp.Text(chromedp.CSS("#targets tbody td:nth-child(3)"))); strings.TrimSpace(state) != "delivering" {
		t.Errorf("after Enable the target is %q", state)
	}
	deadline := time.Now().Add(30 * time.Second)
	for delivered.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if delivered.Load() == 0 {
		t.Error("the held delivery never reached the enabled target")
	}
}
