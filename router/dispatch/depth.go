package dispatch

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// pollDepths runs until ctx ends: every depth interval it reads each
// queue's consumer state for the queue depth gauge, lets removed queues
// drain once their grace is over (grace.go), retires draining queues once
// nothing is left in them (stops the workers, deletes the consumer), and
// sweeps the deliveries stream for deliveries no queue reads
// (stranded.go).
func (r *Router) pollDepths(ctx context.Context) {
	tick := time.NewTicker(r.opts.depthInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.mu.Lock()
		qs := make([]*queue, 0, len(r.queues))
		for _, q := range r.queues {
			qs = append(qs, q)
		}
		r.mu.Unlock()
		for _, q := range qs {
			r.pollDepth(ctx, q)
		}
		r.pollEventsFloor(ctx)
		r.sweepStranded(ctx)
	}
}

func (r *Router) pollDepth(ctx context.Context, q *queue) {
	info, err := q.cons.Info(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrConsumerNotFound) && q.removed.Load() {
			r.dropQueue(q) // retired by another replica, or deleted by an operator
			return
		}
		if ctx.Err() == nil {
			r.opts.log.Warn().Err(err).Str("rule", q.key.rule).Str("target", q.key.target).Msg("queue depth")
		}
		return
	}
	depth := info.NumPending + uint64(info.NumAckPending)
	labels := []string{q.key.bus, q.key.rule, q.key.target}
	if q.removed.Load() {
		r.checkDrain(q, info, time.Now())
	}
	if !q.draining() || depth > 0 {
		r.metrics.depth.WithLabelValues(labels...).Set(float64(depth))
		return
	}
	r.mu.Lock()
	if r.queues[q.key] != q || !q.draining() {
		r.mu.Unlock()
		return
	}
	// The consumer is deleted before r.mu is released: a SetRules that
	// re-adds the target meanwhile would otherwise reuse the consumer this
	// deletes, and its deliveries would sit unread.
	delete(r.queues, q.key)
	if err := r.js.DeleteConsumer(ctx, info.Stream, info.Name); err != nil {
		r.opts.log.Warn().Err(err).Str("consumer", info.Name).Msg("deleting the queue of a removed target")
	}
	r.mu.Unlock()
	q.stop()
	r.metrics.depth.DeleteLabelValues(labels...)
	// The target's state (disabled, consent) is kept: another replica
	// may still have the target, held after a 410, and erasing the
	// shared state would release it there.
}

// dropQueue stops a removed queue whose consumer is gone (another replica
// retired it, or an operator deleted it): there is nothing left for it to
// drain. Deliveries queued on its subject later are found by the sweep.
func (r *Router) dropQueue(q *queue) {
	r.mu.Lock()
	if r.queues[q.key] != q || !q.removed.Load() {
		r.mu.Unlock()
		return
	}
	delete(r.queues, q.key)
	r.mu.Unlock()
	q.stop()
	r.metrics.depth.DeleteLabelValues(q.key.bus, q.key.rule, q.key.target)
}
