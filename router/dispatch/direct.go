package dispatch

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// Delivering straight from the fan-out. A matched target that may take a
// delivery now (not held, no backlog draining, a slot of its lane free or
// free within the direct wait, with at most its concurrency of fan-outs
// waiting for one, its rate allowing) gets it from the
// fan-out, with the event decoded once for all of them: the common case
// costs the event's own write and ack, and no delivery message. What
// cannot go at once is queued as before. The fan-out waits for its direct
// attempts until the direct wait (WithDirectWait) is over; an attempt
// still running then gets a parked copy, so the event is acked with
// nothing that depends on this process alone, and a hanging target holds
// an event no longer than the direct wait. Such a late attempt that
// succeeds deletes its copy again when it can (a drain that already took
// the copy delivers it twice: at least once).

// directTry is one delivery the fan-out attempts itself.
type directTry struct {
	key  targetKey
	lane *lane
	done chan struct{} // closed once a is final

	mu       sync.Mutex
	a        attempt
	finished bool   // a is final
	late     bool   // the fan-out stopped waiting: the copy stands for it
	copySeq  uint64 // the copy's stream sequence, once stored
}

// deliverOrQueue delivers ev to every target of matched that can take it
// now, and stores what stands for every other delivery.
func (r *Router) deliverOrQueue(ctx context.Context, ev *storedEvent, matched []*rules.Rule) error {
	deadline := time.Now().Add(r.opts.directWait)
	p := &publishes{js: r.js}
	tries, err := r.launch(ctx, ev, matched, deadline, p)
	if err != nil {
		abandon(tries)
		return err
	}
	if err := r.awaitDirect(ctx, ev, tries, deadline, p); err != nil {
		return err
	}
	return p.wait(ctx, r.opts.pubAckWait)
}

// launch starts the direct attempts of ev's deliveries and publishes
// the rest with p. The event is decoded once, for all direct attempts.
func (r *Router) launch(ctx context.Context, ev *storedEvent, matched []*rules.Rule, deadline time.Time, p *publishes) ([]*directTry, error) {
	var (
		tries   []*directTry
		decoded *event.Event
	)
	for _, rule := range matched {
		for _, tg := range rule.Targets {
			key := targetKey{ev.bus, rule.Name, tg.ID}
			l := r.lane(key)
			switch {
			case l != nil && r.laneHeld(l):
				if _, err := p.add(ev.message(key, bus.BacklogSubject(key.bus, key.rule, key.target), 0, "/park")); err != nil {
					return tries, err
				}
				continue
			case l != nil && r.opts.directWait > 0 && r.drainOf(key) == nil && l.acquireUntil(ctx, deadline, l.directRoom()):
				if !l.limiter.Allow() {
					l.release()
					break
				}
				if decoded == nil {
					var err error
					if decoded, err = decodeEvent(ev.data); err != nil {
						l.release()
						break // the queue's attempt dead-letters it
					}
				}
				d := &directTry{key: key, lane: l, done: make(chan struct{})}
				tries = append(tries, d)
				go r.tryDirect(ctx, d, ev, decoded)
				continue
			}
			if _, err := p.add(ev.message(key, "", 0, "")); err != nil {
				return tries, err
			}
		}
	}
	return tries, nil
}

// abandon gives up on tries when the event is handed back anyway (it is
// matched again): their slots are released as they finish.
func abandon(tries []*directTry) {
	for _, d := range tries {
		d.mu.Lock()
		finished := d.finished
		d.late = true
		d.mu.Unlock()
		if finished {
			d.lane.release()
		}
	}
}

// awaitDirect waits for tries until deadline and stores what stands for
// each: its retry, parked copy or dead letter, nothing when delivered;
// and for one still running, a parked copy.
func (r *Router) awaitDirect(ctx context.Context, ev *storedEvent, tries []*directTry, deadline time.Time, p *publishes) error {
	if len(tries) == 0 {
		return nil
	}
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for _, d := range tries {
		select {
		case <-d.done:
		case <-wctx.Done():
		}
	}
	var late, settled []*directTry
	var lateCopies []int
	for _, d := range tries {
		d.mu.Lock()
		d.late = !d.finished
		d.mu.Unlock()
		if !d.late {
			settled = append(settled, d)
		}
	}
	// Released once settled, or given up on: a 410 disables the target
	// before another delivery may take the slot.
	defer func() {
		for _, d := range settled {
			d.lane.release()
		}
	}()
	for _, d := range tries {
		if d.late {
			i, err := p.add(ev.message(d.key, bus.BacklogSubject(d.key.bus, d.key.rule, d.key.target), 0, "/park"))
			if err != nil {
				return err
			}
			late, lateCopies = append(late, d), append(lateCopies, i)
			continue
		}
		if err := r.settleDirect(ctx, ev, d, p); err != nil {
			return err
		}
	}
	if len(late) == 0 {
		return nil
	}
	if err := p.wait(ctx, r.opts.pubAckWait); err != nil {
		return err
	}
	for i, d := range late {
		pa := p.acks[lateCopies[i]]
		d.mu.Lock()
		d.copySeq = pa.Sequence
		delivered := d.finished && d.a.delivered()
		d.mu.Unlock()
		if delivered {
			r.deleteCopy(ctx, pa.Sequence)
		}
	}
	return nil
}

