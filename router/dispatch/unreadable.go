package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// An event the router cannot read (not a structured CloudEvent: another
// tool published it straight onto an events subject, bypassing ingest,
// which refuses such events) can never be matched. It is not dropped: it
// goes to the dead-letter queue with the reason, and only once JetStream
// stored that entry is it terminated on the events stream.

// ReasonUnreadable is the Reason of the dead letter of an event the router
// could not read. Such an entry belongs to no rule or target (both "") and
// is stored on auditbus.dlq.<bus>._._; it cannot be redriven.
const ReasonUnreadable = "unreadable event"

// unreadableTextBytes is how much of an event too large for its dead
// letter the entry keeps: the whole event stays on the events stream.
const unreadableTextBytes = 64 << 10

// deadLetterEvent stores the dead letter of the unreadable event msg;
// cause is why it could not be read. The entry's message id is derived
// from the event's stream sequence, so a retry after a crash keeps one.
func (r *Router) deadLetterEvent(ctx context.Context, msg jetstream.Msg, cause string) error {
	now := time.Now().UTC()
	dl := DeadLetter{Bus: bus.BusOf(msg.Subject()), Reason: ReasonUnreadable, LastError: cause,
		LastAttemptAt: now, DeadLetteredAt: now, EventSubject: msg.Subject()}
	var msgID string
	if md, err := msg.Metadata(); err == nil {
		dl.Attempts, dl.EventSequence = md.NumDelivered, md.Sequence.Stream
		dl.EnqueuedAt, dl.QueuedAt = md.Timestamp, md.Timestamp
		msgID = fmt.Sprintf("dlq-event-%d", md.Sequence.Stream)
	}
	setEvent(&dl, msg.Data())
	if r.tooLargeForEntry(&dl) {
		data := msg.Data()
		dl.Event, dl.EventText, dl.EventTruncated = nil, string(data[:min(len(data), unreadableTextBytes)]), true
	}
	busToken := dl.Bus
	if busToken == "" {
		busToken = bus.Placeholder
	}
	return r.storeDeadLetter(ctx, &dl, bus.DLQSubject(busToken, bus.Placeholder, bus.Placeholder), msgID)
}

// entryHeaderBytes is room for a dead letter's headers, which count
// against the largest message too.
const entryHeaderBytes = 1 << 10

// tooLargeForEntry reports whether dl would exceed the server's largest
// message: the event alone may fill it, and its entry adds to it.
func (r *Router) tooLargeForEntry(dl *DeadLetter) bool {
	b, err := json.Marshal(dl)
	return err == nil && int64(len(b))+entryHeaderBytes > r.js.Conn().MaxPayload()
}
