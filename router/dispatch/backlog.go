package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// Backlog is what waits for one target on the bus: ready, scheduled for a
// retry, or parked while the target is held or saturated; in-flight
// deliveries included. Read by the sweep every depth interval.
type Backlog struct {
	Deliveries uint64 `json:"deliveries"`
	// OldestWaitingSeconds is the age of the oldest of them, from when it
	// was stored in its current place (a retry: when it was scheduled).
	OldestWaitingSeconds float64 `json:"oldest_waiting_seconds"`
}

// EventsLag is the events consumer's state, read by the sweep: events
// stored but not yet fanned out (Pending), being fanned out (InFlight),
// and fanned out again after a failure (Redelivered).
type EventsLag struct {
	Pending     uint64    `json:"pending"`
	InFlight    int       `json:"in_flight"`
	Redelivered int       `json:"redelivered"`
	At          time.Time `json:"at"`
}

// Backlog returns what waits for a target, as the last sweep saw it.
func (r *Router) Backlog(busName, rule, target string) Backlog {
	r.backlogMu.RLock()
	defer r.backlogMu.RUnlock()
	return r.backlogs[targetKey{busName, rule, target}]
}

// EventsLag returns the events consumer's lag as the last sweep saw it;
// false before the first sweep.
func (r *Router) EventsLag() (EventsLag, bool) {
	if l := r.eventsLag.Load(); l != nil {
		return *l, true
	}
	return EventsLag{}, false
}

func (r *Router) kickSweep() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// sweep runs until ctx ends: every depth interval, and when the target
// states change, it reads what the deliveries stream holds per target (one
// request, and three per target with a backlog for the oldest's age),
// updates the gauges and Backlog, starts the drains, and checks orphans.
func (r *Router) sweep(ctx context.Context) {
	tick := time.NewTicker(r.opts.depthInterval)
	defer tick.Stop()
	gauged := map[targetKey]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.kick:
		}
		if err := r.sweepOnce(ctx, gauged); err != nil && ctx.Err() == nil {
			r.opts.log.Warn().Err(err).Msg("reading the deliveries' backlogs")
		}
		r.pollEventsFloor(ctx)
	}
}

func (r *Router) sweepOnce(ctx context.Context, gauged map[targetKey]bool) error {
	st, err := r.js.Stream(ctx, bus.DeliveriesStream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", bus.DeliveriesStream, err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(bus.DeliveriesPrefix+".>"))
	if err != nil {
		return fmt.Errorf("stream %s subjects: %w", bus.DeliveriesStream, err)
	}
	backlogs := map[targetKey]Backlog{}
	parked := map[targetKey]bool{}
	for subject, n := range info.State.Subjects {
		if kind, b, rl, tg, ok := bus.DeliveryKind(subject); ok && n > 0 {
			key := targetKey{b, rl, tg}
			backlogs[key] = Backlog{Deliveries: backlogs[key].Deliveries + n}
			parked[key] = parked[key] || kind == "backlog"
		}
	}
	now := time.Now()
	for key, bl := range backlogs {
		if oldest, ok := r.oldest(ctx, st, key); ok {
			bl.OldestWaitingSeconds = max(now.Sub(oldest).Seconds(), 0)
			backlogs[key] = bl
		}
	}
	for key := range r.table.Load().bindings {
		backlogs[key] = backlogs[key] // every pair has its gauges, 0 when nothing waits
	}
	r.setGauges(backlogs, gauged)
	r.backlogMu.Lock()
	r.backlogs = backlogs
	r.backlogMu.Unlock()
	for key := range r.orphans {
		if !parked[key] {
			delete(r.orphans, key)
		}
	}
	for key := range parked {
		if l, b := r.lane(key); l == nil {
			r.checkOrphan(ctx, key, now)
		} else if delete(r.orphans, key); !r.holds(key, b) {
			r.startDrain(key, l)
		}
	}
	return nil
}

// oldest is the stored time of key's oldest waiting delivery.
func (r *Router) oldest(ctx context.Context, st jetstream.Stream, key targetKey) (time.Time, bool) {
	var first time.Time
	for _, subject := range []string{bus.DeliverySubject(key.bus, key.rule, key.target),
		bus.BacklogSubject(key.bus, key.rule, key.target), bus.WaitSubject(key.bus, key.rule, key.target, "*")} {
		m, err := st.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subject))
		if err == nil && (first.IsZero() || m.Time.Before(first)) {
			first = m.Time
		}
	}
	return first, !first.IsZero()
}

// setGauges sets the depth and age gauges of every key of backlogs, and
// drops the series of keys gauged before that it lacks.
func (r *Router) setGauges(backlogs map[targetKey]Backlog, gauged map[targetKey]bool) {
	for key := range gauged {
		if _, ok := backlogs[key]; !ok {
			r.metrics.depth.DeleteLabelValues(key.bus, key.rule, key.target)
			r.metrics.oldest.DeleteLabelValues(key.bus, key.rule, key.target)
			delete(gauged, key)
		}
	}
	for key, bl := range backlogs {
		r.metrics.depth.WithLabelValues(key.bus, key.rule, key.target).Set(float64(bl.Deliveries))
		r.metrics.oldest.WithLabelValues(key.bus, key.rule, key.target).Set(bl.OldestWaitingSeconds)
		gauged[key] = true
	}
}

