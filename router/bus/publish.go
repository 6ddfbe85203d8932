package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/cejson"
)

// ContentType is the content type of every stored message.
const ContentType = "application/cloudevents+json"

// ErrUnavailable reports that JetStream did not acknowledge a publish: the
// server is down, the stream is missing, or the context ended (a refusal
// for lack of storage is ErrStorageFull instead). Some
// events of the batch may have been stored; re-sending the batch is safe
// because their message ids deduplicate them.
var ErrUnavailable = errors.New("bus unavailable")

// ErrTooLarge reports an event the bus could not carry through to its
// targets and dead-letter queue: its stored form plus DeadLetterHeadroom
// exceeds the NATS server's max_payload. Nothing of the request is stored.
var ErrTooLarge = errors.New("event too large for the bus")

// DeadLetterHeadroom is what a delivery or dead letter may add to its
// event (headers, rule, target, attempts, the last error), kept free of
// every stored event so each can still be queued and dead-lettered.
const DeadLetterHeadroom = 16 << 10

// Result is the outcome of one stored event.
type Result struct {
	ID        string
	Subject   string
	Sequence  uint64
	Duplicate bool // JetStream already held an event with this source and id
}

// Publisher stores events on the events stream.
type Publisher struct {
	js      jetstream.JetStream
	refused refusals
	disk    *DiskWatch // nil with an external NATS server
}

// NewPublisher returns a Publisher using js.
func NewPublisher(js jetstream.JetStream) *Publisher {
	return &Publisher{js: js}
}

// WatchDisk makes Publish refuse at once with w's ErrDiskFull while the
// embedded server's disk is full, and ask w why when JetStream does not
// acknowledge (it answers nothing to a write that failed on a full disk).
// Call it before the first Publish.
func (p *Publisher) WatchDisk(w *DiskWatch) { p.disk = w }

// Publish stores events on bus. It sends them all asynchronously and returns
// only after JetStream acknowledged every one, or the first failure: wrapped
// in ErrStorageFull when JetStream refused for lack of storage (remembered
// for StorageRefusal until a publish succeeds), in ErrDiskFull when the
// embedded server's disk is full (see WatchDisk), in ErrUnavailable
// otherwise. Results are in the order of events.
func (p *Publisher) Publish(ctx context.Context, bus string, events []event.Event) ([]Result, error) {
	if err := p.disk.Fault(); err != nil {
		return nil, err
	}
	// Encode everything first, so an event that cannot be encoded fails the
	// request before any of it is stored.
	msgs := make([]*nats.Msg, len(events))
	limit := p.js.Conn().MaxPayload() - DeadLetterHeadroom
	for i := range events {
		msg, err := Message(bus, &events[i])
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if n := int64(len(msg.Data)); n > limit {
			return nil, fmt.Errorf("%w: event %d (id %q) is %d bytes as stored; the bus carries at most %d (its NATS max_payload %d, less %d for the event's dead letter): raise max_payload on the NATS server",
				ErrTooLarge, i, events[i].ID(), n, limit, p.js.Conn().MaxPayload(), DeadLetterHeadroom)
		}
		msgs[i] = msg
	}
	futures := make([]jetstream.PubAckFuture, len(events))
	for i, msg := range msgs {
		f, err := p.js.PublishMsgAsync(msg, jetstream.WithExpectStream(StreamName))
		if err != nil {
			return nil, fmt.Errorf("%w: publish event %d: %v", ErrUnavailable, i, err)
		}
		futures[i] = f
	}
	results := make([]Result, len(events))
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			results[i] = Result{ID: events[i].ID(), Subject: f.Msg().Subject, Sequence: ack.Sequence, Duplicate: ack.Duplicate}
		case err := <-f.Err():
			if full := storageRefusal(err); full != nil {
				p.refused.record(full)
				return nil, fmt.Errorf("%w: event %d (id %q)", full, i, events[i].ID())
			}
			if full := p.disk.Check(); full != nil {
				return nil, fmt.Errorf("%w: event %d (id %q)", full, i, events[i].ID())
			}
			return nil, fmt.Errorf("%w: event %d (id %q): %v", ErrUnavailable, i, events[i].ID(), err)
		case <-ctx.Done():
			if full := p.disk.Check(); full != nil {
				return nil, fmt.Errorf("%w: event %d (id %q)", full, i, events[i].ID())
			}
			return nil, fmt.Errorf("%w: waiting for acknowledgements: %v", ErrUnavailable, ctx.Err())
		}
	}
	p.refused.clear(Refusal{})
	return results, nil
}

// Message builds the NATS message that stores e on bus: structured-mode JSON,
// the event's subject, and the dedup message id. It encodes with cejson
// rather than json.Marshal, which would compact JSON data and escape <, >
// and &, so the stored data is byte for byte what was sent, and +json data
// is a JSON value.
func Message(bus string, e *event.Event) (*nats.Msg, error) {
	body, err := cejson.Marshal(e)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(Subject(bus, e))
	msg.Data = body
	msg.Header.Set(jetstream.MsgIDHeader, MsgID(bus, e))
	msg.Header.Set("Content-Type", ContentType)
	return msg, nil
}
