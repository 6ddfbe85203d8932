package dispatch

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/sinks"
)

// This file is the one place where outcomes become JetStream
// acknowledgements: settleEvent for the events stream, settleDelivery for
// deliveries. A delivery that must wait longer than an attempt leaves the
// consumer that fetched it: a retry becomes a JetStream schedule, a held
// delivery is parked on its backlog; the new message is stored before the
// old one is acked, so a crash in between leaves two copies (message ids
// keep that to one where they can), never none.

// eventOutcome is what fanning out one event decided. The zero value means
// done: it matched nothing, or every delivery is queued.
type eventOutcome struct {
	retry    error  // queueing failed; try again later
	handBack bool   // shutdown interrupted the work
	poison   string // the stored message can never be processed: why
}

// eventRetryDelay is how long an event whose deliveries could not be
// queued waits before it is matched again.
const eventRetryDelay = time.Second

// An unreadable event is terminated only once its dead letter is stored;
// until then it comes back, so it is never only in a log line.
func (r *Router) settleEvent(ctx context.Context, msg jetstream.Msg, o eventOutcome) {
	var (
		err   error
		label string
	)
	switch {
	case o.poison != "":
		if dlqErr := r.deadLetterEvent(ctx, msg, o.poison); dlqErr != nil {
			label = "redelivered"
			r.opts.log.Error().Err(dlqErr).Str("subject", msg.Subject()).Str("reason", o.poison).Msg("storing the dead letter of an unreadable event failed; the event comes back")
			err = msg.NakWithDelay(eventRetryDelay)
			break
		}
		label = "poison"
		r.opts.log.Error().Str("subject", msg.Subject()).Str("reason", o.poison).Msg("unreadable event dead-lettered")
		err = msg.TermWithReason(o.poison)
	case o.handBack:
		label = "handed_back"
		err = msg.Nak()
	case o.retry != nil:
		label = "redelivered"
		r.opts.log.Warn().Err(o.retry).Str("subject", msg.Subject()).Msg("queueing deliveries failed; the event comes back")
		err = msg.NakWithDelay(eventRetryDelay)
	default:
		label = "acked"
		err = msg.Ack()
	}
	r.metrics.events.WithLabelValues(label).Inc()
	if err != nil {
		r.opts.log.Warn().Err(err).Str("subject", msg.Subject()).Str("outcome", label).Msg("acknowledgement not sent; JetStream will redeliver after the ack wait")
	}
}

// settle stores, with put, what stands for a's delivery now that the
// attempt is over, and reports how soon the delivery should come back if
// that failed:
//   - delivered: nothing;
//   - target held (disabled, awaiting consent, not in the rules), or it
//     just answered 410 Gone (which disables it): parked on its backlog;
//   - failed and may be retried: scheduled again by backoff with jitter,
//     at least Retry-After;
//   - must not be retried: dead-lettered, stored at once and waited for,
//     so nothing is lost between the queue and the DLQ.
//
// The callers ack (or, from the fan-out, let the event be acked) only once
// this returned nil and put's write is acknowledged.
func (r *Router) settle(ctx context.Context, a *attempt, put func(*nats.Msg) error) (again time.Duration, err error) {
	d, c := a.d, a.counts
	// Built only on the paths that log: most attempts are delivered.
	log := func() *zerolog.Logger {
		l := r.opts.log.With().Str("rule", d.key.rule).Str("target", d.key.target).Uint64("attempt", a.n).Logger()
		return &l
	}
	if a.err != nil {
		c.inc(failed)
	}
	switch {
	case a.held:
		c.inc(parked)
		return pausedRetry, put(d.parked(a.n - 1))
	case a.gone():
		r.disableGone(ctx, a)
		c.inc(parked)
		return pausedRetry, put(d.parked(a.n))
	case a.delivered():
		c.inc(delivered)
		return 0, nil
	case a.dead == "" && a.exhausted() == "":
		delay := retryDelay(a.n, r.opts.backoffBase, r.opts.backoffCap, sinks.RetryAfter(a.err))
		log().Warn().Err(a.err).Dur("retry_in", delay).Msg("delivery failed; will retry")
		c.inc(retried)
		return delay, put(d.retry(a.n, delay))
	}
	reason := cmp.Or(a.dead, a.exhausted())
	dl := newDeadLetter(a, reason)
	if err := r.storeDeadLetter(ctx, dl, bus.DLQSubject(d.key.bus, d.key.rule, d.key.target), d.msgID("dlq")); err != nil {
		return retryDelay(a.n, r.opts.backoffBase, r.opts.backoffCap, 0), err
	}
	log().Error().Err(a.err).Str("reason", reason).Msg("delivery dead-lettered")
	c.inc(deadLettered)
	return 0, nil
}

// disableGone disables a target that answered 410 Gone.
func (r *Router) disableGone(ctx context.Context, a *attempt) {
	log := r.opts.log.With().Str("rule", a.d.key.rule).Str("target", a.d.key.target).Logger()
	log.Error().Err(a.err).Msg("target answered 410 Gone: disabled until an operator enables it; its deliveries stay queued")
	if err := r.disable(ctx, a.d.key, http.StatusGone, a.err.Error()); err != nil {
		log.Error().Err(err).Msg("the target is disabled here only")
	}
}

// settleDelivery settles the attempt of a fetched delivery message, from
// the shared consumer or a backlog's: Ack once what stands for it is
// stored (settle; a backlog's message of a target held meanwhile is parked
// again, and its drain stops); Nak at once when shutdown interrupted it;
// when storing failed, NakWithDelay, so it comes back and is settled
// again.
func (r *Router) settleDelivery(ctx context.Context, a *attempt) {
	msg := a.d.msg
	var err error
	switch {
	case a.handBack:
		err = msg.Nak()
	default:
		again, serr := r.settle(ctx, a, func(m *nats.Msg) error {
			_, err := r.js.PublishMsg(ctx, m, jetstream.WithExpectStream(bus.DeliveriesStream))
			return err
		})
		if serr != nil {
			r.opts.log.Warn().Err(serr).Str("rule", a.d.key.rule).Str("target", a.d.key.target).Msg("storing what stands for a delivery failed; it comes back")
			err = msg.NakWithDelay(again)
			break
		}
		err = msg.Ack()
	}
	if err != nil {
		r.opts.log.Warn().Err(err).Str("rule", a.d.key.rule).Str("target", a.d.key.target).Msg("acknowledgement not sent; JetStream will redeliver after the ack wait")
	}
}
