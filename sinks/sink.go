package sinks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Sink delivers events to one target.
//
// Connect is called once before the first Deliver and may dial or check the
// destination; an error there is reported but deliveries are still tried, so
// a target that is down at start-up gets its events once it is back.
// Deliver must be safe for concurrent use and must honour ctx. Close
// releases resources; it is called once, after the last Deliver returned.
type Sink interface {
	Connect(ctx context.Context) error
	Deliver(ctx context.Context, d *Delivery) error
	Close() error
}

// Delivery is one matched event on its way to one target.
type Delivery struct {
	Event *event.Event
	// Stored is the event as the bus stores it, structured CloudEvent JSON
	// (router/cejson), when the caller has it: structured formats send it
	// as it is rather than encoding Event again. Nil: encode Event.
	Stored []byte
	Bus    string
	Rule   string
	Target string
	// Payload is what the target's input expression built; nil means the
	// event is delivered as it is. A string is sent as text, anything else
	// as JSON.
	Payload any
	// Attempt counts from 1.
	Attempt int
	// TopicURN and Subject, when set, replace the topic_urn (rule-derived,
	// see TopicURN) and subject (from the event) of an smn message: topic
	// subscriptions set them (router/topics).
	TopicURN, Subject string
	// UnsubscribeURL is the confirmed subscription's unsubscribe_url, for
	// smn messages of targets with confirm: true; "" otherwise.
	UnsubscribeURL string
	// Shared, when set, is shared by every delivery of Event (the
	// targets of one fan-out): what each would build the same, a
	// binary-mode request's Ce- headers, is built once. Nil: built per
	// delivery.
	Shared *Shared
	// Response is what the target answered to a successful delivery, for
	// the router to record: set by sinks whose targets answer with content
	// (function targets: a synchronous invocation's body, a command's
	// standard output), at most MaxResponseBytes; nil otherwise.
	Response []byte
}

// Deps are the shared resources a sink may use.
type Deps struct {
	NATS   *nats.Conn     // connection to the bus; nil where none exists (validation)
	Stdout io.Writer      // where the log sink writes
	Log    zerolog.Logger // structured operational log
	Guard  *Guard         // which addresses URL targets may connect to; nil: the default (no private addresses)
	// Signer signs smn-format webhooks, whose receivers fetch its
	// certificate from PublicURL + SigningCertPath; nil in validation.
	Signer    *Signer
	PublicURL string // the router's base URL as receivers reach it, no trailing slash
	// Origin is this router's name in the CloudEvents webhook handshake
	// (WebHook-Request-Origin): by default the host of PublicURL.
	Origin string
}

// Error is a failed delivery with what the router needs to decide on a retry.
type Error struct {
	Status     int           // HTTP status or exit code when there was one
	Retryable  bool          // false: retrying cannot help (400, 401, 403, 404, 413, bad payload)
	RetryAfter time.Duration // the target's own hint (Retry-After), 0 if none
	Err        error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("status %d: %v", e.Status, e.Err)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &Error{Err: err} }

// Retryable reports whether a delivery that failed with err may succeed if
// tried again. Errors that are not *Error (network, timeouts) are retryable.
func Retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable
	}
	return err != nil
}

// RetryAfter returns the target's requested delay before the next attempt,
// or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
