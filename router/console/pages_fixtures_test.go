package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// testEvent is a CloudEvent of type typ with id id; its data carries
// sentAt, the time it was sent in ms since the epoch, for the tail's
// latency.
func testEvent(id, typ string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"console.test","type":%q,"subject":"res-%s","time":%q,"datacontenttype":"application/json","data":{"sentAt":%d,"principal":"alice"}}`,
		id, typ, id, time.Now().UTC().Format(time.RFC3339Nano), time.Now().UnixMilli())
}

// publishOn stores event on bus through POST /v1/events as admin.
func publishOn(t testing.TB, r *consoletest.Router, bus, event string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.URL+"/v1/events?bus="+bus, strings.NewReader(event))
	req.Header.Set("Authorization", "Bearer "+consoletest.AdminToken)
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("publish on %s: %d", bus, resp.StatusCode)
	}
}

// a11yJS lists the page's problems: form controls without a label, and
// the ids of the controls (and links in main) a Tab walk must reach.
const a11yJS = `(() => {
  const out = {Unlabelled: [], Focusable: []};
  for (const el of document.querySelectorAll("input, select, textarea, button")) {
    if (el.type === "hidden") continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label") || (el.tagName === "BUTTON" && el.textContent.trim());
    if (!named) out.Unlabelled.push(el.outerHTML.slice(0, 80));
    if (el.closest("main")) out.Focusable.push(el.outerHTML.slice(0, 60));
  }
  return out;
})()`

const activeJS = `document.activeElement ? document.activeElement.outerHTML.slice(0, 60) : ""`

type a11yReport struct{ Unlabelled, Focusable []string }

// checkAccessible fails the test if a form control of the page has no
// label, or one in main is not reached by pressing Tab.
func checkAccessible(t *testing.T, tab context.Context, page string) {
	t.Helper()
	rep := consoletest.Get(t, tab, page+": labels", chromedp.Evaluate[a11yReport](a11yJS))
	for _, u := range rep.Unlabelled {
		t.Errorf("%s: a control without a label: %s", page, u)
	}
	want := map[string]bool{}
	for _, f := range rep.Focusable {
		want[f] = true
	}
	reached := map[string]bool{}
	consoletest.Do(t, tab, page+": focus the top", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.scrollTo(0,0)`))
	for i := 0; i < 3*len(rep.Focusable)+40 && len(reached) < len(rep.Focusable); i++ {
		consoletest.Do(t, tab, page+": tab", chromedp.KeyEvent("\t"))
		el := consoletest.Get(t, tab, page+": focused", chromedp.Evaluate[string](activeJS))
		if want[el] {
			reached[el] = true
		}
	}
	for _, f := range rep.Focusable {
		if !reached[f] {
			t.Errorf("%s: Tab never reaches %s", page, f)
		}
	}
}

// apiCall sends body to the API as admin, failing the test unless it
// answers 2xx.
func apiCall(t testing.TB, r *consoletest.Router, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, r.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+consoletest.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
}

// measurePage logs what page cost the browser, for the console docs.
func measurePage(t *testing.T, tab context.Context, page string) {
	t.Helper()
	m := consoletest.Measure(t, tab)
	if m.HTMLBytes <= 0 {
		t.Errorf("%s: no HTML measured", page)
	}
	t.Logf("page weight %s: HTML %d B + JS/CSS %d B = %d B (%d B sent gzipped), first paint %.0f ms", page, m.HTMLBytes, m.AssetBytes, m.Total(), m.Wire(), m.FirstPaintMS)
}

// reloadUntil opens url again and again until the expression cond is
// true on it: for what the server does in the background (indexing,
// dead-lettering). The browser's timeout bounds it.
func reloadUntil(t *testing.T, tab context.Context, url, cond string) {
	t.Helper()
	for {
		consoletest.Do(t, tab, "open "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if consoletest.Get(t, tab, "check "+url, chromedp.Evaluate[bool](cond)) {
			return
		}
		consoletest.Do(t, tab, "wait", chromedp.Sleep(200*time.Millisecond))
	}
}
