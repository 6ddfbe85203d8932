package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	atomic  bool       // write multi-event requests as atomic batches
	// commitWait bounds the wait for a batch commit's answer: CommitWait.
	commitWait time.Duration
}

// NewPublisher returns a Publisher using js.
func NewPublisher(js jetstream.JetStream) *Publisher {
	return &Publisher{js: js, commitWait: CommitWait}
}

// WatchDisk makes Publish refuse at once with w's ErrDiskFull while the
// embedded server's disk is full, and ask w why when JetStream does not
// acknowledge (it answers nothing to a write that failed on a full disk).
// Call it before the first Publish.
func (p *Publisher) WatchDisk(w *DiskWatch) { p.disk = w }

// Publish stores events on bus and returns only after JetStream
// acknowledged every one, or the first failure: wrapped in ErrStorageFull
// when JetStream refused for lack of storage (remembered for
// StorageRefusal until a publish succeeds), in ErrDiskFull when the
// embedded server's disk is full (see WatchDisk), in ErrUnavailable
// otherwise. Results are in the order of events.
//
// With atomic batches on (see BatchAtomically), MinAtomicBatch or more
// events are written as atomic batches of at most MaxAtomicBatch, each
// fsynced once; a batch the server refuses (one of its events is a
// duplicate, too many batches in flight) is published event by event
// instead. Otherwise events are sent all asynchronously and awaited
// together.
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
	results := make([]Result, 0, len(events))
	for first := 0; first < len(msgs); first += MaxAtomicBatch {
		last := min(first+MaxAtomicBatch, len(msgs))
		res, err := p.publishChunk(ctx, msgs[first:last])
		if err != nil {
			return nil, p.failure(err, first, events)
		}
		results = append(results, res...)
	}
	for i := range results {
		results[i].ID = events[i].ID()
	}
	p.refused.clear(Refusal{})
	return results, nil
}

// BatchAtomically turns atomic batches on or off (off by default). Turn
// them on only when the events stream allows atomic publish
// (StreamConfig.AtomicPublish): on a stream that does not, every batch is
// refused and published event by event, one round trip later. Call it
// before the first Publish.
func (p *Publisher) BatchAtomically(on bool) { p.atomic = on }

// publishChunk stores msgs as one atomic batch when they are enough and
// batches are on, else (or when the server refuses the batch) one by one.
func (p *Publisher) publishChunk(ctx context.Context, msgs []*nats.Msg) ([]Result, error) {
	if p.atomic && len(msgs) >= MinAtomicBatch {
		res, err := p.publishAtomic(ctx, msgs)
		if !errors.Is(err, errBatchRefused) {
			return res, err
		}
	}
	return p.publishEach(ctx, msgs)
}

// publishEach sends msgs all asynchronously and waits for every
// acknowledgement. An error's event index is within msgs.
func (p *Publisher) publishEach(ctx context.Context, msgs []*nats.Msg) ([]Result, error) {
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, msg := range msgs {
		f, err := p.js.PublishMsgAsync(msg, jetstream.WithExpectStream(StreamName))
		if err != nil {
			return nil, &eventError{i, fmt.Errorf("%w: publish: %v", ErrUnavailable, err)}
		}
		futures[i] = f
	}
	results := make([]Result, len(msgs))
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			results[i] = Result{Subject: f.Msg().Subject, Sequence: ack.Sequence, Duplicate: ack.Duplicate}
		case err := <-f.Err():
			if full := storageRefusal(err); full != nil {
				return nil, &eventError{i, full}
			}
			return nil, &eventError{i, fmt.Errorf("%w: %v", ErrUnavailable, err)}
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for acknowledgements: %v", ErrUnavailable, ctx.Err())
		}
	}
	return results, nil
}

// eventError is a publish failure of one event, by its index in the
// messages published.
type eventError struct {
	index int
	err   error
}

func (e *eventError) Error() string { return e.err.Error() }
func (e *eventError) Unwrap() error { return e.err }

// failure is the error Publish returns for err, a failure of the chunk
// starting at events[first]: a storage refusal is remembered, and any
// other failure is blamed on a full disk when the embedded server's disk
// is full.
func (p *Publisher) failure(err error, first int, events []event.Event) error {
	where := ""
	var ee *eventError
	if errors.As(err, &ee) {
		i := first + ee.index
		where = fmt.Sprintf(": event %d (id %q)", i, events[i].ID())
		err = ee.err
	}
	if errors.Is(err, ErrStorageFull) {
		p.refused.record(err)
		return fmt.Errorf("%w%s", err, where)
	}
	if full := p.disk.Check(); full != nil {
		return fmt.Errorf("%w%s", full, where)
	}
	return fmt.Errorf("%w%s", err, where)
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
