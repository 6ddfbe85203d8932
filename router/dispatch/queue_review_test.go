package dispatch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
)

// A delivery waiting for its target's rate limit longer than the ack wait
// is kept alive, so JetStream does not hand it to another worker too.
func TestRateLimitWaitDoesNotDuplicate(t *testing.T) {
	hook := newBodyCounter(t)
	e := startRouter(t, hookRule(hook.URL, "    input: 'id'\n    rate: {per_second: 2, burst: 1}\n    concurrency: 8\n"),
		dispatch.WithAckWait(500*time.Millisecond))
	e.publish(t, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j")
	time.Sleep(1200 * time.Millisecond)
	c, _ := e.ns.JS.Consumer(context.Background(), bus.DeliveriesStream, bus.QueueName("default", "deletes", "hook"))
	ci, _ := c.Info(context.Background())
	t.Logf("queue consumer: ack wait %s, delivered %+v, redelivered %d, ack pending %d", ci.Config.AckWait, ci.Delivered, ci.NumRedelivered, ci.NumAckPending)
	e.settled(t)
	seen := hook.counts()
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	if len(seen) != 10 || dups != 0 {
		t.Errorf("delivered %v: %d distinct, %d duplicates; want 10 and no duplicates", seen, len(seen), dups)
	}
}

// A target disabled by a 410 and then removed from its rule drains to the
// dead-letter queue: nobody could enable it any more.
func TestRemovedDisabledTargetDrains(t *testing.T) {
	hook := newCounter(t, 410)
	e := startRouter(t, hookRule(hook.URL, ""), dispatch.WithConcurrency(1))
	e.publish(t, "g1", "g2", "g3")
	waitFor(t, "target disabled", func() bool { return e.router.TargetState("default", "deletes", "hook").Disabled })
	bustest.WaitSettled(t, e.ns.JS, bus.StreamName, dispatch.ConsumerName, 15*time.Second)
	setRules(t, e.router, strings.Replace(hookRule(newCounter(t, 200).URL, ""), "id: hook", "id: other", 1))
	time.Sleep(3 * time.Second)
	dl := e.dlq(t, dispatch.DLQFilter{Target: "hook"})
	s, _ := e.ns.JS.Stream(context.Background(), bus.DeliveriesStream)
	info, _ := s.Info(context.Background())
	if len(dl) != 3 {
		t.Errorf("dead letters %d, still queued %d: want the 3 deliveries of the removed target in the DLQ", len(dl), info.State.Msgs)
	}
	if err := e.router.EnableTarget(context.Background(), "default", "deletes", "hook"); err != nil {
		t.Logf("and the operator cannot release them: EnableTarget = %v", err)
	}
}

// A target removed and re-added again and again, while the sweep runs,
// still gets what matches after the churn, and an idle target costs no
// consumer of its own at any point. (It replaced a test that the
// retirement of a per-target consumer could not delete the consumer a
// re-added target had adopted: targets have no consumer any more.)
func TestReAddedTargetKeepsItsConsumer(t *testing.T) {
	hook := newCounter(t, 200)
	with := hookRule(hook.URL, "")
	without := strings.Replace(hookRule(hook.URL, ""), "id: hook", "id: other", 1)
	e := startRouter(t, with, dispatch.WithDepthInterval(time.Millisecond))
	name := bus.QueueName("default", "deletes", "hook")
	select {
	case <-e.router.Started():
	case <-time.After(15 * time.Second):
		t.Fatal("router did not start")
	}
	for i := range 60 {
		setRules(t, e.router, without)
		time.Sleep(time.Duration(i%7) * time.Millisecond)
		setRules(t, e.router, with)
		time.Sleep(20 * time.Millisecond)
		if _, err := e.ns.JS.Consumer(context.Background(), bus.DeliveriesStream, name); err == nil {
			t.Fatalf("iteration %d: an idle target has a consumer of its own", i)
		}
	}
	e.publish(t, "after-churn")
	e.settled(t)
	if n := len(hook.delivered()); n == 0 {
		t.Fatal("an event for a configured target was not delivered after the churn")
	}
}

// An id listed twice in one redrive is requeued once, and the call
// succeeds.
func TestRedriveSameIDTwice(t *testing.T) {
	bad, good := newCounter(t, 400), newCounter(t, 200)
	e := startRouter(t, hookRule(bad.URL, ""))
	e.publish(t, "r1")
	e.settled(t)
	dl := e.dlq(t, dispatch.DLQFilter{})
	if len(dl) != 1 {
		t.Fatalf("dead letters %+v", dl)
	}
	setRules(t, e.router, hookRule(good.URL, ""))
	res, err := e.router.Redrive(context.Background(), dispatch.RedriveRequest{IDs: []uint64{dl[0].ID, dl[0].ID}})
	if err != nil {
		t.Errorf("Redrive = %+v, %v", res, err)
	}
	e.settled(t)
	if n := len(good.delivered()); n != 1 {
		t.Errorf("one dead letter redriven as %v gave %d deliveries, want 1", res.Redriven, n)
	}
}
