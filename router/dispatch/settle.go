package dispatch

import (
	"context"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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

// settleDelivery maps one attempt to the delivery message's fate:
//   - delivered: Ack;
//   - target held (disabled, awaiting consent, not in the rules), or it
//     just answered 410 Gone (which disables it): parked on its backlog,
//     then Ack; a backlog's own message is handed back (NakWithDelay), its
//     drain stops;
//   - failed and may be retried: scheduled again by backoff with jitter, at
//     least Retry-After, then Ack;
//   - must not be retried: dead-letter, then Ack; a dead letter that
//     cannot be stored is not acked, so the delivery comes back and is
//     dead-lettered again: nothing is lost between the queue and the DLQ;
//   - shutdown interrupted it: Nak at once.
func (r *Router) settleDelivery(ctx context.Context, msg jetstream.Msg, a *attempt) {
	labels := []string{a.key.bus, a.key.rule, a.key.target}
	log := r.opts.log.With().Str("rule", a.key.rule).Str("target", a.key.target).Uint64("attempt", a.n).Logger()
	if a.err != nil && !a.handBack {
		r.metrics.deliveries.WithLabelValues(append(labels, outFailed)...).Inc()
	}
	var err error
	switch {
	case a.handBack:
		err = msg.Nak()
	case a.held:
		err = r.hold(ctx, msg, a)
	case a.gone():
		log.Error().Err(a.err).Msg("target answered 410 Gone: disabled until an operator enables it; its deliveries stay queued")
		if dErr := r.disable(ctx, a.key, http.StatusGone, a.err.Error()); dErr != nil {
			log.Error().Err(dErr).Msg("the target is disabled here only")
		}
		err = r.hold(ctx, msg, a)
	case a.err == nil && a.dead == "":
		r.metrics.deliveries.WithLabelValues(append(labels, outDelivered)...).Inc()
		err = msg.Ack()
	case a.dead == "" && a.exhausted() == "":
		delay := retryDelay(a.n, r.opts.backoffBase, r.opts.backoffCap, sinks.RetryAfter(a.err))
		log.Warn().Err(a.err).Dur("retry_in", delay).Msg("delivery failed; will retry")
		r.metrics.deliveries.WithLabelValues(append(labels, outRetried)...).Inc()
		if sErr := r.reschedule(ctx, msg, a, delay); sErr != nil {
			log.Warn().Err(sErr).Msg("scheduling the retry failed; the delivery comes back instead")
			err = msg.NakWithDelay(delay)
			break
		}
		err = msg.Ack()
	default:
		reason := a.dead
		if reason == "" {
			reason = a.exhausted()
		}
		if dlqErr := r.deadLetter(ctx, msg, a, reason); dlqErr != nil {
			log.Error().Err(dlqErr).Msg("storing a dead letter failed; the delivery comes back")
			err = msg.NakWithDelay(retryDelay(a.n, r.opts.backoffBase, r.opts.backoffCap, 0))
			break
		}
		log.Error().Err(a.err).Str("reason", reason).Msg("delivery dead-lettered")
		r.metrics.deliveries.WithLabelValues(append(labels, outDeadLettered)...).Inc()
		err = msg.Ack()
	}
	if err != nil {
		log.Warn().Err(err).Msg("acknowledgement not sent; JetStream will redeliver after the ack wait")
	}
}

// hold keeps a held delivery: a backlog's message goes back to its
// backlog, whose drain stops while the target is held; any other is
// parked there.
func (r *Router) hold(ctx context.Context, msg jetstream.Msg, a *attempt) error {
	if a.backlog {
		return msg.NakWithDelay(pausedRetry)
	}
	if err := r.park(ctx, msg, a.key); err != nil {
		r.opts.log.Warn().Err(err).Str("rule", a.key.rule).Str("target", a.key.target).Msg("parking a held delivery failed; it comes back")
		return msg.NakWithDelay(pausedRetry)
	}
	return msg.Ack()
}
