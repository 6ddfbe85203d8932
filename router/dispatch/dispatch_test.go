package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// env is a running router over a real JetStream.
type env struct {
	ns     *bustest.Server
	router *dispatch.Router
	stop   func()
}

func startRouter(t testing.TB, ruleYAML string, opts ...dispatch.Option) *env {
	t.Helper()
	ns := bustest.Start(t, "")
	return startOn(t, ns, sinks.Deps{NATS: ns.NC, Stdout: io.Discard, Guard: sinks.NewGuard(true, nil)}, ruleYAML, opts...)
}

// startOn runs a router on ns with deps: a second one on the same server
// is another replica.
func startOn(t testing.TB, ns *bustest.Server, deps sinks.Deps, ruleYAML string, opts ...dispatch.Option) *env {
	t.Helper()
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, ns.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	r := dispatch.New(ns.JS, deps, append([]dispatch.Option{dispatch.WithBackoff(time.Millisecond, 20*time.Millisecond), dispatch.WithDepthInterval(50 * time.Millisecond),
		dispatch.WithShutdownGrace(200 * time.Millisecond), dispatch.WithRemovedTargetGrace(200 * time.Millisecond)}, opts...)...)
	setRules(t, r, ruleYAML)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	e := &env{ns: ns, router: r}
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(e.stop)
	return e
}

func setRules(t testing.TB, r *dispatch.Router, src string) {
	t.Helper()
	if err := r.SetRules(context.Background(), compileRules(t, src)); err != nil {
		t.Fatal(err)
	}
}

