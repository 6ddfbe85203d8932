package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// source is a durable consumer that pull reads: the events consumer, the
// shared consumer of ready deliveries, or a backlog's. The first two are
// re-created when deleted under the router, by an operator (`nats
// consumer rm`). Fetch does not fail then: the batch ends with
// jetstream.ErrConsumerDeleted (a pull request was waiting) or
// nats.ErrNoResponders (none was), so the batch's Error is where pull
// notices it (heal), and Info confirms it before anything is re-created
// (stillAbsent).
type source struct {
	name     string
	recreate func(context.Context) (jetstream.Consumer, error) // nil: not re-created (a backlog's: the next sweep does)
	mu       sync.Mutex
	cur      jetstream.Consumer
}

func (s *source) current() jetstream.Consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// gone reports whether err may say the consumer no longer exists; heal
// confirms it (stillAbsent) before re-creating anything.
func gone(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, nats.ErrNoResponders)
}

// heal re-creates s's consumer after err if it is gone; on failure it
// waits a little, so a puller does not spin on a consumer that cannot come
// back.
func (r *Router) heal(ctx context.Context, s *source, err error) {
	if s.recreate == nil || ctx.Err() != nil || !gone(err) || !stillAbsent(ctx, r.opts.disk, s.current().Info) {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, healTimeout)
	defer cancel()
	c, rerr := s.recreate(rctx)
	if rerr != nil {
		if ctx.Err() == nil {
			r.opts.log.Warn().Err(rerr).Str("consumer", s.name).Msg("consumer deleted under the router; not recreated")
			sleep(ctx, time.Second)
		}
		return
	}
	s.mu.Lock()
	s.cur = c
	s.mu.Unlock()
	r.opts.log.Warn().Str("consumer", s.name).Msg("consumer deleted under the router: recreated")
}

const healTimeout = 10 * time.Second

// stillAbsent reports whether a consumer JetStream said was not found is
// to be created: once the bus's store is whole (disk.Settled), info still
// finds no consumer (or no stream), and no reopening of the streams began
// meanwhile. While the streams are reopened after a full disk, JetStream
// answers "not found" for what it has not recovered yet, and creating it
// then would replace what is being recovered.
func stillAbsent(ctx context.Context, disk *bus.DiskWatch, info func(context.Context) (*jetstream.ConsumerInfo, error)) bool {
	epoch, err := disk.Settled(ctx)
	if err != nil {
		return false
	}
	ictx, cancel := context.WithTimeout(ctx, healTimeout)
	defer cancel()
	_, err = info(ictx)
	absent := errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound)
	return absent && !disk.Reopened(epoch)
}

// deliveriesSource is the shared consumer of ready deliveries, re-created
// as Open creates it when deleted under the router.
func (r *Router) deliveriesSource(cons jetstream.Consumer) *source {
	return &source{cur: cons, name: bus.DeliveriesConsumer, recreate: func(ctx context.Context) (jetstream.Consumer, error) {
		if err := bus.EnsureDeliveryStreams(ctx, r.js, bus.DeliveriesConfig{DLQMaxAge: r.opts.dlqMaxAge, Replicas: r.opts.replicas}); err != nil {
			return nil, err
		}
		return r.js.CreateOrUpdateConsumer(ctx, bus.DeliveriesStream, r.deliveriesConsumerConfig())
	}}
}

// deliveriesConsumerConfig is the one durable consumer of ready
// deliveries, shared by every target and every replica. Its ack-pending
// bound is what the process may hold at once (WithDeliveryWorkers) and a
// little more: a lane never holds more than twice its concurrency of it,
// and every wait longer than an attempt leaves it (a retry is scheduled,
// a held or saturated target's delivery parked).
func (r *Router) deliveriesConsumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       bus.DeliveriesConsumer,
		Description:   "auditbus: ready deliveries of every target",
		FilterSubject: bus.DeliveriesReadyFilter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       r.opts.ackWait,
		MaxDeliver:    -1, // the router enforces the target's retry bounds itself
		MaxAckPending: max(r.opts.deliveryWorkers*2, 1024),
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// eventsConsumerConfig is the shared durable consumer of the events
// stream. A consumer recreated after a deletion starts after the last
// ack floor seen (recreateEvents); Open keeps that start, which JetStream
// would refuse to change anyway.
func (r *Router) eventsConsumerConfig(ctx context.Context) jetstream.ConsumerConfig {
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
	if c, err := r.js.Consumer(ctx, bus.StreamName, ConsumerName); err == nil {
		if old := c.CachedInfo().Config; old.DeliverPolicy == jetstream.DeliverByStartSequencePolicy {
			cfg.DeliverPolicy, cfg.OptStartSeq = old.DeliverPolicy, old.OptStartSeq
		}
	}
	return cfg
}

// eventsSource is the events consumer for the fan-out puller, kept for
// the sweep, which reads its ack floor (pollEventsFloor). The floor starts
// as Open saw it, so a deletion before the first poll does not restart
// the fan-out from the stream's beginning.
func (r *Router) eventsSource(ctx context.Context, cons jetstream.Consumer) *source {
	if info := cons.CachedInfo(); info != nil {
		r.floor.Store(info.AckFloor.Stream)
	}
	if st, err := r.js.Stream(ctx, bus.StreamName); err == nil {
		r.eventsCreated = st.CachedInfo().Created
	}
	s := &source{cur: cons, name: ConsumerName, recreate: r.recreateEvents}
	r.events.Store(s)
	return s
}

// recreateEvents recreates the events consumer, or takes the one another
// replica recreated first. It does not start from the beginning of the
// stream as Open would for a new bus: that would fan out again every
// stored event (days of them), and their deliveries' message ids are
// remembered only for the duplicate window. It starts after the ack floor
// the sweep last saw, so what is fanned out again is at most a
// poll interval's worth of events, recent enough to be deduplicated. A
// stream created anew (deleted, then recreated by a start) has had none
// of its events fanned out: its consumer starts at its beginning.
func (r *Router) recreateEvents(ctx context.Context) (jetstream.Consumer, error) {
	if c, err := r.js.Consumer(ctx, bus.StreamName, ConsumerName); err == nil {
		return c, nil
	}
	if err := bus.EnsureDeliveryStreams(ctx, r.js, bus.DeliveriesConfig{DLQMaxAge: r.opts.dlqMaxAge, Replicas: r.opts.replicas}); err != nil {
		return nil, err
	}
	st, err := r.js.Stream(ctx, bus.StreamName)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", bus.StreamName, err)
	}
	cfg := r.eventsConsumerConfig(ctx)
	switch floor := r.floor.Load(); {
	case !r.eventsCreated.IsZero() && !st.CachedInfo().Created.Equal(r.eventsCreated):
		r.opts.log.Warn().Str("stream", bus.StreamName).Msg("the events stream was created anew: its consumer starts at its beginning")
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverAllPolicy, 0
	case floor > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, floor+1
	}
	c, err := r.js.CreateConsumer(ctx, bus.StreamName, cfg)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		return r.js.Consumer(ctx, bus.StreamName, ConsumerName)
	}
	return c, err
}

// pollEventsFloor reads the events consumer's state, for the ack floor a
// recreated consumer starts after, and for EventsLag.
func (r *Router) pollEventsFloor(ctx context.Context) {
	s := r.events.Load()
	if s == nil {
		return
	}
	info, err := s.current().Info(ctx)
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
