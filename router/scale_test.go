package router_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// TestTenThousandTargetsServe runs 10,000 (rule, target) pairs on the
// embedded server's defaults, which allow 1,000 consumers per stream: the
// server starts, a sample of the pairs gets its deliveries, and a target
// that hangs among them (in the rule most events match) slows none of the
// others. Targets cost no JetStream consumer: the deliveries stream has
// the shared one, and at most the hanging target's backlog.
func TestTenThousandTargetsServe(t *testing.T) {
	const rules, perRule = 1000, 10
	release := make(chan struct{})
	var hanging atomic.Int64
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hanging.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	hook := newWebhook(t, nil)
	var b strings.Builder
	for i := range rules {
		fmt.Fprintf(&b, "---\nname: r%d\npattern:\n  data:\n    eventName: [E%d]\ntargets:\n", i, i)
		for j := range perRule {
			url, extra := fmt.Sprintf("%s/r%d/t%d", hook.URL, i, j), ""
			if i == 0 && j == 0 {
				url, extra = hang.URL, "\n    concurrency: 2"
			}
			fmt.Fprintf(&b, "  - id: t%d\n    webhook: {url: %q, timeout: 1m}%s\n", j, url, extra)
		}
	}
	s := start(t, t.TempDir(), nil, writeRules(t, b.String()))
	// 30 events for the rule with the hanging target, one for each of 50
	// other rules spread over the set.
	want := map[string]int{}
	for k := range 30 {
		id := fmt.Sprint("hot-", k)
		sendEvent(t, s, id, "E0")
		want[id] = perRule - 1
	}
	for k := range 50 {
		id := fmt.Sprint("sample-", k)
		sendEvent(t, s, id, fmt.Sprint("E", 1+k*19))
		want[id] = perRule
	}
	waitFor(t, "every healthy target of the sample served while one hangs", func() (bool, string) {
		got := hook.ids()
		for id, n := range want {
			if got[id] != n {
				return false, fmt.Sprintf("%s: %d of %d", id, got[id], n)
			}
		}
		return true, ""
	})
	if n := hanging.Load(); n != 2 {
		t.Errorf("%d requests in flight to the hanging target, want its concurrency, 2", n)
	}
	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(context.Background(), bus.DeliveriesStream)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range st.ListConsumers(context.Background()).Info() {
		n++
	}
	if n > 2 {
		t.Errorf("%d consumers on %s for %d targets, want the shared one and at most one backlog", n, bus.DeliveriesStream, rules*perRule)
	}
}
