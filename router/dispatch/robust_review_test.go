package dispatch_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/sinks"
)

// The events consumer deleted under a running router before the depth
// poller first read its ack floor (the first depthInterval after Run) is
// recreated after the floor Open saw, not from the stream's beginning:
// events fanned out before this router started are not fanned out again
// (beyond the deliveries' duplicate window that would deliver them twice).
// Events since the start are, at most a poll interval's worth, which the
// duplicate window covers as long as it is longer than the interval.
func TestEventsConsumerRecreatedBeforeFirstFloorPoll(t *testing.T) {
	hook := newCounter(t, 200)
	first := startRouter(t, hookRule(hook.URL, "    input: 'id'\n"))
	first.publish(t, "before")
	first.settled(t)
	first.stop()
	reg := prometheus.NewRegistry()
	ns := first.ns
	e := startOn(t, ns, sinks.Deps{NATS: ns.NC, Stdout: io.Discard, Guard: sinks.NewGuard(true, nil)},
		hookRule(hook.URL, "    input: 'id'\n"), dispatch.WithRegisterer(reg),
		dispatch.WithDepthInterval(time.Hour)) // the poller has not run yet
	select {
	case <-e.router.Started():
	case <-time.After(15 * time.Second):
		t.Fatal("router did not start")
	}
	// Stand-in for "the event is older than --dedup-window": shrink the
	// deliveries stream's duplicate window and let it pass.
	ctx := context.Background()
	s, err := e.ns.JS.Stream(ctx, bus.DeliveriesStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.Duplicates = 200 * time.Millisecond
	if _, err := e.ns.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if err := e.ns.JS.DeleteConsumer(ctx, bus.StreamName, dispatch.ConsumerName); err != nil {
		t.Fatal(err)
	}
	e.publish(t, "after")
	waitFor(t, "the delivery after the deletion", func() bool { return len(hook.delivered()) >= 2 })
	time.Sleep(500 * time.Millisecond)
	e.settled(t)
	if got := hook.delivered(); len(got) != 2 {
		t.Errorf("delivered %q, want before and after once each", got)
	}
	if n := value(t, reg, "auditbus_router_events_total", map[string]string{"outcome": "acked"}); n != 1 {
		t.Errorf("events fanned out %v times by the second router, want 1: the recreated consumer started from the beginning of the stream", n)
	}
}

// A replica whose rules lack a pair (rolling deploy) may drain the queue
// of a target another replica still has but holds after a 410 (the
// README's documented limitation); its retirement must not erase the
// target's state in the shared bucket, or the replica that still has the
// target would resume sending to it without any operator enabling it.
func TestRetirementByAnotherReplicaKeepsA410(t *testing.T) {
	hook := newCounter(t, 410, 200)
	e := startRouter(t, hookRule(hook.URL, ""), dispatch.WithConcurrency(1))
	e.publish(t, "g1")
	waitFor(t, "target disabled", func() bool { return e.router.TargetState("default", "deletes", "hook").Disabled })
	e.settled0(t)

	_, stopB := e.replica(t, withTarget(hookRule(newCounter(t, 200).URL, ""), "other"))
	name := bus.QueueName("default", "deletes", "hook")
	waitFor(t, "replica B retired the queue", func() bool {
		_, err := e.ns.JS.Consumer(context.Background(), bus.DeliveriesStream, name)
		return err != nil
	})
	time.Sleep(time.Second) // B's retirement goes on after deleting the consumer
	stopB()
	if !e.router.TargetState("default", "deletes", "hook").Disabled {
		t.Errorf("the target that answered 410 is no longer disabled on the replica that still has it")
	}
	e.publish(t, "g2")
	time.Sleep(2 * time.Second)
	if n := hook.requests.Load(); n != 1 {
		t.Errorf("the 410 target got %d requests without being enabled, want the one 410", n)
	}
}

func (e *env) settled0(t *testing.T) {
	t.Helper()
	bustest.WaitSettled(t, e.ns.JS, bus.StreamName, dispatch.ConsumerName, 15*time.Second)
}

// The events stream deleted and created again under a running router (an
// operator's `nats stream rm`; the next `auditbus serve` to start creates
// it again, sequences from 1): the recreated events consumer starts at the
// new stream's beginning, not at the old stream's ack floor, so no event
// of the new stream is acknowledged to its sender and never fanned out.
func TestEventsStreamRecreatedDeliversNewEvents(t *testing.T) {
	hook := newCounter(t, 200)
	e := startRouter(t, hookRule(hook.URL, "    input: 'id'\n"))
	var ids []string
	for i := range 20 {
		ids = append(ids, fmt.Sprint("old-", i))
	}
	e.publish(t, ids...)
	e.settled(t)
	time.Sleep(300 * time.Millisecond) // the depth poller reads the floor (every 50ms)
	ctx := context.Background()
	if err := e.ns.JS.DeleteStream(ctx, bus.StreamName); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.EnsureStream(ctx, e.ns.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // let the router notice and recreate its consumer
	e.publish(t, "new-1", "new-2", "new-3")
	time.Sleep(3 * time.Second)
	got := hook.delivered()
	n := 0
	for _, id := range got {
		if strings.HasPrefix(id, "new-") {
			n++
		}
	}
	if n != 3 {
		c, err := e.ns.JS.Consumer(ctx, bus.StreamName, dispatch.ConsumerName)
		if err == nil {
			ci := c.CachedInfo()
			t.Logf("consumer: deliver policy %v opt_start_seq %d, num_pending %d", ci.Config.DeliverPolicy, ci.Config.OptStartSeq, ci.NumPending)
		} else {
			t.Logf("consumer: %v", err)
		}
		t.Errorf("%d of the 3 events stored after the stream was recreated were delivered", n)
	}
}
