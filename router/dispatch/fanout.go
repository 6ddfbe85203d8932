package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
)

// fanOut matches one stored event and delivers or queues one delivery
// per matched (rule, target) (direct.go); the event is acknowledged only
// once every delivery was made or JetStream stored what stands for it (a
// queued delivery, a retry, a parked copy, a dead letter), so a crash in
// between matches it again, and the deliveries' message ids keep that
// from queueing anything twice.
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
	ev, err := newStoredEvent(msg, busName)
	if err == nil {
		err = r.deliverOrQueue(ctx, ev, res.Rules)
	}
	if err != nil {
		r.settleEvent(ctx, msg, eventOutcome{retry: err, handBack: ctx.Err() != nil})
		return
	}
	r.settleEvent(ctx, msg, eventOutcome{})
}

// storedEvent is the event a fan-out works on, read once.
type storedEvent struct {
	bus    string
	id     string // the event's message id; delivery message ids derive from it
	data   []byte
	stored time.Time
}

func newStoredEvent(msg jetstream.Msg, busName string) (*storedEvent, error) {
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
	return &storedEvent{bus: busName, id: id, data: msg.Data(), stored: md.Timestamp}, nil
}

// message is a delivery message of ev for key on subject (the ready
// subject when ""), after attempts attempts, with message id
// <event id>/<rule>/<target> plus suffix.
func (ev *storedEvent) message(key targetKey, subject string, attempts uint64, suffix string) *nats.Msg {
	m := deliveryMsg(ev.bus, key.rule, key.target, ev.data, ev.stored)
	if subject != "" {
		m.Subject = subject
		m.Header.Set(bus.HeaderQueued, time.Now().UTC().Format(time.RFC3339Nano))
		m.Header.Set(bus.HeaderAttempts, strconv.FormatUint(attempts, 10))
	}
	m.Header.Set(jetstream.MsgIDHeader, ev.id+"/"+key.rule+"/"+key.target+suffix)
	return m
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
