package dispatch_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/auditbus/auditbus/router/dispatch"
)

// A target that is saturated but healthy (every slot busy, each request
// done in a millisecond) gets a burst far above its concurrency, and four
// times the in-process wait room of a hanging target, from the fan-out
// and the shared consumer as its slots free up: none of it is parked on
// its backlog (no extra write, no drain), and each event arrives once.
func TestSaturatedHealthyTargetIsNotParked(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		mu.Lock()
		seen[r.Header.Get("Ce-Id")]++
		mu.Unlock()
	}))
	t.Cleanup(slow.Close)
	src := fmt.Sprintf("name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n"+
		"  - id: slow\n    webhook: {url: %q}\n    concurrency: 4\n", slow.URL)
	reg := prometheus.NewRegistry()
	e := startRouter(t, src, dispatch.WithRegisterer(reg))
	const n = 4 * 32
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprint("s-", i))
	}
	e.publish(t, ids...)
	e.settled(t)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Errorf("%d events delivered, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("event %s delivered %d times, want once", id, k)
		}
	}
	if p := value(t, reg, "auditbus_target_deliveries_total", map[string]string{"target": "slow", "outcome": "parked"}); p > 0 {
		t.Errorf("%v deliveries of a healthy target parked, want none", p)
	}
}
