package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// fanOut matches one stored event and delivers or queues one delivery
// per matched (rule, target) (direct.go); the event is acknowledged only
// once every delivery was made or JetStream stored what stands for it (a
// queued delivery, a retry, a parked copy, a dead letter), so a crash in
// between matches it again, and the deliveries' message ids keep that
// from queueing anything twice.
func (r *Router) fanOut(ctx context.Context, msg jetstream.Msg) {
	t := r.table.Load()
	busName := bus.BusOf(msg.Subject())
	res, err := t.set.Match(busName, msg.Data())
	if err != nil {
		r.settleEvent(ctx, msg, eventOutcome{poison: err.Error()})
		return
	}
	for _, err := range res.Errors {
		r.opts.log.Warn().Err(err).Str("subject", msg.Subject()).Msg("rule evaluation failed; counted as no match")
		r.metrics.ruleErrors.WithLabelValues(busName, ruleOf(err)).Inc()
	}
	if len(res.Rules) == 0 {
		r.settleEvent(ctx, msg, eventOutcome{})
		return
	}
	for _, rule := range res.Rules {
		t.byRule[rule].matches.inc()
	}
	ev, err := storedEvent(msg)
	if err == nil {
		err = r.deliverOrQueue(ctx, t, ev, res.Rules)
	}
	if err != nil {
		r.settleEvent(ctx, msg, eventOutcome{retry: err, handBack: ctx.Err() != nil})
		return
	}
	r.settleEvent(ctx, msg, eventOutcome{})
}

// storedEvent reads the event a fan-out works on once: a delivery with no
// target yet, which each of its deliveries copies (forTarget).
func storedEvent(msg jetstream.Msg) (*delivery, error) {
	md, err := msg.Metadata()
	if err != nil {
		return nil, fmt.Errorf("event metadata: %w", err)
	}
	// The event's own message id (bus, source and id hashed) makes the
	// delivery ids stable across re-matching; stream sequence is the
	// fallback for an event published without one.
	id := msg.Headers().Get(jetstream.MsgIDHeader)
	if id == "" {
		id = fmt.Sprintf("seq-%d", md.Sequence.Stream)
	}
	return &delivery{id: id, data: msg.Data(), enqueued: md.Timestamp, queued: time.Now(), shared: new(sinks.Shared)}, nil
}

// forTarget is ev's delivery to key, before any attempt.
func (ev *delivery) forTarget(key targetKey) *delivery {
	d := *ev
	d.key = key
	return &d
}

// publishes collects the asynchronous publishes of one fan-out.
type publishes struct {
	js      jetstream.JetStream
	futures []jetstream.PubAckFuture
	acks    []*jetstream.PubAck // by futures' index, as wait got them
}

// add publishes m and returns its index.
func (p *publishes) add(m *nats.Msg) (int, error) {
	f, err := p.js.PublishMsgAsync(m, jetstream.WithExpectStream(bus.DeliveriesStream))
	if err != nil {
		return 0, fmt.Errorf("queue delivery on %s: %w", m.Subject, err)
	}
	p.futures = append(p.futures, f)
	return len(p.futures) - 1, nil
}

// wait waits for every acknowledgement, bounded: a PubAck that never
// comes (the server lost the request, say, across a reconnect) must not
// hold the event and a worker forever.
func (p *publishes) wait(ctx context.Context, within time.Duration) error {
	wait := time.NewTimer(within)
	defer wait.Stop()
	for _, f := range p.futures[len(p.acks):] {
		select {
		case ack := <-f.Ok():
			p.acks = append(p.acks, ack)
		case err := <-f.Err():
			return fmt.Errorf("queue delivery on %s: %w", f.Msg().Subject, err)
		case <-wait.C:
			return fmt.Errorf("queue delivery on %s: %w within %s", f.Msg().Subject, errNoPubAck, within)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// errNoPubAck is what enqueue reports when JetStream did not acknowledge
// a delivery within the PubAck wait.
var errNoPubAck = errors.New("no acknowledgement from JetStream")

// ruleOf names the rule a match error came from, "" if it names none.
func ruleOf(err error) string {
	var me *rules.MatchError
	if errors.As(err, &me) {
		return me.Rule
	}
	return ""
}

// keepAlive tells JetStream a message is still being worked on, so a slow
// target does not make the server hand it to another worker meanwhile. A
// timer rather than a goroutine with a ticker: it runs for every delivery,
// and almost every delivery is over long before it first fires.
func (r *Router) keepAlive(msg jetstream.Msg) (stop func()) {
	every := r.opts.ackWait / 3
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
	)
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(every, func() {
		_ = msg.InProgress()
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			t.Reset(every)
		}
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}
