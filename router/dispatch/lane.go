package dispatch

import (
	"cmp"
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/auditbus/auditbus/rules"
)

// lane is one (rule, target)'s place in the process: its concurrency, its
// rate, and whether a backlog drain runs. It holds no JetStream resource;
// building one costs a few allocations, so a rule set of 100,000 targets
// has 100,000 lanes and no consumer.
type lane struct {
	key         targetKey
	concurrency int
	rate        rules.Rate    // the target's own; zero: unlimited
	limiter     *rate.Limiter // the lower of rate and the consented cap
	capped      atomic.Int64  // the consented cap the limiter has, per minute; 0: none
	slots       chan struct{} // one per delivery in flight
	waiting     atomic.Int32  // fetched deliveries waiting in the process for a slot
	fanWaiting  atomic.Int32  // fan-outs waiting for a slot (directRoom)
	progress    atomic.Int64  // when a slot was last free or freed, in Unix ns
	paceStart   atomic.Int64  // when done began counting, in Unix ns
	done        atomic.Int64  // deliveries done since paceStart
	pace        atomic.Int64  // deliveries done in the slot wait before paceStart
	paced       atomic.Bool   // pace measured a whole slot wait
	counts      atomic.Pointer[counts]
	seeking     atomic.Bool // a consent request is being sent (consent.go)
}

func newLane(key targetKey, b *binding, defaultConc int) *lane {
	l := &lane{key: key, concurrency: cmp.Or(b.target.Concurrency, defaultConc),
		limiter: rate.NewLimiter(rate.Inf, 1)}
	if b.target.Rate != nil {
		l.rate = *b.target.Rate
	}
	l.slots = make(chan struct{}, l.concurrency)
	l.setLimit(0)
	return l
}

// acquire takes a slot for one delivery: at once when one is free; else
// it waits until deadline (zero: as long as it takes), as long as fewer
// than room others counted by waiting already wait (room 0: no bound). It
// reports false when the delivery should go elsewhere instead (or ctx
// ended). Fan-outs (fanWaiting) and fetched deliveries (waiting) are
// counted apart: fetched deliveries may wait in far greater numbers (the
// lane's room), and counted together they took every place a fan-out
// could wait in, so a target that fell behind once had a share of its new
// deliveries queued (a write, a fetch, an ack and a removal each, fsynced)
// for as long as its queue had any.
func (l *lane) acquire(ctx context.Context, deadline time.Time, room int, waiting *atomic.Int32) bool {
	select {
	case l.slots <- struct{}{}:
		l.progress.Store(time.Now().UnixNano())
		return true
	default:
	}
	if n := waiting.Add(1); room > 0 && n > int32(room) {
		waiting.Add(-1)
		return false
	}
	defer waiting.Add(-1)
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	select {
	case l.slots <- struct{}{}:
		return true
	case <-expired:
		return false
	case <-ctx.Done():
		return false
	}
}

// release frees a slot, which is progress: the target keeps up. It
// counts the deliveries done per slot wait, the pace room reads.
func (l *lane) release() {
	now := time.Now().UnixNano()
	l.progress.Store(now)
	if start := l.paceStart.Load(); now-start >= int64(slotWait) && l.paceStart.CompareAndSwap(start, now) {
		if n := l.done.Swap(0); start != 0 {
			l.pace.Store(n)
			l.paced.Store(true)
		}
	}
	l.done.Add(1)
	<-l.slots
}

// room is how many deliveries of the shared consumer may wait in the
// process for a slot of l, each for at most the slot wait (doc.go): while
// l makes progress (a slot was free or freed within the slot wait), what
// it delivered in the last slot wait, at most limit, so that only what
// would wait longer is parked and the shared consumer moves on; the whole
// limit before a first slot wait is measured. A target that made no
// progress for the slot wait hangs: four times its concurrency, at least
// 32.
func (l *lane) room(now time.Time, limit int) int {
	base := max(4*l.concurrency, 32)
	limit = max(limit, base)
	switch {
	case now.Sub(time.Unix(0, l.progress.Load())) >= slotWait:
		return base
	case !l.paced.Load(): // no slot wait measured yet: the first burst of a target that keeps up
		return limit
	}
	return min(max(int(max(l.pace.Load(), l.done.Load())), base), limit)
}

// directRoom is how many fan-outs may wait for a slot of l, each for at
// most wait: its concurrency, or, while l makes progress, what it frees in
// wait at its pace, at most limit. A waiting fan-out holds an events
// worker every target shares, so a slow or hanging target holds no more
// of them than it has slots; a fast target that is merely saturated still
// gets its deliveries from the fan-out rather than a queued copy (a write,
// a fetch, an ack and a delete, about what the event itself costs).
func (l *lane) directRoom(now time.Time, wait time.Duration, limit int) int {
	if now.Sub(time.Unix(0, l.progress.Load())) >= slotWait || !l.paced.Load() {
		return l.concurrency
	}
	free := int(max(l.pace.Load(), l.done.Load()) * int64(wait) / int64(slotWait))
	return min(max(free, l.concurrency), max(limit, l.concurrency))
}

// capRate limits l to the lower of its target's rate and perMinute, the
// rate its endpoint consented to (WebHook-Allowed-Rate; 0: no cap).
// A binding of a table never installed has no lane.
func (l *lane) capRate(perMinute int) {
	if l != nil && l.capped.Swap(int64(perMinute)) != int64(perMinute) {
		l.setLimit(perMinute)
	}
}

func (l *lane) setLimit(perMinute int) {
	limit, burst := rate.Inf, 1
	if l.rate.PerSecond > 0 {
		limit, burst = rate.Limit(l.rate.PerSecond), max(l.rate.Burst, 1)
	}
	if consented := rate.Limit(float64(perMinute) / 60); perMinute > 0 && consented < limit {
		limit, burst = consented, 1
	}
	l.limiter.SetLimit(limit)
	l.limiter.SetBurst(burst)
}

// syncLanes gives every pair of t a lane, keeping the lane of a pair
// whose concurrency and rate did not change (its slots and drain go on).
// The lanes of pairs t lacks are dropped with the old table: what is
// queued for them is parked, and dead-lettered once the removed-target
// grace passed (backlog.go). Called with r.mu held, before t is installed.
func (r *Router) syncLanes(t *table) {
	old := r.table.Load().bindings
	for key, b := range t.bindings {
		b.lane = newLane(key, b, r.opts.concurrency)
		if o := old[key]; o != nil && o.lane.concurrency == b.lane.concurrency && o.lane.rate == b.lane.rate {
			b.lane = o.lane
		}
	}
}

// lane returns key's lane and binding in the installed table; nil when
// the rules lack the pair.
func (r *Router) lane(key targetKey) (*lane, *binding) {
	if b := r.table.Load().bindings[key]; b != nil {
		return b.lane, b
	}
	return nil, nil
}
