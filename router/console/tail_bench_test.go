package console_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// arrivalsJS is every shown entry's event id and arrival time (ms since
// the epoch, as static/tail.js records it).
const arrivalsJS = `Array.from(document.querySelectorAll("#tail-events li")).map(li => ({ID: li.dataset.id, At: parseFloat(li.dataset.arrived)}))`

type arrival struct {
	ID string
	At float64
}

// BenchmarkTailLatency publishes b.N events at 100 events/s over the API
// and reports the live tail's latency from each POST's answer (ingest
// accepted) to the event in the browser's DOM: p50 and p99, in ms.
//
//	go test -run '^$' -bench TailLatency -benchtime 1000x ./router/console
func BenchmarkTailLatency(b *testing.B) {
	r := consoletest.Start(b, consoletest.Options{})
	tab := consoletest.Browser(b)
	consoletest.SignIn(b, tab, r, consoletest.AdminToken)
	consoletest.Do(b, tab, "open the tail",
		chromedp.Navigate(r.Console+"tail?pattern="+strings.ReplaceAll(`type: ["console.bench"]`, " ", "+")),
		chromedp.Poll[chromedp.Void](`document.getElementById("tail-status").textContent.startsWith("Following")`))
	accepted := make(map[string]time.Time, b.N)
	arrived := map[string]float64{}
	harvest := func() {
		for _, a := range consoletest.Get(b, tab, "arrivals", chromedp.Evaluate[[]arrival](arrivalsJS)) {
			arrived[a.ID] = a.At
		}
	}
	client := &http.Client{}
	tick := time.NewTicker(10 * time.Millisecond) // 100 events/s
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		id := fmt.Sprintf("bench-%d", i)
		publishWith(b, client, r, testEvent(id, "console.bench"))
		accepted[id] = time.Now()
		if i%100 == 99 { // well inside the page's 200 shown at 100/s
			harvest()
		}
	}
	for len(arrived) < b.N {
		harvest()
		if len(arrived) < b.N && consoletest.Get(b, tab, "newest", chromedp.Evaluate[string](`document.querySelector("#tail-events li") ? document.querySelector("#tail-events li").dataset.id : ""`)) == fmt.Sprintf("bench-%d", b.N-1) {
			break // the newest arrived: the rest were dropped or scrolled off
		}
	}
	b.StopTimer()
	var ms []float64
	for id, at := range accepted {
		if a, ok := arrived[id]; ok {
			ms = append(ms, a-float64(at.UnixNano())/1e6)
		}
	}
	if len(ms) == 0 {
		b.Fatal("no event reached the page")
	}
	slices.Sort(ms)
	b.ReportMetric(ms[len(ms)/2], "ms-p50")
	b.ReportMetric(ms[min(len(ms)-1, len(ms)*99/100)], "ms-p99")
	b.ReportMetric(float64(len(ms))/float64(b.N), "shown/sent")
}

// publishWith is publishOn for a benchmark's own client.
func publishWith(b *testing.B, c *http.Client, r *consoletest.Router, event string) {
	req, _ := http.NewRequest(http.MethodPost, r.URL+"/v1/events", strings.NewReader(event))
	req.Header.Set("Authorization", "Bearer "+consoletest.AdminToken)
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b.Fatalf("publish: %d", resp.StatusCode)
	}
}
