package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
)

// Delivering straight from the fan-out. A matched target that may take a
// delivery now (not held, a slot of its lane free or free within half the
// direct wait, with at most lane.directRoom fan-outs waiting for one, its
// rate allowing) gets it from the fan-out, with the event decoded
// once for all of them: the common case costs the event's own write and
// ack, and no delivery message. What cannot go at once is queued. The
// fan-out waits for its direct attempts until the direct wait
// (WithDirectWait) is over; an attempt still running then gets a parked
// copy, so the event is acked with nothing that depends on this process
// alone, and a hanging target holds an event no longer than the direct
// wait. Such a late attempt that succeeds deletes its copy again when it
// can (a drain that already took the copy delivers it twice: at least
// once). The slot wait ends half-way, so an attempt that got its slot
// late still has half the direct wait to finish before it needs a copy.

// directTry is one delivery the fan-out attempts itself.
type directTry struct {
	d    *delivery
	l    *lane
	done chan struct{} // closed once a is final

	mu       sync.Mutex
	a        *attempt
	finished bool   // a is final
	late     bool   // the fan-out stopped waiting: the copy stands for it
	copySeq  uint64 // the copy's stream sequence, once stored
}

// deliverOrQueue delivers ev to every target of matched that can take it
// now, and stores what stands for every other delivery.
func (r *Router) deliverOrQueue(ctx context.Context, t *table, ev *delivery, matched []*rules.Rule) error {
	start := time.Now()
	deadline := start.Add(r.opts.directWait)
	p := &publishes{js: r.js}
	tries, err := r.launch(ctx, t, ev, matched, start.Add(r.opts.directWait/2), p)
	if err != nil {
		abandon(tries)
		return err
	}
	if err := r.awaitDirect(ctx, tries, deadline, p); err != nil {
		return err
	}
	return p.wait(ctx, r.opts.pubAckWait)
}

// launch starts the direct attempts of ev's deliveries and publishes
// the rest with p. The event is decoded once, for all direct attempts.
func (r *Router) launch(ctx context.Context, t *table, ev *delivery, matched []*rules.Rule, slotBy time.Time, p *publishes) ([]*directTry, error) {
	var tries []*directTry
	for _, rule := range matched {
		for _, b := range t.byRule[rule].bindings {
			d, l := ev.forTarget(b.key), b.lane
			var m *nats.Msg
			switch {
			case r.laneHeld(l):
				r.countsOf(d.key, l).inc(parked)
				m = d.parked(0)
			case r.opts.directWait > 0 && l.acquire(ctx, slotBy, l.directRoom(time.Now(), time.Until(slotBy), r.opts.workers/2)):
				if _, err := ev.event(); err != nil || !l.limiter.Allow() { // an undecodable event: the queue's attempt dead-letters it
					l.release()
					break
				}
				d.decoded = ev.decoded
				try := &directTry{d: d, l: l, done: make(chan struct{})}
				tries = append(tries, try)
				go r.tryDirect(ctx, try)
				continue
			}
			if m == nil {
				m = d.standIn("", 0, d.msgID(""))
			}
			if _, err := p.add(m); err != nil {
				return tries, err
			}
		}
	}
	return tries, nil
}

// abandon gives up on tries when the event is handed back anyway (it is
// matched again): their slots are released as they finish.
func abandon(tries []*directTry) {
	for _, try := range tries {
		try.mu.Lock()
		finished := try.finished
		try.late = true
		try.mu.Unlock()
		if finished {
			try.l.release()
		}
	}
}

// awaitDirect waits for tries until deadline and stores what stands for
// each (settle): its retry, parked copy or dead letter, nothing when
// delivered; and for one still running, a parked copy.
func (r *Router) awaitDirect(ctx context.Context, tries []*directTry, deadline time.Time, p *publishes) error {
	if len(tries) == 0 {
		return nil
	}
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for _, try := range tries {
		select {
		case <-try.done:
		case <-wctx.Done():
		}
	}
	var late []*directTry
	var copies []int
	for _, try := range tries {
		try.mu.Lock()
		try.late = !try.finished
		try.mu.Unlock()
		if !try.late {
			// Released once settled: a 410 disables the target before
			// another delivery may take the slot.
			defer try.l.release()
		}
	}
	for _, try := range tries {
		if try.late {
			r.countsOf(try.d.key, try.l).inc(parked)
			i, err := p.add(try.d.parked(0))
			if err != nil {
				return err
			}
			late, copies = append(late, try), append(copies, i)
			continue
		}
		// Settled as a queued one would be, stored with the event's
		// PubAcks (a dead letter at once); one shutdown interrupted is queued.
		put := func(m *nats.Msg) error {
			_, err := p.add(m)
			return err
		}
		var err error
		if try.a.handBack {
			err = put(try.d.standIn("", 0, try.d.msgID("")))
		} else {
			_, err = r.settle(ctx, try.a, put)
		}
		if err != nil {
			return err
		}
	}
	if len(late) == 0 {
		return nil
	}
	if err := p.wait(ctx, r.opts.pubAckWait); err != nil {
		return err
	}
	for i, try := range late {
		seq := p.acks[copies[i]].Sequence
		try.mu.Lock()
		try.copySeq = seq
		delivered := try.finished && try.a.delivered()
		try.mu.Unlock()
		if delivered {
			r.deleteCopy(ctx, seq)
		}
	}
	return nil
}

// tryDirect attempts try in its lane's slot. The slot is released once the
// outcome is settled, by the fan-out (so that a 410 disables the target
// before another delivery takes the slot), or here when the fan-out
// stopped waiting.
func (r *Router) tryDirect(ctx context.Context, try *directTry) {
	a := r.attempt(ctx, try.l, try.d, nil)
	try.mu.Lock()
	try.a, try.finished = a, true
	late, seq := try.late, try.copySeq
	try.mu.Unlock()
	close(try.done)
	if !late {
		return
	}
	try.l.release()
	if a.delivered() {
		a.counts.inc(delivered)
		if seq > 0 {
			r.deleteCopy(ctx, seq)
		}
	}
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
