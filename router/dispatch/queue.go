package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
)

// queue runs the deliveries of one (rule, target): a durable consumer
// filtered on the pair's subject, pulled by its own bounded set of workers,
// so a target that hangs or fails only ever occupies its own workers.
type queue struct {
	key         targetKey
	cons        jetstream.Consumer
	concurrency int
	rate        rules.Rate    // the target's own; zero: unlimited
	limiter     *rate.Limiter // the lower of rate and the consented cap
	capped      atomic.Int64  // the consented cap the limiter has, per minute; 0: none
	removed     atomic.Bool   // the pair left the rules: drain to the DLQ, then delete
	rm          removal       // when removed, and whether it may drain yet (grace.go)
	cancel      context.CancelFunc
	done        chan struct{} // closed once fetching stopped and every worker returned
}

// retryHeadroom is how many of a target's deliveries may wait for a retry
// beyond its concurrency. JetStream counts a message naked with a delay
// as pending until it comes back, so with MaxAckPending equal to the
// concurrency a few deliveries that keep failing (say, one event a
// receiver chokes on) would stall the whole queue for their backoff. The
// workers, not MaxAckPending, bound concurrency (per replica).
const retryHeadroom = 1000

// Consumer metadata keys, so a router can tell which pair a queue found
// on the bus belongs to (its name is a hash).
const (
	metaBus    = "auditbus-bus"
	metaRule   = "auditbus-rule"
	metaTarget = "auditbus-target"
)

// syncQueues gives every pair of t a running queue with the pair's
// concurrency, and marks the queues of pairs t lacks as removed. A queue
// whose concurrency changed is replaced: the new one starts before the old
// one stops, which is safe since both pull the same durable consumer.
// Called with r.mu held.
func (r *Router) syncQueues(ctx context.Context, t *table) error {
	for key, b := range t.bindings {
		conc := cmp.Or(b.target.Concurrency, r.opts.concurrency)
		var lim rules.Rate
		if b.target.Rate != nil {
			lim = *b.target.Rate
		}
		old := r.queues[key]
		if old != nil && old.concurrency == conc && old.rate == lim {
			old.keep()
			continue
		}
		q, err := r.openQueue(ctx, key, conc, lim, false)
		if err != nil {
			return err
		}
		r.queues[key] = q
		if old != nil {
			// Back in the rules: what the old queue still has in flight
			// must not be dead-lettered as removed.
			old.keep()
			r.qwg.Go(old.stop)
		}
	}
	for key, q := range r.queues {
		if _, ok := t.bindings[key]; !ok && q.remove(time.Now()) {
			r.opts.log.Warn().Str("rule", key.rule).Str("target", key.target).Dur("grace", r.opts.removedGrace).
				Msg("target removed: its queue is paused, and drained to the dead-letter queue if it does not come back within the grace")
		}
	}
	return nil
}

// openQueue creates or updates the pair's durable consumer and starts
// pulling from it; removed starts it as a removed queue (grace.go).
func (r *Router) openQueue(ctx context.Context, key targetKey, conc int, lim rules.Rate, removed bool) (*queue, error) {
	cons, err := r.js.CreateOrUpdateConsumer(ctx, bus.DeliveriesStream, r.queueConfig(key, conc))
	if err != nil {
		return nil, fmt.Errorf("queue of rule %q target %q: %w", key.rule, key.target, err)
	}
	return r.startQueue(key, cons, conc, lim, removed), nil
}

// startQueue starts pulling cons for key. A removed queue is marked so
// before its fetch loop starts: fetching first would hold (and count as
// attempts) deliveries it is only meant to drain.
func (r *Router) startQueue(key targetKey, cons jetstream.Consumer, conc int, lim rules.Rate, removed bool) *queue {
	ctx, cancel := context.WithCancel(r.qctx)
	cons = r.healQueue(ctx, key, cons) // recreated if deleted under it (recreate.go)
	q := &queue{key: key, cons: cons, concurrency: conc, rate: lim, cancel: cancel, done: make(chan struct{}),
		limiter: rate.NewLimiter(rate.Inf, 1)}
	q.setLimit(0)
	if removed {
		q.remove(time.Now())
	}
	go func() {
		defer close(q.done)
		paused := func() bool { return r.held(ctx, q) }
		r.pull(ctx, r.work, cons, conc, paused, func(work context.Context, msg jetstream.Msg) { r.deliver(work, q, msg) })
	}()
	return q
}

// capRate limits q to the lower of its target's rate and perMinute, the
// rate its endpoint consented to (WebHook-Allowed-Rate; 0: no cap).
func (q *queue) capRate(perMinute int) {
	if q.capped.Swap(int64(perMinute)) != int64(perMinute) {
		q.setLimit(perMinute)
	}
}

func (q *queue) setLimit(perMinute int) {
	limit, burst := rate.Inf, 1
	if q.rate.PerSecond > 0 {
		limit, burst = rate.Limit(q.rate.PerSecond), max(q.rate.Burst, 1)
	}
	if consented := rate.Limit(float64(perMinute) / 60); perMinute > 0 && consented < limit {
		limit, burst = consented, 1
	}
	q.limiter.SetLimit(limit)
	q.limiter.SetBurst(burst)
}

// stop ends fetching and waits for the queue's workers. Safe to call twice.
func (q *queue) stop() {
	q.cancel()
	<-q.done
}

// adoptOrphans starts, as removed, the queues found on the bus that belong
// to no pair of the rules: their deliveries are dead-lettered rather than
// left on the bus forever, but only after the removed-target grace and
// once no other replica (whose rules may still have the pair) serves the
// queue; see grace.go. Called with r.mu held.
func (r *Router) adoptOrphans(ctx context.Context) error {
	stream, err := r.js.Stream(ctx, bus.DeliveriesStream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", bus.DeliveriesStream, err)
	}
	list := stream.ListConsumers(ctx)
	for info := range list.Info() {
		md := info.Config.Metadata
		key := targetKey{md[metaBus], md[metaRule], md[metaTarget]}
		if key.rule == "" || r.queues[key] != nil {
			continue
		}
		cons, err := stream.Consumer(ctx, info.Name)
		if err != nil {
			return fmt.Errorf("queue %s: %w", info.Name, err)
		}
		r.queues[key] = r.startQueue(key, cons, r.opts.concurrency, rules.Rate{}, true)
		r.opts.log.Warn().Str("rule", key.rule).Str("target", key.target).
			Msg("queue of a target no rule has: draining it to the dead-letter queue")
	}
	if err := list.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		return fmt.Errorf("list queues: %w", err)
	}
	return r.adoptStranded(ctx, stream)
}

// keyOfSubject parses auditbus.deliveries.<bus>.<rule>.<target>. Bus,
// rule and target names are valid subject tokens already, so the tokens
// are the names.
func keyOfSubject(subject string) (targetKey, bool) {
	rest, ok := strings.CutPrefix(subject, bus.DeliveriesPrefix+".")
	parts := strings.Split(rest, ".")
	if !ok || len(parts) != 3 {
		return targetKey{}, false
	}
	return targetKey{parts[0], parts[1], parts[2]}, true
}
