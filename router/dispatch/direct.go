package dispatch

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
)

// Delivering straight from the fan-out (doc.go). The slot wait ends
// half-way through the direct wait, so that an attempt that got its slot
// late still has time to finish before it needs a parked copy. A late
// attempt's copy that a drain already took is delivered twice: at least
// once.

// directTry is one delivery the fan-out attempts itself.
type directTry struct {
	d     *delivery
	l     *lane
	state atomic.Int32  // running, then finished (the fan-out settles it) or late (its parked copy stands for it)
	done  chan struct{} // closed once a is set
	a     *attempt
	copy  chan uint64 // a late try's copy: its sequence once stored; then closed
}

// The states of a directTry.
const (
	running = iota
	finished
	late
)

// deliverOrQueue delivers ev to every target of matched that can take it
// now, and stores what stands for every other delivery.
func (r *Router) deliverOrQueue(ctx context.Context, t *table, ev *delivery, matched []*rules.Rule) error {
	start := time.Now()
	p := &publishes{js: r.js}
	tries, err := r.launch(ctx, t, ev, matched, start.Add(r.opts.directWait/2), p)
	if err != nil {
		abandon(tries)
		return err
	}
	return r.awaitDirect(ctx, tries, start.Add(r.opts.directWait), p)
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
			case r.holds(b.key, b):
				r.countsOf(d.key, l).inc(parked)
				m = d.parked(0)
			case r.opts.directWait > 0 && l.acquire(ctx, slotBy, l.directRoom(time.Now(), time.Until(slotBy), r.opts.workers/2), &l.fanWaiting):
				if _, err := ev.event(); err != nil || !l.limiter.Allow() { // an undecodable event: the queue's attempt dead-letters it
					l.release()
					break
				}
				d.decoded = ev.decoded
				try := &directTry{d: d, l: l, done: make(chan struct{}), copy: make(chan uint64, 1)}
				tries = append(tries, try)
				r.crew.Go(func() { r.tryDirect(ctx, try) })
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
		if try.state.CompareAndSwap(running, late) {
			close(try.copy)
		} else {
			try.l.release()
		}
	}
}

// awaitDirect waits for tries until deadline and stores with p what
// stands for each (settle: its retry, parked copy or dead letter, nothing
// when delivered; for one still running, a parked copy), then waits for
// every PubAck of p. A late try that delivers is told its copy's sequence,
// to delete it.
func (r *Router) awaitDirect(ctx context.Context, tries []*directTry, deadline time.Time, p *publishes) error {
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for _, try := range tries {
		select {
		case <-try.done:
		case <-wctx.Done():
		}
	}
	copies := map[*directTry]int{} // a late try's copy's index in p
	defer func() {
		for try, i := range copies {
			if i < len(p.acks) {
				try.copy <- p.acks[i].Sequence
			}
			close(try.copy)
		}
	}()
	put := func(m *nats.Msg) error {
		_, err := p.add(m)
		return err
	}
	for i, try := range tries {
		var err error
		switch {
		case try.state.CompareAndSwap(running, late):
			r.countsOf(try.d.key, try.l).inc(parked)
			copies[try] = len(p.futures) // never acked when the publish fails
			err = put(try.d.parked(0))
		case try.a.handBack: // shutdown interrupted it: queued
			err = put(try.d.standIn("", 0, try.d.msgID("")))
			try.l.release()
		default: // settled as a queued one would be, with the event's PubAcks (a dead letter at once)
			_, err = r.settle(ctx, try.a, put)
			try.l.release() // after a 410 disabled the target
		}
		if err != nil {
			abandon(tries[i+1:])
			return err
		}
	}
	return p.wait(ctx, r.opts.pubAckWait)
}

// tryDirect attempts try in its lane's slot. The fan-out settles it and
// releases the slot, unless it stopped waiting: then the slot is released
// here, a success deletes the parked copy once it is stored, and a 410
// Gone still disables the target (else a target that answered 410 once
// would get the copy as if it had not).
func (r *Router) tryDirect(ctx context.Context, try *directTry) {
	try.a = r.attempt(ctx, try.l, try.d, nil)
	close(try.done)
	if try.state.CompareAndSwap(running, finished) {
		return
	}
	try.l.release()
	if try.a.gone() { // its parked copy is then held, as every delivery to a gone target
		r.disableGone(ctx, try.a)
	}
	if !try.a.delivered() {
		return
	}
	try.a.counts.inc(delivered)
	if seq, ok := <-try.copy; ok {
		r.deleteCopy(ctx, seq)
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
