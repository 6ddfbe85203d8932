package dispatch

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
)

// sweepStranded gives a queue, as removed (grace.go), to every subject of
// the deliveries stream that holds deliveries but has no queue in this
// router. A delivery can be queued for a pair after its queue was retired:
// a fan-out still matching with the rules of before the swap, or a replica
// still running older rules, publishes it after the retirement deleted
// the consumer. The stream is a WorkQueue nobody else would read it from,
// so without the sweep it would wait there until the next start. The
// sweep runs with every depth poll, and at start (adoptStranded).
func (r *Router) sweepStranded(ctx context.Context) {
	stream, err := r.js.Stream(ctx, bus.DeliveriesStream)
	if err != nil {
		r.logSweep(ctx, err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.qctx == nil || ctx.Err() != nil {
		return
	}
	if err := r.adoptStranded(ctx, stream); err != nil {
		r.logSweep(ctx, err)
	}
}

// adoptStranded does the sweep's work: a subject whose consumer still
// exists (another replica's queue) gets a queue on that consumer, which
// only drains once nobody serves it; one without gets a new consumer. It
// tries every subject and returns what failed. Called with r.mu held.
func (r *Router) adoptStranded(ctx context.Context, stream jetstream.Stream) error {
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(bus.DeliveriesPrefix+".>"))
	if err != nil {
		return fmt.Errorf("stream %s subjects: %w", bus.DeliveriesStream, err)
	}
	var errs []error
	for subject, n := range info.State.Subjects {
		key, ok := keyOfSubject(subject)
		if !ok || n == 0 || r.queues[key] != nil {
			continue
		}
		var q *queue
		cons, err := stream.Consumer(ctx, bus.QueueName(key.bus, key.rule, key.target))
		switch {
		case err == nil:
			q = r.startQueue(key, cons, r.opts.concurrency, rules.Rate{}, true)
		case errors.Is(err, jetstream.ErrConsumerNotFound):
			q, err = r.openQueue(ctx, key, r.opts.concurrency, rules.Rate{}, true)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.queues[key] = q
		r.opts.log.Warn().Str("subject", subject).Uint64("deliveries", n).
			Msg("deliveries for a target no rule here has: queued for the dead-letter queue unless the target comes back or another replica serves it")
	}
	return errors.Join(errs...)
}

func (r *Router) logSweep(ctx context.Context, err error) {
	if ctx.Err() == nil {
		r.opts.log.Warn().Err(err).Msg("looking for deliveries without a queue")
	}
}
