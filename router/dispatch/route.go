package dispatch

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// route handles one message of the shared consumer of ready deliveries:
// delivered in a slot of its lane, which it waits for at most the slot
// wait, with at most the lane's room (and half the delivery workers,
// before the room of a target that starts to hang shrinks) waiting;
// otherwise, or when the target is held or not in the rules, parked on
// the pair's backlog. Either way it leaves the shared consumer's
// ack-pending within one attempt plus the slot wait.
func (r *Router) route(ctx context.Context, msg jetstream.Msg) {
	_, bn, rl, tg, _ := bus.DeliveryKind(msg.Subject()) // a ready subject: the consumer's filter
	key := targetKey{bn, rl, tg}
	d := fetched(key, msg)
	l, b := r.lane(key)
	if l == nil || r.holds(key, b) {
		r.park(ctx, d, l)
		return
	}
	now := time.Now()
	if !r.deliver(ctx, ctx, l, d, now.Add(slotWait), l.room(now, DefaultDeliveryWorkers/2)) {
		r.park(ctx, d, l) // the backlog takes it, and drains as slots free up
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
