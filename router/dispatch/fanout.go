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
)

// fanOut matches one stored event and queues one delivery per matched
// (rule, target); the event is acknowledged only once JetStream stored
// every one of them, so a crash in between re-matches it, and the
// deliveries' message ids keep that from queueing anything twice.
func (r *Router) fanOut(ctx context.Context, msg jetstream.Msg) {
	set := r.table.Load().set
	busName := bus.BusOf(msg.Subject())
	res, err := set.Match(busName, msg.Data())
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
		r.metrics.matches.WithLabelValues(busName, rule.Name).Inc()
	}
	if err := r.enqueue(ctx, msg, busName, res.Rules); err != nil {
		r.settleEvent(ctx, msg, eventOutcome{retry: err, handBack: ctx.Err() != nil})
		return
	}
	r.settleEvent(ctx, msg, eventOutcome{})
}

// enqueue publishes the deliveries of one event asynchronously and waits
// for every acknowledgement.
func (r *Router) enqueue(ctx context.Context, msg jetstream.Msg, busName string, matched []*rules.Rule) error {
	md, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("event metadata: %w", err)
	}
	// The event's own message id (bus, source and id hashed) makes the
	// delivery ids stable across re-matching; stream sequence is the
	// fallback for an event published without one.
	eventID := msg.Headers().Get(jetstream.MsgIDHeader)
	if eventID == "" {
		eventID = fmt.Sprintf("seq-%d", md.Sequence.Stream)
	}
	var futures []jetstream.PubAckFuture
	for _, rule := range matched {
		for _, tg := range rule.Targets {
			m := deliveryMsg(busName, rule.Name, tg.ID, msg.Data(), md.Timestamp)
			m.Header.Set(jetstream.MsgIDHeader, eventID+"/"+rule.Name+"/"+tg.ID)
			f, err := r.js.PublishMsgAsync(m, jetstream.WithExpectStream(bus.DeliveriesStream))
			if err != nil {
				return fmt.Errorf("queue delivery for rule %q target %q: %w", rule.Name, tg.ID, err)
			}
			futures = append(futures, f)
		}
	}
	// Bounded: a PubAck that never comes (the server lost the request,
	// say, across a reconnect) must not hold the event and a worker forever.
	wait := time.NewTimer(r.opts.pubAckWait)
	defer wait.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("queue delivery on %s: %w", f.Msg().Subject, err)
		case <-wait.C:
			return fmt.Errorf("queue delivery on %s: %w within %s", f.Msg().Subject, errNoPubAck, r.opts.pubAckWait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// errNoPubAck is what enqueue reports when JetStream did not acknowledge
// a delivery within the PubAck wait.
var errNoPubAck = errors.New("no acknowledgement from JetStream")

// deliveryMsg is the queue message of one delivery: the stored event
// unchanged, and who it is for in headers.
func deliveryMsg(busName, rule, target string, data []byte, enqueued time.Time) *nats.Msg {
	m := nats.NewMsg(bus.DeliverySubject(busName, rule, target))
	m.Data = data
	m.Header.Set(bus.HeaderBus, busName)
	m.Header.Set(bus.HeaderRule, rule)
	m.Header.Set(bus.HeaderTarget, target)
	m.Header.Set(bus.HeaderEnqueued, enqueued.UTC().Format(time.RFC3339Nano))
	m.Header.Set("Content-Type", bus.ContentType)
	return m
}

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
