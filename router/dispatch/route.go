package dispatch

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// route handles one message of the shared consumer of ready deliveries:
// delivered by its lane when the lane has a slot, or one within the slot
// wait (see lane.acquireUntil); parked on the pair's backlog when the
// target is held, saturated, draining a backlog already (which keeps the
// backlog in order and the lane on one path) or not in the rules. Either
// way the message leaves the shared consumer's ack-pending within one
// attempt plus the slot wait.
func (r *Router) route(ctx context.Context, msg jetstream.Msg) {
	kind, b, rl, tg, ok := bus.DeliveryKind(msg.Subject())
	if !ok || kind != "ready" {
		_ = msg.TermWithReason("not a delivery subject")
		return
	}
	key := targetKey{b, rl, tg}
	l := r.lane(key)
	switch {
	case l == nil || r.laneHeld(l):
		r.parkOrNak(ctx, msg, key)
	case r.drainOf(key) != nil:
		r.parkOrNak(ctx, msg, key)
	default:
		stop := r.keepAlive(msg) // a wait for a slot may outlast the ack wait
		ok := l.acquireUntil(ctx, time.Now().Add(slotWait), l.waitRoom())
		stop()
		switch {
		case ok:
			defer l.release()
			r.deliver(ctx, l, msg, false)
		case ctx.Err() != nil:
			_ = msg.Nak()
		default: // saturated: the backlog takes it, and drains as slots free up
			r.parkOrNak(ctx, msg, key)
			r.startDrain(key, l)
		}
	}
}

// slotWait bounds how long a ready delivery waits in the process for a
// slot of its lane before it is parked.
const slotWait = time.Second

// parkOrNak parks msg, or hands it back for a little later when parking
// failed (the bus is unwell): it is never dropped.
func (r *Router) parkOrNak(ctx context.Context, msg jetstream.Msg, key targetKey) {
	if err := r.park(ctx, msg, key); err != nil {
		r.opts.log.Warn().Err(err).Str("rule", key.rule).Str("target", key.target).Msg("parking a delivery failed; it comes back")
		_ = msg.NakWithDelay(pausedRetry)
		return
	}
	_ = msg.Ack()
}

// park copies msg onto key's backlog subject, where it waits without a
// consumer until the target can take it (backlog.go). Its message id is
// the ready message's sequence, so parking it again after a crash (the
// ack was lost) stores it once.
func (r *Router) park(ctx context.Context, msg jetstream.Msg, key targetKey) error {
	m := carry(msg, bus.BacklogSubject(key.bus, key.rule, key.target), priorAttempts(msg))
	if md, err := msg.Metadata(); err == nil {
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("park-%d", md.Sequence.Stream))
	}
	if _, err := r.js.PublishMsg(ctx, m, jetstream.WithExpectStream(bus.DeliveriesStream)); err != nil {
		return fmt.Errorf("park delivery: %w", err)
	}
	return nil
}

// reschedule stores a retry of a's delivery as a JetStream schedule:
// JetStream puts it back on the ready subject after delay, and nothing in
// the router waits for it meanwhile.
func (r *Router) reschedule(ctx context.Context, msg jetstream.Msg, a *attempt, delay time.Duration) error {
	var seq uint64
	if md, err := msg.Metadata(); err == nil {
		seq = md.Sequence.Stream
	}
	id := fmt.Sprintf("%d-%d", seq, a.n)
	m := carry(msg, bus.WaitSubject(a.key.bus, a.key.rule, a.key.target, id), a.n)
	m.Header.Set(jetstream.MsgIDHeader, "retry-"+id)
	scheduleAt(m, a.key, delay)
	if _, err := r.js.PublishMsg(ctx, m, jetstream.WithExpectStream(bus.DeliveriesStream)); err != nil {
		return fmt.Errorf("schedule retry: %w", err)
	}
	return nil
}

// scheduleAt makes m a JetStream schedule that puts it on key's ready
// subject after delay (JetStream fires schedules at most every 250ms).
func scheduleAt(m *nats.Msg, key targetKey, delay time.Duration) {
	m.Header.Set("Nats-Schedule", "@at "+time.Now().Add(delay).UTC().Format(time.RFC3339Nano))
	m.Header.Set("Nats-Schedule-Target", bus.DeliverySubject(key.bus, key.rule, key.target))
}

// carry is a copy of the delivery msg on subject, with attempts made so far.
func carry(msg jetstream.Msg, subject string, attempts uint64) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = msg.Data()
	h := msg.Headers()
	for _, k := range []string{bus.HeaderBus, bus.HeaderRule, bus.HeaderTarget, bus.HeaderEnqueued, "Content-Type"} {
		if v := h.Get(k); v != "" {
			m.Header.Set(k, v)
		}
	}
	m.Header.Set(bus.HeaderQueued, queuedAt(msg).UTC().Format(time.RFC3339Nano))
	m.Header.Set(bus.HeaderAttempts, strconv.FormatUint(attempts, 10))
	return m
}

// priorAttempts is how many attempts msg's delivery had before msg was
// fetched this time: those of earlier messages, and this one's own
// earlier deliveries (a crash or a handed-back attempt).
func priorAttempts(msg jetstream.Msg) uint64 {
	n, _ := strconv.ParseUint(msg.Headers().Get(bus.HeaderAttempts), 10, 64)
	if md, err := msg.Metadata(); err == nil && md.NumDelivered > 1 {
		n += md.NumDelivered - 1
	}
	return n
}

// queuedAt is when msg's delivery was first queued.
func queuedAt(msg jetstream.Msg) time.Time {
	if ts, err := time.Parse(time.RFC3339Nano, msg.Headers().Get(bus.HeaderQueued)); err == nil {
		return ts
	}
	if md, err := msg.Metadata(); err == nil {
		return md.Timestamp
	}
	return time.Now()
}
