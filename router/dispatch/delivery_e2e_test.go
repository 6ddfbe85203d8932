package dispatch_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/sinks"
)

// replica starts another router on e's NATS server with its own rules,
// as a second `auditbus serve` would; stop ends its Run.
func (e *env) replica(t *testing.T, ruleYAML string, opts ...dispatch.Option) (r *dispatch.Router, stop func()) {
	t.Helper()
	r = dispatch.New(e.ns.JS, sinks.Deps{NATS: e.ns.NC, Stdout: io.Discard, Guard: sinks.NewGuard(true, nil)},
		append([]dispatch.Option{dispatch.WithBackoff(time.Millisecond, 20*time.Millisecond), dispatch.WithDepthInterval(50 * time.Millisecond),
			dispatch.WithShutdownGrace(200 * time.Millisecond), dispatch.WithRemovedTargetGrace(200 * time.Millisecond)}, opts...)...)
	setRules(t, r, ruleYAML)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("replica Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-r.Started():
	case <-time.After(15 * time.Second):
		t.Fatal("replica did not start")
	}
	return r, stop
}

// 429 and 503 with Retry-After are retried no sooner than the target
// asked.
func TestRetryAfterIsHonoured(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var mu sync.Mutex
			var at []time.Time
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				at = append(at, time.Now())
				first := len(at) == 1
				mu.Unlock()
				if first {
					w.Header().Set("Retry-After", "2")
					w.WriteHeader(status)
				}
			}))
			t.Cleanup(hook.Close)
			// The cap is above Retry-After: it would cut it otherwise.
			e := startRouter(t, hookRule(hook.URL, ""), dispatch.WithBackoff(time.Millisecond, time.Minute))
			e.publish(t, "ra")
			e.settled(t)
			mu.Lock()
			defer mu.Unlock()
			if len(at) != 2 {
				t.Fatalf("%d attempts, want 2", len(at))
			}
			if gap := at[1].Sub(at[0]); gap < 1900*time.Millisecond {
				t.Errorf("retried %s after a %d with Retry-After: 2", gap, status)
			}
		})
	}
}

// A target that always fails ends in the dead-letter queue once the
// event is older than its retry.max_age.
func TestMaxAgeEndsInTheDLQ(t *testing.T) {
	hook := newCounter(t, 500)
	e := startRouter(t, hookRule(hook.URL, "    retry: {max_age: 3s}\n"), dispatch.WithBackoff(100*time.Millisecond, 500*time.Millisecond))
	start := time.Now()
	e.publish(t, "old")
	e.settled(t)
	dl := e.dlq(t, dispatch.DLQFilter{Target: "hook"})
	if len(dl) != 1 || !strings.Contains(dl[0].Reason, "older than 3s") || dl[0].LastStatus != 500 {
		t.Fatalf("dead letters %+v, want one with reason older than 3s", dl)
	}
	// Age is checked when an attempt ends, so the last one may have
	// started a little before max_age; the dead letter may not.
	if d := dl[0]; d.DeadLetteredAt.Sub(d.EnqueuedAt) < 3*time.Second || time.Since(start) < 3*time.Second {
		t.Errorf("dead-lettered after %s (%s after it was stored), before max_age", time.Since(start), d.DeadLetteredAt.Sub(d.EnqueuedAt))
	}
}

// bodyCounter counts the deliveries it receives by body.
type bodyCounter struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newBodyCounter(t *testing.T) *bodyCounter {
	h := &bodyCounter{seen: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.seen[string(b)]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// counts returns a copy of the counts so far.
func (h *bodyCounter) counts() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.seen)
}

// Two routers with the same rules on one NATS server share every queue:
// every event of a batch arrives, and duplicates are rare.
func TestTwoRoutersDeliverEveryEvent(t *testing.T) {
	hook := newBodyCounter(t)
	src := hookRule(hook.URL, "    input: 'id'\n")
	e := startRouter(t, src)
	e.replica(t, src)
	const n = 300
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprint("two-", i))
	}
	e.publish(t, ids...)
	e.settled(t)
	seen := hook.counts()
	dups := 0
	for _, id := range ids {
		c := seen[id]
		if c == 0 {
			t.Errorf("event %s never delivered", id)
		}
		dups += max(c-1, 0)
	}
	t.Logf("%d events, %d distinct delivered, %d duplicates", n, len(seen), dups)
	if dups > n/20 {
		t.Errorf("%d duplicates for %d events: want (close to) once", dups, n)
	}
	if dl := e.dlq(t, dispatch.DLQFilter{}); len(dl) != 0 {
		t.Errorf("dead letters %+v", dl)
	}
}
