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

// failingHook is a webhook receiver that refuses every delivery with 400
// (not retried: the delivery dead-letters at once) until fixed.
type failingHook struct {
	fixed     atomic.Bool
	delivered atomic.Int64
}

func (h *failingHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.fixed.Load() {
		http.Error(w, "bad request: not today", http.StatusBadRequest)
		return
	}
	h.delivered.Add(1)
}

// hookRule sends console.test.match events to url.
func hookRule(url string) string {
	return fmt.Sprintf("name: to-hook\npattern:\n  type: [console.test.match]\ntargets:\n  - id: hook\n    webhook: {url: %q, format: raw}\n", url)
}

// TestBrowserDLQRedrive: a delivery the target refuses is listed with the
// target's answer; after the target is fixed, redriving it from the page
// delivers it and empties the list.
func TestBrowserDLQRedrive(t *testing.T) {
	hook := &failingHook{}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	r := consoletest.Start(t, consoletest.Options{Rules: []string{hookRule(srv.URL)}})
	publishOn(t, r, "default", testEvent("dead-1", "console.test.match"))

	tab := consoletest.Browser(t)
	consoletest.SignIn(t, tab, r, consoletest.AdminToken)
	reloadUntil(t, tab, r.Console+"dlq", `!!document.querySelector("#letters")`)
	answer := consoletest.Get(t, tab, "answer", chromedp.Text(chromedp.CSS("#letters td.answer")))
	if !strings.Contains(answer, "the target answered 400") {
		t.Errorf("last answer %q: want the target's 400", answer)
	}
	consoletest.Do(t, tab, "open the event", chromedp.Click(chromedp.CSS("#letters details summary")))
	if ev := consoletest.Get(t, tab, "event", chromedp.Text(chromedp.CSS("#letters details pre"))); !strings.Contains(ev, `"dead-1"`) {
		t.Errorf("the dead letter's event %q: want the original event", ev)
	}
	consoletest.CheckPage(t, tab, "dlq")

	hook.fixed.Store(true)
	consoletest.Do(t, tab, "redrive it",
		chromedp.Click(chromedp.CSS(`#letters button[aria-label^="Redrive dead letter"]`)),
		chromedp.WaitVisible(chromedp.ID("redriven")))
	if msg := consoletest.Get(t, tab, "redriven", chromedp.Text(chromedp.ID("redriven"))); !strings.Contains(msg, "Redriven: 1 ") {
		t.Errorf("after the redrive: %q", msg)
	}
	reloadUntil(t, tab, r.Console+"dlq", `!!document.querySelector("#no-letters")`)
	for hook.delivered.Load() == 0 {
		consoletest.Do(t, tab, "wait for the delivery", chromedp.Sleep(100*time.Millisecond))
	}
}
