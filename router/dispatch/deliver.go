package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// attempt is what one try of one delivery found, for settle.
type attempt struct {
	d        *delivery
	counts   *counts   // the pair's delivery counters
	n        uint64    // this attempt's number, from 1
	at       time.Time // when the attempt started
	err      error     // nil: delivered
	dead     string    // non-empty: dead-letter at once for this reason
	handBack bool      // shutdown interrupted the attempt
	held     bool      // the target is disabled or awaits consent, or the pair left the rules: not attempted, parked
	maxN     int
	maxAge   time.Duration
}

func (r *Router) newAttempt(d *delivery, l *lane) *attempt {
	return &attempt{d: d, counts: r.countsOf(d.key, l), n: d.prior + 1, at: time.Now(),
		maxN: r.opts.maxAttempts, maxAge: r.opts.maxAge}
}

// deliver waits for a slot of l for the fetched delivery d (acquire: until
// deadline, with room, while wait lasts), attempts d and settles it. The
// message is kept alive meanwhile: the waits for a slot and for the rate
// may outlast the ack wait, and JetStream would hand it to another worker.
// It reports false, having done nothing, when no slot came in time; one
// that wait ended is handed back.
func (r *Router) deliver(wait, work context.Context, l *lane, d *delivery, deadline time.Time, room int) bool {
	stop := r.keepAlive(d.msg)
	defer stop()
	if !l.acquire(wait, deadline, room, &l.waiting) {
		if wait.Err() == nil {
			return false
		}
		_ = d.msg.Nak()
		return true
	}
	defer l.release()
	r.settleDelivery(work, r.attempt(work, l, d, func() error { return l.limiter.Wait(work) }))
	return true
}

// attempt makes one attempt of d in a slot of l, with the current rules,
// once wait (nil: the caller took a token of the rate already) allows it:
// held, not attempted, when the rules lack the pair or its target is held
// (before the wait, or after it: disabled, or consent withdrawn,
// meanwhile); handed back when shutdown ended the wait.
func (r *Router) attempt(ctx context.Context, l *lane, d *delivery, wait func() error) *attempt {
	t := r.acquire()
	defer t.inUse.RUnlock()
	a := r.newAttempt(d, l)
	b := t.bindings[d.key]
	switch {
	case r.holds(d.key, b):
		a.held = true
	case wait != nil && wait() != nil:
		a.handBack = true
	case wait != nil && r.holds(d.key, b):
		a.held = true
	default:
		r.try(ctx, b, a)
	}
	return a
}

// try builds the target's payload from the event (decoded once per
// delivery, or once per fan-out for all its targets) and calls the sink.
// Sinks only read the event, so one decoded event serves every target.
func (r *Router) try(ctx context.Context, b *binding, a *attempt) {
	if rt := b.target.Retry; rt != nil {
		a.maxN = cmp.Or(rt.MaxAttempts, a.maxN)
		a.maxAge = cmp.Or(rt.MaxAge, a.maxAge)
	}
	ev, err := a.d.event()
	if err != nil {
		a.dead, a.err = "not a structured CloudEvent", err
		return
	}
	// NewEnv decodes the whole payload: only a target with an input
	// expression needs it, not every delivery.
	var payload any
	if b.input {
		if payload, err = b.rule.Input(b.target.ID, rules.NewEnv(ev)); err != nil {
			a.dead, a.err = "input expression failed", err
			return
		}
	}
	key := a.d.key
	sd := &sinks.Delivery{Event: ev, Stored: a.d.data, Bus: key.bus, Rule: key.rule, Target: key.target,
		Payload: payload, Attempt: int(min(a.n, 1<<30)), Shared: a.d.shared}
	if b.confirm {
		sd.UnsubscribeURL = r.unsubscribeURL(key)
	}
	a.err = b.sink.Deliver(ctx, sd)
	b.latency.Observe(time.Since(a.at).Seconds())
	if a.err != nil && ctx.Err() != nil {
		a.handBack = true
	}
}

// delivered reports whether the target took the delivery.
func (a *attempt) delivered() bool {
	return a.err == nil && a.dead == "" && !a.held && !a.handBack
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
	case a.maxAge > 0 && time.Since(a.d.enqueued) >= a.maxAge:
		return fmt.Sprintf("retries exhausted: older than %s", a.maxAge)
	}
	return ""
}
