package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
)

// publishDelivery stores a delivery for (deletes, target) straight on the
// deliveries stream, as a fan-out working with older rules (this router's
// before a swap, or another replica's) does.
func (e *env) publishDelivery(t *testing.T, target, id string) {
	t.Helper()
	m := nats.NewMsg(bus.DeliverySubject("default", "deletes", target))
	m.Data = []byte(fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"tke.cloud.tencent","type":"tke:CloudEvent:ApiCall"}`, id))
	m.Header.Set(bus.HeaderBus, "default")
	m.Header.Set(bus.HeaderRule, "deletes")
	m.Header.Set(bus.HeaderTarget, target)
	if _, err := e.ns.JS.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// switchable is a webhook answering 503 until ok is set, then 200,
// recording the bodies it took.
type switchable struct {
	*counter
	ok atomic.Bool
}

func newSwitchable(t *testing.T) *switchable {
	s := &switchable{counter: &counter{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if !s.ok.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

func withTarget(src, id string) string { return strings.Replace(src, "id: hook", "id: "+id, 1) }

// A delivery queued for a pair after its queue was retired (a fan-out
// that still matched with the old rules, or a replica that still runs
// them) is not stranded on a subject nobody reads: the running router
// finds it and dead-letters it.
func TestDeliveryAfterRetirementIsNotStranded(t *testing.T) {
	hook := newCounter(t, 200)
	e := startRouter(t, hookRule(hook.URL, "")+fmt.Sprintf("  - id: other\n    webhook: {url: %q, format: raw}\n", hook.URL))
	<-e.router.Started()
	setRules(t, e.router, withTarget(hookRule(hook.URL, ""), "other"))
	name := bus.QueueName("default", "deletes", "hook")
	waitFor(t, "the removed target's queue retired", func() bool {
		_, err := e.ns.JS.Consumer(context.Background(), bus.DeliveriesStream, name)
		return errors.Is(err, jetstream.ErrConsumerNotFound)
	})
	e.publishDelivery(t, "hook", "late")
	e.settled(t)
	dl := e.dlq(t, dispatch.DLQFilter{Target: "hook"})
	if len(dl) != 1 || dl[0].Reason != "target removed" || !strings.Contains(string(dl[0].Event), `"late"`) {
		t.Errorf("dead letters %+v, want the late delivery with reason target removed", dl)
	}
}

// Two replicas whose rules differ for a while (a rolling deploy): the
// one without a pair must not dead-letter the queue the other one still
// serves; once nobody serves it any more, it is drained.
func TestOrphanQueueAnotherReplicaServesIsNotDrained(t *testing.T) {
	hook := newSwitchable(t)
	with := hookRule(hook.URL, "    concurrency: 1\n")
	e := startRouter(t, with, dispatch.WithRemovedTargetGrace(200*time.Millisecond))
	e.publish(t, "o1", "o2", "o3", "o4", "o5")
	bustest.WaitSettled(t, e.ns.JS, bus.StreamName, dispatch.ConsumerName, 15*time.Second)
	waitFor(t, "the target failing", func() bool { return hook.requests.Load() >= 5 })

	// The second replica has no rule for (deletes, hook) and finds its queue on the bus.
	_, _ = e.replica(t, withTarget(hookRule(newCounter(t, 200).URL, ""), "other"))
	// Many grace periods and depth polls of the second replica.
	time.Sleep(2 * time.Second)
	if dl := e.dlq(t, dispatch.DLQFilter{Target: "hook"}); len(dl) != 0 {
		t.Fatalf("the replica without the rule dead-lettered %d deliveries another replica still serves (reason %q)", len(dl), dl[0].Reason)
	}
	hook.ok.Store(true)
	waitFor(t, "every delivery", func() bool { return len(hook.delivered()) == 5 })

	// The first replica goes (its rules now lack the pair too): what is
	// queued for the pair afterwards is drained by the second one.
	e.stop()
	e.publishDelivery(t, "hook", "after-owner-left")
	e.settled(t)
	dl := e.dlq(t, dispatch.DLQFilter{Target: "hook"})
	if len(dl) != 1 || dl[0].Reason != "target removed" {
		t.Errorf("dead letters %+v, want the one queued after the owner left", dl)
	}
}

// A pair that leaves the rules is paused for the grace period: back
// within it, its queue just resumes; not back, its deliveries are
// dead-lettered once the grace is over.
func TestRemovedTargetGrace(t *testing.T) {
	for _, tc := range []struct {
		name      string
		grace     time.Duration
		comesBack bool
		delivered int
		dead      int
	}{
		{"back within the grace resumes", time.Minute, true, 3, 0},
		{"not back is drained after the grace", 300 * time.Millisecond, false, 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := newSwitchable(t)
			with := hookRule(hook.URL, "")
			without := withTarget(hookRule(newCounter(t, 200).URL, ""), "other")
			e := startRouter(t, with, dispatch.WithRemovedTargetGrace(tc.grace))
			e.publish(t, "g1", "g2", "g3")
			bustest.WaitSettled(t, e.ns.JS, bus.StreamName, dispatch.ConsumerName, 15*time.Second)
			waitFor(t, "the target failing", func() bool { return hook.requests.Load() >= 3 })
			setRules(t, e.router, without)
			// Long enough for the queue to have dead-lettered everything
			// without the grace: the target keeps failing meanwhile.
			time.Sleep(time.Second)
			if tc.comesBack {
				if dl := e.dlq(t, dispatch.DLQFilter{Target: "hook"}); len(dl) != 0 {
					t.Fatalf("dead-lettered %d deliveries within the grace (reason %q)", len(dl), dl[0].Reason)
				}
				setRules(t, e.router, with)
			}
			hook.ok.Store(true)
			e.settled(t)
			dl := e.dlq(t, dispatch.DLQFilter{Target: "hook"})
			if got := len(hook.delivered()); got != tc.delivered || len(dl) != tc.dead {
				t.Errorf("delivered %d, dead letters %d; want %d and %d", got, len(dl), tc.delivered, tc.dead)
			}
			for _, d := range dl {
				if d.Reason != "target removed" {
					t.Errorf("reason %q", d.Reason)
				}
			}
		})
	}
}

// A consumer deleted under a running router (an operator's `nats
// consumer rm`) is recreated and its
// deliveries go on, without fanning out again what was already done.
func TestDeletedConsumerIsRecreated(t *testing.T) {
	for _, tc := range []struct {
		name, stream, consumer string
	}{
		{"deliveries consumer", bus.DeliveriesStream, bus.DeliveriesConsumer},
		{"events consumer", bus.StreamName, dispatch.ConsumerName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := newCounter(t, 200)
			reg := prometheus.NewRegistry()
			e := startRouter(t, hookRule(hook.URL, "    input: 'id'\n"), dispatch.WithRegisterer(reg))
			e.publish(t, "before")
			e.settled(t)
			// Let the depth poller see the settled state (every 50ms).
			time.Sleep(300 * time.Millisecond)
			if err := e.ns.JS.DeleteConsumer(context.Background(), tc.stream, tc.consumer); err != nil {
				t.Fatal(err)
			}
			e.publish(t, "after")
			waitFor(t, "the delivery after the deletion", func() bool { return len(hook.delivered()) >= 2 })
			e.settled(t)
			if got := hook.delivered(); len(got) != 2 || got[0] != "before" || got[1] != "after" {
				t.Errorf("delivered %q, want before and after once each", got)
			}
			if n := value(t, reg, "auditbus_router_events_total", map[string]string{"outcome": "acked"}); n != 2 {
				t.Errorf("events fanned out %v times, want 2: the recreated consumer matched old events again", n)
			}
		})
	}
}
