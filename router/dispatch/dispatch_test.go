package dispatch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

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

func startRouter(t *testing.T, ruleYAML string, opts ...dispatch.Option) *env {
	t.Helper()
	ns := bustest.Start(t, "")
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, ns.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	r := dispatch.New(ns.JS, sinks.Deps{NATS: ns.NC, Stdout: io.Discard, Guard: sinks.NewGuard(true, nil)}, append([]dispatch.Option{dispatch.WithBackoff(time.Millisecond)}, opts...)...)
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

func setRules(t *testing.T, r *dispatch.Router, src string) {
	t.Helper()
	if err := r.SetRules(context.Background(), compileRules(t, src)); err != nil {
		t.Fatal(err)
	}
}

func compileRules(t *testing.T, src string) *rules.Set {
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

// settled waits until every stored event is acknowledged (or terminated).
func (e *env) settled(t *testing.T) {
	t.Helper()
	bustest.WaitSettled(t, e.ns.JS, bus.StreamName, dispatch.ConsumerName, 15*time.Second)
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

func TestRetriesInPlaceThenDelivers(t *testing.T) {
	hook := newCounter(t, 503, 500, 200)
	e := startRouter(t, hookRule(hook.URL, ""))
	e.publish(t, "a")
	e.settled(t)
	if got := hook.requests.Load(); got != 3 || len(hook.delivered()) != 1 {
		t.Errorf("requests=%d delivered=%d, want 3 attempts and 1 delivery", got, len(hook.delivered()))
	}
}

func TestFailingTargetGetsEventBackFromTheBus(t *testing.T) {
	hook := newCounter(t, 503, 200)
	e := startRouter(t, hookRule(hook.URL, ""), dispatch.WithAttempts(1))
	e.publish(t, "a")
	e.settled(t)
	c, err := e.ns.JS.Consumer(context.Background(), bus.StreamName, dispatch.ConsumerName)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := c.Info(context.Background())
	if hook.requests.Load() != 2 || len(hook.delivered()) != 1 || info.Delivered.Consumer != 2 {
		t.Errorf("requests=%d delivered=%d consumer deliveries=%d; want the event redelivered once by JetStream",
			hook.requests.Load(), len(hook.delivered()), info.Delivered.Consumer)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	hook := newCounter(t, 400)
	e := startRouter(t, hookRule(hook.URL, ""))
	e.publish(t, "a")
	e.settled(t)
	time.Sleep(100 * time.Millisecond)
	if got := hook.requests.Load(); got != 1 {
		t.Errorf("a 400 was tried %d times, want once", got)
	}
}

func TestPoisonMessageIsTerminatedAndOthersFlow(t *testing.T) {
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

func TestGivesUpAfterMaxDeliveries(t *testing.T) {
	hook := newCounter(t, 500)
	e := startRouter(t, hookRule(hook.URL, ""), dispatch.WithAttempts(1), dispatch.WithGiveUp(2, time.Hour))
	e.publish(t, "doomed")
	e.settled(t)
	time.Sleep(100 * time.Millisecond)
	if got := hook.requests.Load(); got != 2 {
		t.Errorf("target tried %d times, want 2 (one per delivery, then given up)", got)
	}
}

func TestSetRulesAfterStopIsRefused(t *testing.T) {
	e := startRouter(t, hookRule("http://127.0.0.1:1/", ""))
	e.stop()
	if err := e.router.SetRules(context.Background(), compileRules(t, hookRule("http://127.0.0.1:2/", ""))); err != dispatch.ErrStopped {
		t.Errorf("SetRules after stop = %v, want ErrStopped", err)
	}
}
