package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// attempt is what one try of one delivery found, for settleDelivery.
type attempt struct {
	key      targetKey
	n        uint64    // JetStream's delivery count of the message: this attempt's number
	enqueued time.Time // when the event was first stored; max_age counts from it
	queued   time.Time // when this delivery was queued
	at       time.Time // when the attempt started
	err      error     // nil: delivered
	dead     string    // non-empty: dead-letter at once for this reason
	handBack bool      // shutdown interrupted the attempt
	held     bool      // the target is disabled or awaits consent, or the pair left the rules: not attempted, parked
	backlog  bool      // the message is a backlog's (backlog.go), not the shared consumer's
	maxN     int
	maxAge   time.Duration
}

// deliver tries one delivery of l's target, in a slot of l, and settles
// it; backlog says msg is from l's backlog rather than the shared
// consumer.
func (r *Router) deliver(ctx context.Context, l *lane, msg jetstream.Msg, backlog bool) {
	t := r.acquire()
	defer t.inUse.RUnlock()
	a := r.newAttempt(l.key, msg)
	a.backlog = backlog
	if b := t.bindings[l.key]; b == nil || r.holds(l.key, b) {
		a.held = true
	} else {
		// Kept alive from here: a wait for the rate limit may outlast the
		// ack wait, and JetStream would hand the message to another worker.
		stop := r.keepAlive(msg)
		switch {
		case l.limiter.Wait(ctx) != nil:
			a.handBack = true // shutdown while waiting for the rate limit
		case r.holds(l.key, b):
			a.held = true // disabled, or consent withdrawn, during the wait
		default:
			r.try(ctx, b, msg.Data(), nil, &a)
		}
		stop()
	}
	r.settleDelivery(ctx, msg, &a)
}

func (r *Router) newAttempt(key targetKey, msg jetstream.Msg) attempt {
	a := attempt{key: key, n: priorAttempts(msg) + 1, at: time.Now(), maxN: r.opts.maxAttempts, maxAge: r.opts.maxAge,
		queued: queuedAt(msg)}
	a.enqueued = a.queued
	if ts, err := time.Parse(time.RFC3339Nano, msg.Headers().Get(bus.HeaderEnqueued)); err == nil {
		a.enqueued = ts
	}
	return a
}

// try builds the target's payload from the event (decoding data unless
// the fan-out already did: ev) and calls the sink. Sinks only read the
// event, so one decoded event serves every target of a fan-out.
func (r *Router) try(ctx context.Context, b *binding, data []byte, ev *event.Event, a *attempt) {
	if b.target.Retry != nil {
		a.maxN = cmp.Or(b.target.Retry.MaxAttempts, a.maxN)
		a.maxAge = cmp.Or(b.target.Retry.MaxAge, a.maxAge)
	}
	if ev == nil {
		var err error
		if ev, err = decodeEvent(data); err != nil {
			a.dead, a.err = "not a structured CloudEvent", err
			return
		}
	}
	// NewEnv decodes the whole payload: only a target with an input
	// expression needs it, not every delivery.
	var payload any
	if b.rule.HasInput(b.target.ID) {
		var err error
		if payload, err = b.rule.Input(b.target.ID, rules.NewEnv(ev)); err != nil {
			a.dead, a.err = "input expression failed", err
			return
		}
	}
	d := &sinks.Delivery{Event: ev, Bus: a.key.bus, Rule: a.key.rule, Target: a.key.target,
		Payload: payload, Attempt: int(min(a.n, 1<<30))}
	if c := consentOf(b); c != nil && c.mode == sinks.ConsentConfirm {
		d.UnsubscribeURL = r.unsubscribeURL(a.key)
	}
	a.err = b.sink.Deliver(ctx, d)
	r.metrics.latency.WithLabelValues(b.target.Kind).Observe(time.Since(a.at).Seconds())
	if a.err != nil && ctx.Err() != nil {
		a.handBack = true
	}
}

// decodeEvent decodes a stored event with the event's own decoder
// (through cejson): json.Unmarshal would scan the whole message twice
// (validate, then find the value's end) first.
func decodeEvent(data []byte) (*event.Event, error) {
	var e event.Event
	if err := cejson.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// gone reports whether the target answered 410 Gone: it says it will
// never take deliveries again, which an operator must look at, so the
// target is disabled rather than each delivery dead-lettered.
func (a *attempt) gone() bool {
	var se *sinks.Error
	return errors.As(a.err, &se) && se.Status == http.StatusGone
}

// exhausted says why a failed delivery must not be retried, "" if it may.
func (a *attempt) exhausted() string {
	switch {
	case errors.Is(a.err, sinks.ErrUnbuildable):
		return "undeliverable as built"
	case errors.Is(a.err, sinks.ErrForbiddenAddress):
		return ReasonRefusedByGuard
	case !sinks.Retryable(a.err):
		return "rejected by target"
	case a.n >= uint64(a.maxN):
		return fmt.Sprintf("retries exhausted: %d attempts", a.n)
	case a.maxAge > 0 && time.Since(a.enqueued) >= a.maxAge:
		return fmt.Sprintf("retries exhausted: older than %s", a.maxAge)
	}
	return ""
}
