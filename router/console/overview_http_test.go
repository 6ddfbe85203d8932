package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// dlqSizeRE reads the overview's DLQ size.
var dlqSizeRE = regexp.MustCompile(`id="dlq-size">([^<]*)<`)

// TestOverviewDLQSizePerBus: an identity limited to bus prod is shown
// prod's dead letters only, counted from the DLQ stream's per-subject
// counts, and an identity of every bus all of them; the size links to
// the DLQ page.
func TestOverviewDLQSizePerBus(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	t.Cleanup(hook.Close)
	r := consoletest.Start(t, consoletest.Options{Rules: []string{hookRule(hook.URL), "bus: prod\n" + hookRule(hook.URL)}})
	for i := range 3 {
		publishOn(t, r, "prod", testEvent(fmt.Sprintf("prod-%d", i), "console.test.match"))
	}
	publishOn(t, r, "default", testEvent("default-1", "console.test.match"))

	admin, prod := client(t), client(t)
	signIn(t, admin, r, consoletest.AdminToken)
	signIn(t, prod, r, consoletest.ProdToken)
	size := func(c *http.Client) string {
		_, _, page := call(t, c, http.MethodGet, r.Console, nil, "")
		if !strings.Contains(page, `<a href="/console/dlq" id="dlq-link">`) {
			t.Fatalf("the overview's DLQ size links nowhere:\n%s", page)
		}
		m := dlqSizeRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no DLQ size on the overview:\n%s", page)
		}
		return m[1]
	}
	for size(admin) != "4" { // dead-lettering is the router's, in the background
		time.Sleep(50 * time.Millisecond)
	}
	if got := size(prod); got != "3" {
		t.Errorf("DLQ size for an identity of bus prod: %q, want 3 (prod's letters only)", got)
	}
}

// TestRecentEventsOfBus: the tester offers an identity limited to bus
// prod prod's newest events even when many more of other buses came
// after them (it reads only prod's, not the stream's newest).
func TestRecentEventsOfBus(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	for i := range 3 {
		publishOn(t, r, "prod", testEvent(fmt.Sprintf("prod-%d", i), "console.test.prod"))
	}
	for i := range 150 {
		publishOn(t, r, "default", testEvent(fmt.Sprintf("default-%d", i), "console.test.other"))
	}
	prod := client(t)
	signIn(t, prod, r, consoletest.ProdToken)
	_, _, page := call(t, prod, http.MethodGet, r.Console+"tester", nil, "")
	if n := strings.Count(page, "<td>console.test.prod</td>"); n != 3 {
		t.Errorf("the tester offers bus prod's identity %d of prod's 3 events, want 3:\n%s", n, page)
	}
	if strings.Contains(page, "console.test.other") {
		t.Error("the tester offers bus prod's identity an event of bus default")
	}
	admin := client(t)
	signIn(t, admin, r, consoletest.AdminToken)
	_, _, page = call(t, admin, http.MethodGet, r.Console+"tester", nil, "")
	if n := strings.Count(page, "<td>console.test.other</td>"); n != 10 {
		t.Errorf("the tester offers an identity of every bus %d events, want the newest 10", n)
	}
}

// TestIngestRateFromStart: the console samples the ingest counter from
// the server's start, so the first view of the overview, a second or
// more later, already shows a rate.
func TestIngestRateFromStart(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	publishOn(t, r, "default", testEvent("one", "console.test.match"))
	time.Sleep(1100 * time.Millisecond) // the rate needs samples a second apart
	admin := client(t)
	signIn(t, admin, r, consoletest.AdminToken)
	_, _, page := call(t, admin, http.MethodGet, r.Console, nil, "")
	if strings.Contains(page, "measuring") || !strings.Contains(page, " events/s</span>") {
		t.Errorf("the first view of the overview has no ingest rate:\n%s", page)
	}
}