// checkOrphan dead-letters key's backlog, a backlog of a pair the rules
// lack, once nobody drained it for the removed-target grace since this
// router first saw it (r.orphans: the last sign of activity): another
// replica whose rules still have the pair drains it itself, and its
// consumer then shows a pull waiting, or a delivery or ack in that time.
// While draining, this router pulls from it itself, so a drain it started
// does not hold itself back.
func (r *Router) checkOrphan(ctx context.Context, key targetKey, now time.Time) {
	active, seen := r.orphans[key]
	if !seen {
		active, r.orphans[key] = now, now
		r.opts.log.Warn().Str("rule", key.rule).Str("target", key.target).Dur("grace", r.opts.removedGrace).
			Msg("deliveries for a target no rule here has: dead-lettered after the grace unless it comes back or another replica serves it")
	}
	if _, draining := r.drainsOf.Load(key); draining {
		return
	}
	if c, err := r.js.Consumer(ctx, bus.DeliveriesStream, bus.QueueName(key.bus, key.rule, key.target)); err == nil {
		ci := c.CachedInfo()
		if ci.NumWaiting > 0 {
			r.orphans[key] = now
			return
		}
		for _, t := range []*time.Time{ci.Delivered.Last, ci.AckFloor.Last} {
			if t != nil && t.After(active) {
				active = *t
			}
		}
	}
	r.orphans[key] = active
	if now.Sub(active) >= r.opts.removedGrace {
		r.opts.log.Warn().Str("rule", key.rule).Str("target", key.target).Dur("grace", r.opts.removedGrace).
			Msg("target removed and its backlog unused for the grace: what is still queued for it goes to the dead-letter queue")
		r.startDrain(key, nil)
	}
}

// startDrain starts reading key's backlog for l (nil: dead-letter it),
// unless a drain of key runs already or Run is not running.
func (r *Router) startDrain(key targetKey, l *lane) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.qctx == nil || r.stopped || r.qctx.Err() != nil {
		return
	}
	if _, running := r.drainsOf.LoadOrStore(key, l); running {
		return
	}
	ctx, work := r.qctx, r.work
	r.drains.Go(func() {
		defer r.drainsOf.Delete(key)
		if err := r.runDrain(ctx, work, key, l); err != nil && ctx.Err() == nil {
			r.opts.log.Warn().Err(err).Str("rule", key.rule).Str("target", key.target).Msg("draining a backlog")
		}
	})
}

// runDrain creates the backlog's consumer, or finds it (shared by the
// replicas that drain it), once the bus's store is whole, and delivers
// from it through the lane until the backlog is empty, the target is
// held, or the lane is replaced; an orphan's (l nil) until its pair is
// back. JetStream deletes the consumer once unused (backlogInactive).
func (r *Router) runDrain(ctx, work context.Context, key targetKey, l *lane) error {
	conc := r.opts.concurrency
	if l != nil {
		conc = l.concurrency
	}
	if _, err := r.opts.disk.Settled(ctx); err != nil {
		return nil
	}
	cons, err := r.js.CreateOrUpdateConsumer(ctx, bus.DeliveriesStream, r.backlogConsumerConfig(key, conc))
	if err != nil {
		return fmt.Errorf("backlog consumer: %w", err)
	}
	handle := func(work context.Context, msg jetstream.Msg) { r.drainOne(ctx, work, key, l, msg) }
	r.pull(ctx, work, cons, conc, handle, func(empty bool) bool {
		if now, b := r.lane(key); now != l || l != nil && r.holds(key, b) {
			return false
		}
		if !empty {
			return true
		}
		info, err := cons.Info(ctx)
		// Empty: JetStream deletes the consumer once unused (backlogInactive).
		// Gone: another replica found it empty; the next sweep looks again.
		return err == nil && (info.NumPending > 0 || info.NumAckPending > 0)
	})
	return nil
}

// drainOne delivers (or, for an orphan, dead-letters) one backlog message.
func (r *Router) drainOne(ctx, work context.Context, key targetKey, l *lane, msg jetstream.Msg) {
	d := fetched(key, msg)
	if l != nil {
		r.deliver(ctx, work, l, d, time.Time{}, 0)
		return
	}
	a := r.newAttempt(d, nil)
	a.dead = "target removed"
	if l, _ := r.lane(key); l != nil {
		a.dead, a.held = "", true // back in the rules meanwhile
	}
	r.settleDelivery(work, a)
}

// backlogConsumerConfig is the consumer of key's backlog, which exists
// while the backlog drains. MaxAckPending leaves room for deliveries
// waiting for a retry beyond the concurrency; the lane's slots, not
// MaxAckPending, bound concurrency. The inactive threshold removes one
// that every replica left behind (a crash mid-drain).
func (r *Router) backlogConsumerConfig(key targetKey, conc int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:           bus.QueueName(key.bus, key.rule, key.target),
		Description:       fmt.Sprintf("auditbus backlog: bus %s rule %s target %s", key.bus, key.rule, key.target),
		FilterSubject:     bus.BacklogSubject(key.bus, key.rule, key.target),
		AckPolicy:         jetstream.AckExplicitPolicy,
		AckWait:           r.opts.ackWait,
		MaxDeliver:        -1,
		MaxAckPending:     conc * 2,
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		InactiveThreshold: backlogInactive,
	}
}

// backlogInactive is how long a backlog consumer nobody pulls from lives:
// long enough for a busy target's backlog to drain again without a new
// consumer, short enough that idle targets soon cost none.
const backlogInactive = 30 * time.Second
