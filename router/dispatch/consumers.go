package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// openConsumers creates, or updates to this router's options, the
// deliveries and dead-letter streams and the two shared durable consumers:
// at Open, and again from heal. CreateOrUpdateConsumer is idempotent, and
// a pull handle names its consumer, so the pullers keep their handles.
func (r *Router) openConsumers(ctx context.Context) (events, deliveries jetstream.Consumer, err error) {
	if err := bus.EnsureDeliveryStreams(ctx, r.js, bus.DeliveriesConfig{DLQMaxAge: r.opts.dlqMaxAge, Replicas: r.opts.replicas}); err != nil {
		return nil, nil, err
	}
	cfg, err := r.eventsConsumerConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	if events, err = r.js.CreateOrUpdateConsumer(ctx, bus.StreamName, cfg); err != nil {
		return nil, nil, fmt.Errorf("consumer %s: %w", ConsumerName, err)
	}
	r.floor.Store(max(r.floor.Load(), events.CachedInfo().AckFloor.Stream))
	if err := r.retireOldQueues(ctx); err != nil {
		return nil, nil, err
	}
	if deliveries, err = r.js.CreateOrUpdateConsumer(ctx, bus.DeliveriesStream, r.deliveriesConsumerConfig()); err != nil {
		return nil, nil, fmt.Errorf("consumer %s: %w", bus.DeliveriesConsumer, err)
	}
	return events, deliveries, nil
}

// heal re-creates the shared consumers when err may say one is gone (a
// deleted consumer ends a pull with jetstream.ErrConsumerDeleted; one
// that vanished without a word stops its heartbeats) and consumersAbsent
// confirms it. On failure it waits a little, so a puller does not spin.
func (r *Router) heal(ctx context.Context, err error) {
	if ctx.Err() != nil || !(errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrNoHeartbeat) ||
		errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, nats.ErrNoResponders)) {
		return
	}
	r.healMu.Lock()
	defer r.healMu.Unlock()
	if !r.consumersAbsent(ctx) {
		return
	}
	hctx, cancel := context.WithTimeout(ctx, healTimeout)
	defer cancel()
	if _, _, err := r.openConsumers(hctx); err != nil {
		if ctx.Err() == nil {
			r.opts.log.Warn().Err(err).Msg("consumer deleted under the router; not recreated")
			sleep(ctx, time.Second)
		}
		return
	}
	r.opts.log.Warn().Msg("consumer deleted under the router: recreated")
}

const healTimeout = 10 * time.Second

// consumersAbsent reports whether a shared consumer is to be created:
// once the bus's store is whole, one (or its stream) is still not found,
// and no reopening began meanwhile (WithDiskWatch says why).
func (r *Router) consumersAbsent(ctx context.Context) bool {
	epoch, err := r.opts.disk.Settled(ctx)
	if err != nil {
		return false
	}
	ictx, cancel := context.WithTimeout(ctx, healTimeout)
	defer cancel()
	absent := false
	for _, c := range [][2]string{{bus.StreamName, ConsumerName}, {bus.DeliveriesStream, bus.DeliveriesConsumer}} {
		_, err := r.js.Consumer(ictx, c[0], c[1])
		absent = absent || errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound)
	}
	return absent && !r.opts.disk.Reopened(epoch)
}

// deliveriesConsumerConfig is the one durable consumer of ready
// deliveries. Its ack-pending bound is what the process may hold at once
// (DefaultDeliveryWorkers) and a little more: every wait longer than an
// attempt leaves it.
func (r *Router) deliveriesConsumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       bus.DeliveriesConsumer,
		Description:   "auditbus: ready deliveries of every target",
		FilterSubject: bus.DeliveriesReadyFilter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       r.opts.ackWait,
		MaxDeliver:    -1, // the router enforces the target's retry bounds itself
		MaxAckPending: 2 * DefaultDeliveryWorkers,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// eventsConsumerConfig is the shared durable consumer of the events
// stream. An existing one keeps its start (JetStream refuses to change
// it). A missing one starts at the stream's beginning for a new bus, but
// after a deletion under the router after the ack floor last seen (at
// Open, and by the sweep): fanning out days of events again would queue
// duplicates once their message ids left the duplicate window. A stream
// created anew starts at its beginning: none of its events was fanned out.
func (r *Router) eventsConsumerConfig(ctx context.Context) (jetstream.ConsumerConfig, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "auditbus router: rule matching and fan-out",
		FilterSubject: bus.SubjectPrefix + ".>",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       r.opts.ackWait,
		MaxDeliver:    -1,
		MaxAckPending: max(r.opts.workers*4, 256),
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	st, err := r.js.Stream(ctx, bus.StreamName)
	if err != nil {
		return cfg, fmt.Errorf("stream %s: %w", bus.StreamName, err)
	}
	created := st.CachedInfo().Created
	c, err := st.Consumer(ctx, ConsumerName)
	switch floor := r.floor.Load(); {
	case err == nil:
		if old := c.CachedInfo().Config; old.DeliverPolicy == jetstream.DeliverByStartSequencePolicy {
			cfg.DeliverPolicy, cfg.OptStartSeq = old.DeliverPolicy, old.OptStartSeq
		}
	case !r.eventsCreated.IsZero() && !created.Equal(r.eventsCreated):
		r.opts.log.Warn().Str("stream", bus.StreamName).Msg("the events stream was created anew: its consumer starts at its beginning")
		r.floor.Store(0)
	case floor > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, floor+1
	}
	r.eventsCreated = created
	return cfg, nil
}

// pollEventsFloor reads the events consumer's state, for the ack floor a
// recreated consumer starts after, and for EventsLag.
func (r *Router) pollEventsFloor(ctx context.Context) {
	info, err := r.cons.Info(ctx)
	if err != nil {
		return
	}
	r.floor.Store(info.AckFloor.Stream)
	lag := EventsLag{Pending: info.NumPending, InFlight: info.NumAckPending, Redelivered: info.NumRedelivered, At: time.Now().UTC()}
	r.eventsLag.Store(&lag)
}

// metaRule is the consumer metadata key of the per-target queues an
// earlier auditbus created on the deliveries stream.
const metaRule = "auditbus-rule"

// retireOldQueues deletes the per-target queue consumers an earlier
// auditbus created: their filters overlap the shared consumer's, which a
// WorkQueue stream refuses. Their unacknowledged deliveries stay on the
// stream, and the shared consumer reads them. Replicas still running the
// old version recreate theirs, so upgrade every replica.
func (r *Router) retireOldQueues(ctx context.Context) error {
	st, err := r.js.Stream(ctx, bus.DeliveriesStream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", bus.DeliveriesStream, err)
	}
	list := st.ListConsumers(ctx)
	for info := range list.Info() {
		if info.Config.Metadata[metaRule] == "" {
			continue
		}
		if err := st.DeleteConsumer(ctx, info.Name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("retire queue %s: %w", info.Name, err)
		}
		r.opts.log.Info().Str("consumer", info.Name).Msg("retired a per-target queue of an earlier version; the shared consumer reads its deliveries")
	}
	if err := list.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		return fmt.Errorf("list consumers of %s: %w", bus.DeliveriesStream, err)
	}
	return nil
}
