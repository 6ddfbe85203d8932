package dispatch

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Draining the queue of a pair this router has no rule for.
//
// A queue is "removed" when its (rule, target) left this router's rules,
// or when the router found it on the bus without a rule of its own (a
// consumer at start, adoptOrphans; or deliveries on a subject without a
// consumer, adoptStranded and the sweep in stranded.go). Such a queue is
// not dead-lettered at once. It is paused (nothing fetched) and drained
// only when both hold:
//
//   - the removed-target grace (WithRemovedTargetGrace, default 1m) has
//     passed since it was removed or found, so a pair that comes back
//     meanwhile (a half-written rule file during hot reload, a rule
//     replaced in two steps) just resumes, nothing dead-lettered;
//   - nobody else served the queue for a whole grace: the consumer showed
//     no pull request waiting (NumWaiting) and no delivery or
//     acknowledgement (Delivered.Last, AckFloor.Last) in that time. While
//     paused this router does not pull from the queue, so such activity
//     is another replica's, one whose rules still have the pair (or this
//     router's own deliveries still in flight when the pair was removed,
//     which only delay the drain by up to one more grace).
//
// So two replicas whose rules differ for a while (a rolling deploy) do not
// fight: the one without the pair leaves the queue alone as long as the
// other one pulls from it, and the queue is drained (reason "target
// removed") once no replica serves it any more. Every replica without the
// pair comes to the same conclusion then, and they drain it together.
// Once draining started it goes on until the queue is empty and retired,
// unless the pair comes back to this router's rules. Limits: a replica
// whose target is disabled (410) does not pull, so it looks gone; so does
// one whose workers are all held by attempts longer than the grace; and
// the server's timestamps are compared with this host's clock. Keep the
// grace above the targets' timeouts and the clock skew.
type removal struct {
	mu       sync.Mutex // orders remove, keep, checkDrain and recreating the consumer
	since    time.Time  // when the pair was removed or found
	active   time.Time  // the last sign of another replica serving the queue
	draining atomic.Bool
}

// remove marks q's pair as absent from the rules from now on, paused
// until checkDrain lets it drain. It reports whether q was in the rules.
func (q *queue) remove(now time.Time) bool {
	q.rm.mu.Lock()
	defer q.rm.mu.Unlock()
	if q.removed.Load() {
		return false
	}
	q.rm.since, q.rm.active = now, time.Time{}
	q.rm.draining.Store(false)
	q.removed.Store(true)
	return true
}

// keep marks q's pair as back in the rules: it resumes.
func (q *queue) keep() {
	q.rm.mu.Lock()
	defer q.rm.mu.Unlock()
	q.removed.Store(false)
	q.rm.draining.Store(false)
}

// draining reports whether q drains to the dead-letter queue.
func (q *queue) draining() bool { return q.removed.Load() && q.rm.draining.Load() }

// checkDrain lets a removed queue drain once the grace is over and info,
// the consumer's state read now, shows nobody else served it for a grace.
func (r *Router) checkDrain(q *queue, info *jetstream.ConsumerInfo, now time.Time) {
	q.rm.mu.Lock()
	defer q.rm.mu.Unlock()
	if !q.removed.Load() || q.rm.draining.Load() {
		return
	}
	if info.NumWaiting > 0 {
		q.rm.active = now
	}
	for _, t := range []*time.Time{info.Delivered.Last, info.AckFloor.Last} {
		if t != nil && t.After(q.rm.active) {
			q.rm.active = *t
		}
	}
	quiet := now.Sub(q.rm.since)
	if q.rm.active.After(q.rm.since) {
		quiet = now.Sub(q.rm.active)
	}
	if info.NumWaiting == 0 && quiet >= r.opts.removedGrace {
		q.rm.draining.Store(true)
		r.opts.log.Warn().Str("rule", q.key.rule).Str("target", q.key.target).Dur("grace", r.opts.removedGrace).
			Msg("target removed and its queue unused for the grace: what is still queued for it goes to the dead-letter queue")
	}
}

// removedAttempt settles a delivery fetched for a pair the rules lack: held
// in its queue while the pair may still come back or another replica
// serves it, dead-lettered once the queue drains.
func removedAttempt(q *queue, a *attempt) {
	if q.draining() {
		a.dead = "target removed"
	} else {
		a.held = true
	}
}
