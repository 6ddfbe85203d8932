package dispatch

import (
	"context"
	"time"
)

// pollDepths runs until ctx ends: every depth interval it reads each
// queue's consumer state for the queue depth gauge, and retires removed
// queues once nothing is left in them (stops the workers, deletes the
// consumer).
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
	}
}

func (r *Router) pollDepth(ctx context.Context, q *queue) {
	info, err := q.cons.Info(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.opts.log.Warn().Err(err).Str("rule", q.key.rule).Str("target", q.key.target).Msg("queue depth")
		}
		return
	}
	depth := info.NumPending + uint64(info.NumAckPending)
	labels := []string{q.key.bus, q.key.rule, q.key.target}
	if !q.removed.Load() || depth > 0 {
		r.metrics.depth.WithLabelValues(labels...).Set(float64(depth))
		return
	}
	r.mu.Lock()
	if r.queues[q.key] != q || !q.removed.Load() {
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
	r.forgetState(ctx, q.key)
}
