package bus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The deliveries stream holds what could not be delivered at once, in
// three kinds of subject per (bus, rule, target), none of which costs a
// consumer while it waits (see router/dispatch):
//   - ready, auditbus.deliveries.<bus>.<rule>.<target>: read by one shared
//     durable consumer (DeliveriesConsumer, filter DeliveriesReadyFilter);
//   - wait, auditbus.deliveries.wait.<bus>.<rule>.<target>.<id>: a retry
//     scheduled by JetStream (Nats-Schedule), moved to the ready subject
//     when due;
//   - backlog, auditbus.deliveries.backlog.<bus>.<rule>.<target>: what a
//     held or saturated target could not take yet, read by a consumer of
//     its own only while the target drains it.
//
// Messages a target could not take end on the dead-letter stream.
const (
	DeliveriesStream = "AUDITBUS_DELIVERIES"
	DeliveriesPrefix = "auditbus.deliveries"
	DLQStream        = "AUDITBUS_DLQ"
	DLQPrefix        = "auditbus.dlq"

	// DefaultDLQMaxAge is how long dead letters are kept.
	DefaultDLQMaxAge = 14 * 24 * time.Hour
)

// Headers of a delivery message. Its payload is the stored event, byte for
// byte as on the events stream.
const (
	HeaderBus      = "Auditbus-Bus"
	HeaderRule     = "Auditbus-Rule"
	HeaderTarget   = "Auditbus-Target"
	HeaderEnqueued = "Auditbus-Enqueued" // RFC 3339 time the event was first stored; max_age counts from it
	// HeaderAttempts is how many attempts a delivery had before this
	// message: a retry or a parked delivery is a new message, whose own
	// JetStream delivery count starts again.
	HeaderAttempts = "Auditbus-Attempts"
	// HeaderQueued is the RFC 3339 time the delivery was first queued,
	// kept across retries and parking.
	HeaderQueued = "Auditbus-Queued"
)

// The shared consumer of ready deliveries, and the subjects it reads:
// exactly three tokens after the prefix, so neither wait nor backlog
// subjects (which have more) are read by it.
const (
	DeliveriesConsumer    = "auditbus-deliveries"
	DeliveriesReadyFilter = DeliveriesPrefix + ".*.*.*"
	deliveriesWait        = DeliveriesPrefix + ".wait"
	deliveriesBacklog     = DeliveriesPrefix + ".backlog"
)

// WaitSubject is the subject of one scheduled retry: unique per retry
// (id), since JetStream keeps one schedule per subject.
func WaitSubject(bus, rule, target, id string) string {
	return strings.Join([]string{deliveriesWait, Token(bus), Token(rule), Token(target), Token(id)}, ".")
}

// BacklogSubject is the subject of one (bus, rule, target)'s backlog.
func BacklogSubject(bus, rule, target string) string {
	return strings.Join([]string{deliveriesBacklog, Token(bus), Token(rule), Token(target)}, ".")
}

// DeliveryKind says which of the three kinds subject is ("ready", "wait"
// or "backlog") and whose it is; ok is false for any other subject.
func DeliveryKind(subject string) (kind, bus, rule, target string, ok bool) {
	rest, found := strings.CutPrefix(subject, DeliveriesPrefix+".")
	if !found {
		return "", "", "", "", false
	}
	p := strings.Split(rest, ".")
	switch {
	case len(p) == 3:
		return "ready", p[0], p[1], p[2], true
	case len(p) == 4 && p[0] == "backlog":
		return "backlog", p[1], p[2], p[3], true
	case len(p) == 5 && p[0] == "wait":
		return "wait", p[1], p[2], p[3], true
	}
	return "", "", "", "", false
}

// DeliverySubject is the queue subject of one (bus, rule, target):
// auditbus.deliveries.<bus>.<rule>.<target>, each token sanitized by Token.
// Rule names and target ids are already valid tokens, so distinct pairs
// get distinct subjects, which WorkQueue streams need (one consumer per
// subject).
func DeliverySubject(bus, rule, target string) string {
	return strings.Join([]string{DeliveriesPrefix, Token(bus), Token(rule), Token(target)}, ".")
}

// DLQSubject is the dead-letter subject of one (bus, rule, target):
// auditbus.dlq.<bus>.<rule>.<target>. An empty argument becomes the
// wildcard "*", for filtering.
func DLQSubject(bus, rule, target string) string {
	tok := func(s string) string {
		if s == "" {
			return "*"
		}
		return Token(s)
	}
	return strings.Join([]string{DLQPrefix, tok(bus), tok(rule), tok(target)}, ".")
}

// QueueName is the durable consumer name of one (bus, rule, target)'s
// backlog, which exists only while the backlog drains: a short hash, because names allow fewer characters and bytes than the
// three values together may need.
func QueueName(bus, rule, target string) string {
	h := sha256.Sum256([]byte(bus + "\x00" + rule + "\x00" + target))
	return "auditbus-q-" + hex.EncodeToString(h[:8])
}

// DeliveriesConfig tunes the deliveries and dead-letter streams.
type DeliveriesConfig struct {
	// DLQMaxAge is how long dead letters are kept. Default DefaultDLQMaxAge.
	DLQMaxAge time.Duration
	// DuplicateWindow is how long a delivery's message id is remembered,
	// so that re-matching an event after a crash does not queue it twice.
	// Default DefaultDuplicateWindow.
	DuplicateWindow time.Duration
	Replicas        int // default 1
}

// EnsureDeliveryStreams creates or updates the deliveries stream
// (WorkQueue retention: a message is gone once acked; message schedules
// allowed, for retries that wait inside JetStream) and the dead-letter stream (limits retention, kept DLQMaxAge).
func EnsureDeliveryStreams(ctx context.Context, js jetstream.JetStream, cfg DeliveriesConfig) error {
	if cfg.DLQMaxAge <= 0 {
		cfg.DLQMaxAge = DefaultDLQMaxAge
	}
	if cfg.DuplicateWindow <= 0 {
		cfg.DuplicateWindow = DefaultDuplicateWindow
	}
	cfg.Replicas = max(cfg.Replicas, 1)
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DeliveriesStream,
		Description: "auditbus: deliveries not made at once: ready, scheduled retries, backlogs",
		Subjects:    []string{DeliveriesPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.WorkQueuePolicy,
		// Schedules need roll-ups: JetStream keeps one per subject.
		AllowMsgSchedules: true,
		AllowRollup:       true,
		Duplicates:        cfg.DuplicateWindow,
		Replicas:          cfg.Replicas,
	}); err != nil {
		return fmt.Errorf("stream %s: %w", DeliveriesStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DLQStream,
		Description: "auditbus: dead letters, deliveries a target could not take",
		Subjects:    []string{DLQPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      cfg.DLQMaxAge,
		Replicas:    cfg.Replicas,
		Discard:     jetstream.DiscardOld,
	}); err != nil {
		return fmt.Errorf("stream %s: %w", DLQStream, err)
	}
	return nil
}
