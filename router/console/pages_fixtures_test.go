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
