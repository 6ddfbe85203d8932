package dispatch

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// route handles one message of the shared consumer of ready deliveries:
// delivered by its lane when the lane has a slot, or one within the slot
// wait (lane.acquire, with the lane's room, at most half the delivery
// workers, so that a target that starts to hang holds at most half of
// them, for at most the slot wait, before its room shrinks); parked on the
// pair's backlog
// when the target is held, not in the rules, or has no slot in time.
// Either way the message leaves the shared consumer's ack-pending within
// one attempt plus the slot wait. A backlog that drains does not divert
// new deliveries: they take the lane's slots as the drain does.
func (r *Router) route(ctx context.Context, msg jetstream.Msg) {
	kind, b, rl, tg, ok := bus.DeliveryKind(msg.Subject())
	if !ok || kind != "ready" {
		_ = msg.TermWithReason("not a delivery subject")
		return
	}
	key := targetKey{b, rl, tg}
	d := fetched(key, msg)
	l := r.lane(key)
	if l == nil || r.laneHeld(l) {
		r.park(ctx, d, l)
		return
	}
	stop := r.keepAlive(msg) // a wait for a slot may outlast a short ack wait
	now := time.Now()
	ok = l.acquire(ctx, now.Add(slotWait), l.room(now, DefaultDeliveryWorkers/2))
	stop()
	switch {
	case ok:
		defer l.release()
		r.deliver(ctx, l, d)
	case ctx.Err() != nil:
		_ = msg.Nak()
	default: // no slot in time: the backlog takes it, and drains as slots free up
		r.park(ctx, d, l)
		r.startDrain(key, l)
	}
}

// slotWait bounds how long a ready delivery waits in the process for a
// slot of its lane before it is parked.
const slotWait = time.Second

// park moves a fetched delivery to its backlog (settle's held case),
// where it waits without a consumer until the target can take it
// (backlog.go). Its message id is the ready message's sequence, so
// parking it again after a crash (the ack was lost) stores it once.
func (r *Router) park(ctx context.Context, d *delivery, l *lane) {
	a := r.newAttempt(d, l)
	a.held = true
	r.settleDelivery(ctx, a)
}
