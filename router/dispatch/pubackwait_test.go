package dispatch_test

import (
	"context"
	"io"
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
	"github.com/auditbus/auditbus/sinks"
)

// silentJS is a JetStream whose acknowledgements of deliveries never come
// while hold is set: the publish is not even sent, as when the server
// loses it.
type silentJS struct {
	jetstream.JetStream
	hold atomic.Bool
}

type neverAcked struct{ msg *nats.Msg }

func (f neverAcked) Ok() <-chan *jetstream.PubAck { return nil }
func (f neverAcked) Err() <-chan error            { return nil }
func (f neverAcked) Msg() *nats.Msg               { return f.msg }

func (s *silentJS) PublishMsgAsync(m *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	if s.hold.Load() && strings.HasPrefix(m.Subject, bus.DeliveriesPrefix+".") {
		return neverAcked{m}, nil
	}
	return s.JetStream.PublishMsgAsync(m, opts...)
}

// TestUnacknowledgedDeliveriesHandTheEventBack: when JetStream never
// acknowledges an event's deliveries, fanning out gives up after the
// PubAck wait and hands the event back instead of holding it (and a
// worker) forever; matched again once the bus answers, it is delivered,
// once.
func TestUnacknowledgedDeliveriesHandTheEventBack(t *testing.T) {
	ns := bustest.Start(t, "")
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, ns.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	js := &silentJS{JetStream: ns.JS}
	js.hold.Store(true)
	hook := newCounter(t, 200)
	reg := prometheus.NewRegistry()
	r := dispatch.New(js, sinks.Deps{NATS: ns.NC, Stdout: io.Discard, Guard: sinks.NewGuard(true, nil)},
		// Queued, not delivered straight from the fan-out: the queueing is
		// what JetStream does not acknowledge.
		dispatch.WithDirectWait(0),
		dispatch.WithPubAckWait(50*time.Millisecond), dispatch.WithShutdownGrace(200*time.Millisecond),
		dispatch.WithRegisterer(reg))
	setRules(t, r, hookRule(hook.URL, ""))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	e := &env{ns: ns, router: r}
	e.publish(t, "a")

	waitFor(t, "the event handed back for want of a PubAck", func() bool {
		return value(t, reg, "auditbus_router_events_total", map[string]string{"outcome": "redelivered"}) >= 1
	})
	if n := hook.requests.Load(); n != 0 {
		t.Fatalf("webhook got %d requests while no delivery was queued", n)
	}
	js.hold.Store(false)
	e.settled(t)
	if got := hook.delivered(); len(got) != 1 {
		t.Fatalf("delivered %d times, want once: %q", len(got), got)
	}
}
