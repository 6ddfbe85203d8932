package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the JetStream stream that stores every accepted event.
const StreamName = "AUDITBUS_EVENTS"

// Defaults for StreamConfig.
const (
	DefaultMaxAge          = 7 * 24 * time.Hour
	DefaultDuplicateWindow = time.Hour
	// DefaultMaxConsumers bounds the events stream's consumers: the
	// router's one, the audit index's (one per SQLite index, one shared by
	// a PostgreSQL one), and those subscriber users make (which they cannot
	// delete), so that no subscriber can load the server without bound.
	DefaultMaxConsumers = 256
)

// StreamConfig is what an operator may tune about the events stream.
type StreamConfig struct {
	// MaxAge is how long events are kept. Default DefaultMaxAge (7 days).
	MaxAge time.Duration
	// DuplicateWindow is how long JetStream remembers message ids, so an
	// event re-sent within it (same source and id) is stored once.
	// Default DefaultDuplicateWindow (1 hour).
	DuplicateWindow time.Duration
	// Replicas is the stream's replication factor on a cluster. Default 1.
	Replicas int
	// MaxConsumers bounds the stream's consumers; default
	// DefaultMaxConsumers, negative for no bound.
	MaxConsumers int
	// AtomicPublish lets the stream take atomic batch publishes
	// (nats-server 2.12 and later), which Publisher uses to fsync a
	// multi-event request once rather than once per event (see
	// Publisher.BatchAtomically). Default off: an external server may be
	// older, and on a replicated stream JetStream does not fsync per
	// event anyway.
	AtomicPublish bool
}

func (c StreamConfig) withDefaults() StreamConfig {
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.DuplicateWindow > c.MaxAge {
		c.DuplicateWindow = c.MaxAge
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.MaxConsumers == 0 {
		c.MaxConsumers = DefaultMaxConsumers
	}
	return c
}

// EnsureStream creates the events stream, or updates it to cfg when it
// exists (so a changed max age takes effect on restart). It returns the
// stream handle.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, error) {
	cfg = cfg.withDefaults()
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:               StreamName,
		Description:        "auditbus: normalized CloudEvents, one subject per bus/product/kind/action",
		Subjects:           []string{SubjectPrefix + ".>"},
		Storage:            jetstream.FileStorage,
		Retention:          jetstream.LimitsPolicy,
		MaxAge:             cfg.MaxAge,
		Duplicates:         cfg.DuplicateWindow,
		Replicas:           cfg.Replicas,
		Discard:            jetstream.DiscardOld,
		MaxConsumers:       max(cfg.MaxConsumers, -1),
		AllowAtomicPublish: cfg.AtomicPublish,
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", StreamName, err)
	}
	return s, nil
}