func compileRules(t testing.TB, src string) *rules.Set {
	t.Helper()
	parsed, err := rules.ParseFile("test.yaml", []byte(src), rules.WithTargetCheck(sinks.Check))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.Compile(parsed)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func (e *env) publish(t *testing.T, ids ...string) {
	t.Helper()
	var events []event.Event
	for _, id := range ids {
		ev := event.New()
		ev.SetID(id)
		ev.SetSource("tke.cloud.tencent")
		ev.SetType("tke:CloudEvent:ApiCall")
		ev.SetSubject("cls-" + id)
		if err := ev.SetData(event.ApplicationJSON, map[string]any{"eventName": "DeleteCluster"}); err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	if _, err := bus.NewPublisher(e.ns.JS).Publish(context.Background(), "default", events); err != nil {
		t.Fatal(err)
	}
}

// settled waits until every stored event is fanned out and every queued
// delivery settled: delivered or dead-lettered (WorkQueue retention drops
// a delivery once acknowledged).
func (e *env) settled(t *testing.T) {
	t.Helper()
	bustest.WaitSettled(t, e.ns.JS, bus.StreamName, dispatch.ConsumerName, 15*time.Second)
	waitFor(t, "deliveries stream empty", func() bool {
		s, err := e.ns.JS.Stream(context.Background(), bus.DeliveriesStream)
		if err != nil {
			return false
		}
		info, err := s.Info(context.Background())
		return err == nil && info.State.Msgs == 0
	})
}

// waitFor polls cond until it holds, failing the test after 15s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) dlq(t *testing.T, f dispatch.DLQFilter) []dispatch.DeadLetter {
	t.Helper()
	page, err := e.router.ListDLQ(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return page.Entries
}

// counter is a webhook answering statuses[i] to its i-th request (the last
// one forever after), recording bodies of 2xx requests.
type counter struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	bodies   []string
}

func newCounter(t *testing.T, statuses ...int) *counter {
	c := &counter{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(c.requests.Add(1)) - 1
		code := statuses[min(n, len(statuses)-1)]
		if code < 300 {
			b, _ := io.ReadAll(r.Body)
			c.mu.Lock()
			c.bodies = append(c.bodies, string(b))
			c.mu.Unlock()
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *counter) delivered() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bodies...)
}

func hookRule(url, extra string) string {
	return fmt.Sprintf("name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n  - id: hook\n    webhook: {url: %q, format: raw}\n%s", url, extra)
}

func TestRetriesThenDelivers(t *testing.T) {
	hook := newCounter(t, 503, 500, 200)
	e := startRouter(t, hookRule(hook.URL, ""))
	e.publish(t, "a")
	e.settled(t)
	if got := hook.requests.Load(); got != 3 || len(hook.delivered()) != 1 {
		t.Errorf("requests=%d delivered=%d, want 3 attempts and 1 delivery", got, len(hook.delivered()))
	}
	if dl := e.dlq(t, dispatch.DLQFilter{}); len(dl) != 0 {
		t.Errorf("dead letters %+v, want none", dl)
	}
}

func TestTargetDownForAWhileGetsEverythingAfter(t *testing.T) {
	var got sync.Map
	var count atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if _, dup := got.LoadOrStore(string(b), true); !dup {
			count.Add(1)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused
	reg := prometheus.NewRegistry()
	e := startRouter(t, hookRule("http://"+addr+"/", "    input: 'id'\n"), dispatch.WithRegisterer(reg))
	var ids []string
	for i := range 50 {
		ids = append(ids, fmt.Sprint("down-", i))
	}
	e.publish(t, ids...)
	bustest.WaitSettled(t, e.ns.JS, bus.StreamName, dispatch.ConsumerName, 15*time.Second)
	waitFor(t, "failed attempts", func() bool { return retried(t, reg) >= 50 })
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("reopen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	waitFor(t, "every event delivered", func() bool { return count.Load() == 50 || len(e.dlq(t, dispatch.DLQFilter{})) > 0 })
	e.settled(t)
	if dl := e.dlq(t, dispatch.DLQFilter{}); len(dl) != 0 || count.Load() != 50 {
		t.Errorf("%d delivered, %d dead letters (%+v); want 50 and none", count.Load(), len(dl), dl)
	}
}

// retried counts the deliveries scheduled for a retry so far.
func retried(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	return int(value(t, reg, "auditbus_target_deliveries_total", map[string]string{"outcome": "retried"}))
}

func TestHangingTargetDoesNotSlowAnother(t *testing.T) {
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
	healthy := newCounter(t, 200)
	src := hookRule(healthy.URL, "") + fmt.Sprintf("  - id: hang\n    webhook: {url: %q, format: raw, timeout: 1m}\n    concurrency: 3\n", hang.URL)
	reg := prometheus.NewRegistry()
	e := startRouter(t, src, dispatch.WithRegisterer(reg))
	var ids []string
	for i := range 200 {
		ids = append(ids, fmt.Sprint("h-", i))
	}
	e.publish(t, ids...)
	// Every delivery to the healthy target arrives while the other target
	// holds every one of its workers.
	waitFor(t, "healthy target served", func() bool { return len(healthy.delivered()) == 200 })
	// The hanging target holds exactly its concurrency, and the rest of its
	// deliveries wait in its queue, which the depth gauge shows.
	waitFor(t, "queue depth of the hanging target", func() bool {
		return gauge(t, reg, "auditbus_target_queue_depth", "hang") == 200 &&
			gauge(t, reg, "auditbus_target_queue_depth", "hook") == 0
	})
	if n := hanging.Load(); n != 3 {
		t.Errorf("%d requests in flight to the hanging target, want its concurrency, 3", n)
	}
}

// value reads the series of reg named name whose labels include want;
// -1 when absent.
func TestPoisonMessageIsDeadLetteredAndOthersFlow(t *testing.T) {
	hook := newCounter(t, 200)
	e := startRouter(t, hookRule(hook.URL, ""))
	if _, err := e.ns.JS.Publish(context.Background(), "auditbus.events.default._._._", []byte("not a cloudevent")); err != nil {
		t.Fatal(err)
	}
	e.publish(t, "after-poison")
	e.settled(t)
	if got := hook.delivered(); len(got) != 1 {
		t.Errorf("delivered %v, want the valid event", got)
	}
	c, _ := e.ns.JS.Consumer(context.Background(), bus.StreamName, dispatch.ConsumerName)
	if info, _ := c.Info(context.Background()); info.Delivered.Stream != 2 || info.NumRedelivered != 0 {
		t.Errorf("consumer %+v: poison must be terminated, not redelivered", info.Delivered)
	}
	if dl := e.dlq(t, dispatch.DLQFilter{}); len(dl) != 1 || dl[0].Reason != dispatch.ReasonUnreadable {
		t.Errorf("dead letters %+v, want the poison's", dl)
	}
}

func TestInputBuildsPayload(t *testing.T) {
	hook := newCounter(t, 200)
	e := startRouter(t, hookRule(hook.URL, `    input: '{"cluster": subject, "what": data.eventName}'`))
	e.publish(t, "x1")
	e.settled(t)
	if got := hook.delivered(); len(got) != 1 || got[0] != `{"cluster":"cls-x1","what":"DeleteCluster"}` {
		t.Errorf("delivered %q", got)
	}
}

func TestSetRulesSwapsWhileRunning(t *testing.T) {
	first, second := newCounter(t, 200), newCounter(t, 200)
	e := startRouter(t, hookRule(first.URL, ""))
	e.publish(t, "before")
	e.settled(t)
	setRules(t, e.router, hookRule(second.URL, ""))
	e.publish(t, "after")
	e.settled(t)
	if len(first.delivered()) != 1 || len(second.delivered()) != 1 || e.router.Rules().Len() != 1 {
		t.Errorf("first=%d second=%d, want one event each side of the swap", len(first.delivered()), len(second.delivered()))
	}
}

func TestRunTwiceIsRefused(t *testing.T) {
	e := startRouter(t, hookRule("http://127.0.0.1:1/", ""))
	e.stop()
	if err := e.router.Run(context.Background()); err != dispatch.ErrStopped {
		t.Errorf("second Run = %v, want ErrStopped", err)
	}
}

func TestSetRulesAfterStopIsRefused(t *testing.T) {
	e := startRouter(t, hookRule("http://127.0.0.1:1/", ""))
	e.stop()
	if err := e.router.SetRules(context.Background(), compileRules(t, hookRule("http://127.0.0.1:2/", ""))); err != dispatch.ErrStopped {
		t.Errorf("SetRules after stop = %v, want ErrStopped", err)
	}
}

func TestGoneTargetIsDisabledUntilEnabled(t *testing.T) {
	hook := newCounter(t, 410, 200)
	e := startRouter(t, hookRule(hook.URL, ""), dispatch.WithConcurrency(1))
	e.publish(t, "g1", "g2", "g3")
	waitFor(t, "target disabled", func() bool { return e.router.TargetState("default", "deletes", "hook").Disabled })
	kv, err := e.ns.JS.KeyValue(context.Background(), dispatch.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(context.Background(), "default.deletes.hook"); err != nil {
		t.Errorf("disabled state not persisted: %v", err)
	}
	bustest.WaitSettled(t, e.ns.JS, bus.StreamName, dispatch.ConsumerName, 15*time.Second)
	if n := hook.requests.Load(); n != 1 || len(hook.delivered()) != 0 {
		t.Errorf("requests=%d delivered=%d while disabled, want the one 410", n, len(hook.delivered()))
	}
	if err := e.router.EnableTarget(context.Background(), "default", "deletes", "hook"); err != nil {
		t.Fatal(err)
	}
	e.settled(t)
	if got := len(hook.delivered()); got != 3 {
		t.Errorf("delivered %d after enabling, want 3", got)
	}
	if dl := e.dlq(t, dispatch.DLQFilter{}); len(dl) != 0 {
		t.Errorf("dead letters %+v, want none: a 410 keeps deliveries queued", dl)
	}
	if err := e.router.EnableTarget(context.Background(), "default", "deletes", "nope"); !errors.Is(err, dispatch.ErrNoSuchTarget) {
		t.Errorf("EnableTarget of a missing target = %v", err)
	}
}

func TestRateLimitSpacesDeliveries(t *testing.T) {
	hook := newCounter(t, 200)
	e := startRouter(t, hookRule(hook.URL, "    rate: {per_second: 50, burst: 1}\n"))
	start := time.Now()
	e.publish(t, "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10")
	waitFor(t, "all delivered", func() bool { return len(hook.delivered()) == 11 })
	// 11 deliveries at 50/s with a burst of 1 need at least 10 intervals
	// of 20ms; only a lower bound is safe to assert.
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("11 deliveries took %s, want at least 200ms at 50/s", took)
	}
}

// TestStrandedDeliveriesAreDrained: deliveries on a subject no queue reads
// (queued by a replica with older rules after this one retired the target)
// are dead-lettered by the next router to start, not left on the bus.

// TestRetryingDeliveryDoesNotStallItsQueue: a delivery waiting an hour for
// its retry must not hold back the target's other deliveries, although
// JetStream counts it as pending.
func TestRetryingDeliveryDoesNotStallItsQueue(t *testing.T) {
	var mu sync.Mutex
	var good []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) == "bad" {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		good = append(good, string(b))
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	e := startRouter(t, hookRule(hook.URL, "    input: 'id'\n    concurrency: 1\n"), dispatch.WithBackoff(time.Millisecond, time.Hour))
	e.publish(t, "bad")
	e.publish(t, "g1", "g2", "g3")
	waitFor(t, "the other deliveries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(good) == 3
	})
}
