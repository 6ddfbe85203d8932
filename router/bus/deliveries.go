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

// The delivery queues: every (rule, target) pair has its own subject on
// the deliveries stream, read by its own durable consumer, so one slow or
// dead target never holds back another. Messages a target could not take
// end on the dead-letter stream.
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
)

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

// QueueName is the durable consumer name of one (bus, rule, target): a
// short hash, because names allow fewer characters and bytes than the
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
// (WorkQueue retention: a message is gone once its target's consumer acked
// it) and the dead-letter stream (limits retention, kept DLQMaxAge).
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
		Description: "auditbus: one queue subject per (bus, rule, target)",
		Subjects:    []string{DeliveriesPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.WorkQueuePolicy,
		Duplicates:  cfg.DuplicateWindow,
		Replicas:    cfg.Replicas,
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