// tryDirect attempts d in its lane's slot. The slot is released once the
// outcome is settled, by the fan-out (settleDirect: so that a 410 disables
// the target before another delivery takes the slot), or here when the
// fan-out stopped waiting.
func (r *Router) tryDirect(ctx context.Context, d *directTry, ev *storedEvent, decoded *event.Event) {
	t := r.acquire()
	now := time.Now()
	a := attempt{key: d.key, n: 1, at: now, enqueued: ev.stored, queued: now, maxN: r.opts.maxAttempts, maxAge: r.opts.maxAge}
	if b := t.bindings[d.key]; b == nil || r.holds(d.key, b) {
		a.held = true
	} else {
		r.try(ctx, b, ev.data, decoded, &a)
	}
	t.inUse.RUnlock()
	d.mu.Lock()
	d.a, d.finished = a, true
	late, seq := d.late, d.copySeq
	d.mu.Unlock()
	close(d.done)
	if !late {
		return
	}
	d.lane.release()
	if a.delivered() {
		r.metrics.deliveries.WithLabelValues(d.key.bus, d.key.rule, d.key.target, outDelivered).Inc()
		if seq > 0 {
			r.deleteCopy(ctx, seq)
		}
	}
}

// delivered reports whether the target took the delivery.
func (a *attempt) delivered() bool {
	return a.err == nil && a.dead == "" && !a.held && !a.handBack
}

// deleteCopy removes the parked copy of a late direct attempt that
// succeeded after all; failing that, the copy is delivered again.
func (r *Router) deleteCopy(ctx context.Context, seq uint64) {
	st, err := r.js.Stream(ctx, bus.DeliveriesStream)
	if err == nil {
		err = st.DeleteMsg(ctx, seq)
	}
	if err != nil {
		r.opts.log.Debug().Err(err).Uint64("seq", seq).Msg("the copy of a late delivery stays; it is delivered again")
	}
}

// settleDirect is settleDelivery for a finished direct attempt: what
// stands for it is published with p (a dead letter is stored at once).
func (r *Router) settleDirect(ctx context.Context, ev *storedEvent, d *directTry, p *publishes) error {
	a := &d.a
	key := d.key
	labels := []string{key.bus, key.rule, key.target}
	if a.err != nil && !a.handBack {
		r.metrics.deliveries.WithLabelValues(append(labels, outFailed)...).Inc()
	}
	backlog := bus.BacklogSubject(key.bus, key.rule, key.target)
	var err error
	switch {
	case a.handBack:
		_, err = p.add(ev.message(key, "", 0, ""))
	case a.held:
		_, err = p.add(ev.message(key, backlog, 0, "/park"))
	case a.gone():
		log := r.opts.log.With().Str("rule", key.rule).Str("target", key.target).Logger()
		log.Error().Err(a.err).Msg("target answered 410 Gone: disabled until an operator enables it; its deliveries stay queued")
		if dErr := r.disable(ctx, key, http.StatusGone, a.err.Error()); dErr != nil {
			log.Error().Err(dErr).Msg("the target is disabled here only")
		}
		_, err = p.add(ev.message(key, backlog, 1, "/park"))
	case a.delivered():
		r.metrics.deliveries.WithLabelValues(append(labels, outDelivered)...).Inc()
	case a.dead == "" && a.exhausted() == "":
		delay := retryDelay(a.n, r.opts.backoffBase, r.opts.backoffCap, sinks.RetryAfter(a.err))
		r.opts.log.Warn().Err(a.err).Str("rule", key.rule).Str("target", key.target).Uint64("attempt", a.n).Dur("retry_in", delay).Msg("delivery failed; will retry")
		r.metrics.deliveries.WithLabelValues(append(labels, outRetried)...).Inc()
		m := ev.message(key, bus.WaitSubject(key.bus, key.rule, key.target, bus.Token(ev.id)+"-1"), 1, "/retry-1")
		scheduleAt(m, key, delay)
		_, err = p.add(m)
	default:
		reason := a.dead
		if reason == "" {
			reason = a.exhausted()
		}
		subject := bus.DLQSubject(key.bus, key.rule, key.target)
		if err = r.storeDeadLetter(ctx, newDeadLetter(ev.data, a, reason), subject, "dlq-"+ev.id+"/"+key.rule+"/"+key.target); err == nil {
			r.opts.log.Error().Err(a.err).Str("rule", key.rule).Str("target", key.target).Str("reason", reason).Msg("delivery dead-lettered")
			r.metrics.deliveries.WithLabelValues(append(labels, outDeadLettered)...).Inc()
		}
	}
	return err
}
