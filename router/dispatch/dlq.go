package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/sinks"
)

// DeadLetter is one entry of the dead-letter queue: a delivery that its
// target could not take, with everything needed to understand why and to
// redrive it. It is stored as JSON on auditbus.dlq.<bus>.<rule>.<target>.
type DeadLetter struct {
	// ID is the entry's sequence on the dead-letter stream; set when read.
	ID     uint64 `json:"id,omitempty"`
	Bus    string `json:"bus"`
	Rule   string `json:"rule"`
	Target string `json:"target"`
	// Reason says why the delivery ended here: "rejected by target" (its
	// answer), ReasonRefusedByGuard (never sent), "undeliverable as
	// built" (sinks.ErrUnbuildable: never sent),
	// "retries exhausted: …", "target removed", "input expression
	// failed", "not a structured CloudEvent"; or ReasonUnreadable for an
	// event that never became a delivery (unreadable.go), whose Rule and
	// Target are "".
	Reason   string `json:"reason"`
	Attempts uint64 `json:"attempts"`
	// EnqueuedAt is when the event was first stored (max_age counts from
	// it). QueuedAt is when this delivery was first queued (kept across
	// retries and parking; for a redriven entry, the redrive).
	// LastAttemptAt is when the last attempt started.
	//
	// There is no separate first-attempt time: JetStream keeps no record
	// per attempt, and the router keeps no state per delivery (it would
	// cost a KV write per failing delivery). The first attempt is made at
	// QueuedAt, give or take a fetch, unless the delivery had to wait
	// first: the target's slots were all busy (a backlog), the target was
	// held (410, consent), its pair was briefly removed (the
	// removed-target grace), or no router ran. With Attempts == 1 the
	// first attempt is LastAttemptAt. Attempts counts the attempts across
	// retries (the Auditbus-Attempts header) plus the delivery count of
	// the last message, so it also counts an attempt cut short by a crash
	// or a shutdown.
	EnqueuedAt     time.Time `json:"enqueued_at"`
	QueuedAt       time.Time `json:"queued_at"`
	LastAttemptAt  time.Time `json:"last_attempt_at"`
	DeadLetteredAt time.Time `json:"dead_lettered_at"`
	LastStatus     int       `json:"last_status,omitempty"` // HTTP status or exit code
	LastError      string    `json:"last_error,omitempty"`
	Stderr         string    `json:"stderr,omitempty"` // a command target's standard error
	// EventSubject and EventSequence say where an unreadable event is on
	// the events stream; set only for ReasonUnreadable entries.
	EventSubject  string `json:"event_subject,omitempty"`
	EventSequence uint64 `json:"event_sequence,omitempty"`
	// EventTruncated: the event was too large to fit in the entry, which
	// holds its first bytes in EventText; the whole of it is on the events
	// stream at EventSequence.
	EventTruncated bool `json:"event_truncated,omitempty"`
	// Event is the stored event, unchanged; EventText holds it instead when
	// it is not JSON.
	Event     json.RawMessage `json:"event,omitempty"`
	EventText string          `json:"event_text,omitempty"`
}

// ReasonRefusedByGuard is the Reason of a delivery auditbus's own address
// guard refused (sinks.ErrForbiddenAddress): the target never saw it, so
// it has no LastStatus.
const ReasonRefusedByGuard = "refused by address guard"

// newDeadLetter is the entry of a's delivery of the stored event data.
func newDeadLetter(a *attempt, reason string) *DeadLetter {
	d := a.d
	dl := DeadLetter{Bus: d.key.bus, Rule: d.key.rule, Target: d.key.target, Reason: reason,
		Attempts: a.n, EnqueuedAt: d.enqueued, QueuedAt: d.queued, LastAttemptAt: a.at,
		DeadLetteredAt: time.Now().UTC()}
	if a.err != nil {
		dl.LastError = a.err.Error()
		var se *sinks.Error
		if errors.As(a.err, &se) {
			dl.LastStatus = se.Status
		}
		var ce *sinks.CommandError
		if errors.As(a.err, &ce) {
			dl.LastStatus, dl.Stderr = ce.ExitCode, string(ce.Stderr)
		}
	}
	setEvent(&dl, d.data)
	return &dl
}

func setEvent(dl *DeadLetter, data []byte) {
	if json.Valid(data) {
		dl.Event = data
	} else {
		dl.EventText = string(data)
	}
}

// storeDeadLetter publishes dl on subject with message id msgID ("" for
// none) and waits for JetStream's acknowledgement.
func (r *Router) storeDeadLetter(ctx context.Context, dl *DeadLetter, subject, msgID string) error {
	body, err := json.Marshal(dl)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	m := nats.NewMsg(subject)
	m.Data = body
	m.Header.Set("Content-Type", "application/json")
	if msgID != "" {
		m.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	if _, err := r.js.PublishMsg(ctx, m, jetstream.WithExpectStream(bus.DLQStream)); err != nil {
		return fmt.Errorf("store dead letter: %w", err)
	}
	return nil
}
