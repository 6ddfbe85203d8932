package dispatch

import (
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/rules"
)

// outcome is what processing one event decided about its acknowledgement.
// The zero value means done: every delivery succeeded or was rejected for
// good (and logged), so the event is acknowledged.
type outcome struct {
	retryAfter time.Duration // > 0: some delivery may succeed later
	lastErr    string        // with retryAfter: the failure, for the log if the router gives up
	handBack   bool          // shutdown interrupted the work
	poison     string        // the stored message can never be processed
}

// merge combines the outcomes of two deliveries of one event: the event
// comes back if any delivery needs it, as late as the latest asks.
func (o outcome) merge(p outcome) outcome {
	o.handBack = o.handBack || p.handBack
	o.retryAfter = max(o.retryAfter, p.retryAfter)
	if o.lastErr == "" {
		o.lastErr = p.lastErr
	}
	return o
}

// maxRedeliveryDelay caps how long an event waits on the bus before the
// router tries its deliveries again; a longer Retry-After is cut to it.
const maxRedeliveryDelay = 5 * time.Minute

// settle is the one place that maps an outcome to a JetStream
// acknowledgement: Ack when done, Nak to hand back at once, NakWithDelay
// (growing with the delivery count) to retry later, TermWithReason for
// poison and for events that failed past the give-up bounds. JetStream
// keeps a Nak in memory only: if the server itself restarts, a handed-back
// event returns when its ack wait expires instead.
func (r *Router) settle(msg jetstream.Msg, o outcome) {
	var (
		err   error
		label string
	)
	switch {
	case o.poison != "":
		label = "poison"
		r.opts.log.Error().Str("subject", msg.Subject()).Str("reason", o.poison).Msg("terminating undeliverable event")
		err = msg.TermWithReason(o.poison)
	case o.handBack:
		label = "handed_back"
		err = msg.Nak()
	case o.retryAfter > 0 && r.givingUp(msg):
		label = "abandoned"
		r.opts.log.Error().Str("subject", msg.Subject()).Str("last_error", o.lastErr).
			Int("max_deliveries", r.opts.maxDeliveries).Dur("max_age", r.opts.maxAge).
			Msg("giving up on an event whose delivery keeps failing")
		err = msg.TermWithReason("delivery abandoned: " + o.lastErr)
	case o.retryAfter > 0:
		label = "redelivered"
		err = msg.NakWithDelay(redeliveryDelay(msg, o.retryAfter))
	default:
		label = "acked"
		err = msg.Ack()
	}
	r.metrics.events.WithLabelValues(label).Inc()
	if err != nil {
		r.opts.log.Warn().Err(err).Str("subject", msg.Subject()).Str("outcome", label).Msg("acknowledgement not sent; JetStream will redeliver after the ack wait")
	}
}

// givingUp reports whether an event has come back as often, or been stored
// as long, as the router allows.
func (r *Router) givingUp(msg jetstream.Msg) bool {
	md, err := msg.Metadata()
	if err != nil {
		return false
	}
	return md.NumDelivered >= uint64(r.opts.maxDeliveries) || time.Since(md.Timestamp) >= r.opts.maxAge
}

// redeliveryDelay doubles with each delivery of the event, from at least
// what the target asked for, up to maxRedeliveryDelay.
func redeliveryDelay(msg jetstream.Msg, atLeast time.Duration) time.Duration {
	n := uint64(1)
	if md, err := msg.Metadata(); err == nil {
		n = min(md.NumDelivered, 16)
	}
	return min(max(atLeast, time.Second<<(n-1)), maxRedeliveryDelay)
}

// ruleOf names the rule a match error came from, "" if it names none.
func ruleOf(err error) string {
	var me *rules.MatchError
	if errors.As(err, &me) {
		return me.Rule
	}
	return ""
}
