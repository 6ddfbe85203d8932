package dispatch

import (
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/sinks"
)

// delivery is one (event, rule, target) on its way, read once from where
// it came from (the fan-out's event, or a delivery message): every step of
// an attempt and its settlement works on this, not on the message.
type delivery struct {
	key      targetKey
	data     []byte        // the stored event, unchanged
	decoded  *event.Event  // data decoded; shared by the targets of one fan-out; nil until needed
	shared   *sinks.Shared // what the targets of one fan-out build the same (nil: a fetched delivery's own)
	enqueued time.Time     // when the event was stored; max_age counts from it
	queued   time.Time     // when this delivery was first queued
	prior    uint64        // attempts made before this one
	// id is what the message ids of what stands for the delivery derive
	// from (msgID): the event's message id for a fan-out's delivery, the
	// delivery message's stream sequence for a fetched one. Stable across
	// a crash, so storing the same stand-in again is deduplicated.
	id  string
	msg jetstream.Msg // the delivery message; nil for a direct delivery
}

// fetched reads a delivery message of key once: its headers and metadata.
// The attempts it had count its own earlier deliveries (a crash, or an
// attempt handed back at shutdown).
func fetched(key targetKey, msg jetstream.Msg) *delivery {
	d := &delivery{key: key, data: msg.Data(), msg: msg}
	h := msg.Headers()
	d.prior, _ = strconv.ParseUint(h.Get(bus.HeaderAttempts), 10, 64)
	md, err := msg.Metadata()
	if err == nil {
		d.id = strconv.FormatUint(md.Sequence.Stream, 10)
		d.queued = md.Timestamp
		if md.NumDelivered > 1 {
			d.prior += md.NumDelivered - 1
		}
	} else {
		d.queued = time.Now()
	}
	if ts, err := time.Parse(time.RFC3339Nano, h.Get(bus.HeaderQueued)); err == nil {
		d.queued = ts
	}
	d.enqueued = d.queued
	if ts, err := time.Parse(time.RFC3339Nano, h.Get(bus.HeaderEnqueued)); err == nil {
		d.enqueued = ts
	}
	return d
}

// event returns the decoded event, decoding it on first use with the
// event's own decoder (through cejson): json.Unmarshal would scan the
// whole message twice (validate, then find the value's end) first.
func (d *delivery) event() (*event.Event, error) {
	if d.decoded == nil {
		var e event.Event
		if err := cejson.Unmarshal(d.data, &e); err != nil {
			return nil, err
		}
		d.decoded = &e
	}
	return d.decoded, nil
}

// standIn is a delivery message for d on subject (the ready subject when
// ""), after attempts attempts, with message id msgID.
func (d *delivery) standIn(subject string, attempts uint64, msgID string) *nats.Msg {
	m := deliveryMsg(d.key.bus, d.key.rule, d.key.target, d.data, d.enqueued)
	if subject != "" {
		m.Subject = subject
	}
	m.Header.Set(bus.HeaderQueued, d.queued.UTC().Format(time.RFC3339Nano))
	m.Header.Set(bus.HeaderAttempts, strconv.FormatUint(attempts, 10))
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	return m
}

// parked is d's stand-in on its backlog, where it waits without a
// consumer until its target can take it (backlog.go).
func (d *delivery) parked(attempts uint64) *nats.Msg {
	return d.standIn(bus.BacklogSubject(d.key.bus, d.key.rule, d.key.target), attempts, d.msgID("park"))
}

// msgID is the message id of d's stand-in of kind ("": its first ready
// message).
func (d *delivery) msgID(kind string) string {
	id := d.id + "/" + d.key.rule + "/" + d.key.target
	if kind == "" {
		return id
	}
	return kind + "-" + id
}

// retry is d's stand-in after attempt n failed: a JetStream schedule that
// puts it on the ready subject after delay (JetStream fires schedules at
// most every 250ms); nothing in the router waits for it meanwhile. One
// schedule per subject, hence the id in it.
func (d *delivery) retry(n uint64, delay time.Duration) *nats.Msg {
	nth := "-" + strconv.FormatUint(n, 10)
	m := d.standIn(bus.WaitSubject(d.key.bus, d.key.rule, d.key.target, bus.Token(d.id)+nth), n, d.msgID("retry")+nth)
	m.Header.Set("Nats-Schedule", "@at "+time.Now().Add(delay).UTC().Format(time.RFC3339Nano))
	m.Header.Set("Nats-Schedule-Target", bus.DeliverySubject(d.key.bus, d.key.rule, d.key.target))
	return m
}

// deliveryMsg is the queue message of one delivery: the stored event
// unchanged, and who it is for in headers.
func deliveryMsg(busName, rule, target string, data []byte, enqueued time.Time) *nats.Msg {
	m := nats.NewMsg(bus.DeliverySubject(busName, rule, target))
	m.Data = data
	m.Header.Set(bus.HeaderBus, busName)
	m.Header.Set(bus.HeaderRule, rule)
	m.Header.Set(bus.HeaderTarget, target)
	m.Header.Set(bus.HeaderEnqueued, enqueued.UTC().Format(time.RFC3339Nano))
	m.Header.Set("Content-Type", bus.ContentType)
	return m
}
