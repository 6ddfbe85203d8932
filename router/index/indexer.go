package index

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus"
)

// Defaults of the Indexer.
const (
	// ConsumerName is the indexer's default durable consumer on the
	// events stream; replicas sharing a store share it, so each event
	// goes to one of them.
	ConsumerName     = "auditbus-index"
	DefaultMaxAge    = 7 * 24 * time.Hour // as CTS keeps traces
	DefaultBatchSize = 500
	retentionEvery   = time.Minute
	fetchWait        = time.Second
	retryDelay       = time.Second
)

// Indexer follows the events stream into a Store.
type Indexer struct {
	js      jetstream.JetStream
	name    string
	store   Store
	maxAge  time.Duration
	batch   int
	log     zerolog.Logger
	m       *metrics
	lag     atomic.Int64 // -1 until known
	running atomic.Bool
	lastErr atomic.Pointer[string]
}

// Option configures an Indexer.
type Option func(*Indexer)

// WithMaxAge sets how long records are kept, by event time; default
// DefaultMaxAge (7 days). It may be longer than the stream keeps events.
func WithMaxAge(d time.Duration) Option { return func(x *Indexer) { x.maxAge = d } }

// WithBatchSize sets how many events one transaction writes at most;
// default DefaultBatchSize.
func WithBatchSize(n int) Option { return func(x *Indexer) { x.batch = n } }

// WithConsumerName sets the durable consumer's name; default
// ConsumerName. Indexers writing to different stores (SQLite per replica)
// need different names, or each would see only a share of the events.
func WithConsumerName(name string) Option { return func(x *Indexer) { x.name = name } }

// WithLogger sets the logger; default none.
func WithLogger(l zerolog.Logger) Option { return func(x *Indexer) { x.log = l } }

// WithRegisterer registers the indexer's metrics on reg; default none.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(x *Indexer) { x.m = newMetrics(reg, x) }
}

// NewIndexer returns an indexer of the events stream on js into store.
func NewIndexer(js jetstream.JetStream, store Store, opts ...Option) *Indexer {
	x := &Indexer{js: js, name: ConsumerName, store: store, maxAge: DefaultMaxAge, batch: DefaultBatchSize, log: zerolog.Nop()}
	x.lag.Store(-1)
	for _, o := range opts {
		o(x)
	}
	if x.m == nil {
		x.m = newMetrics(nil, x)
	}
	return x
}

// Status is the indexer's state for /readyz.
type Status struct {
	Running bool   `json:"running"`
	Lag     int64  `json:"lag"` // events stored but not indexed yet; -1 until known
	Error   string `json:"error,omitempty"`
}

// Status reports the indexer's state.
func (x *Indexer) Status() Status {
	st := Status{Running: x.running.Load(), Lag: x.lag.Load()}
	if e := x.lastErr.Load(); e != nil {
		st.Error = *e
	}
	return st
}

// Run indexes until ctx ends, returning nil then. Failures of the bus or
// the store are logged, shown in Status and retried: the index catches
// up when they heal, since nothing is acked before it is committed.
func (x *Indexer) Run(ctx context.Context) error {
	x.running.Store(true)
	defer x.running.Store(false)
	nextRetention := time.Time{}
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		if now := time.Now(); !now.Before(nextRetention) {
			x.housekeep(ctx, &cons)
			nextRetention = now.Add(retentionEvery)
		}
		if cons == nil {
			c, err := x.consumer(ctx)
			if err != nil {
				x.fail(ctx, err)
				continue
			}
			cons = c
		}
		if err := x.step(ctx, cons); err != nil {
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
				cons = nil // deleted by a rebuild: start again from the first event
			}
			x.fail(ctx, err)
			continue
		}
		x.lastErr.Store(nil)
	}
	return nil
}

func (x *Indexer) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	msg := err.Error()
	x.lastErr.Store(&msg)
	x.m.errors.Inc()
	x.log.Warn().Err(err).Msg("audit index: retrying")
	select {
	case <-ctx.Done():
	case <-time.After(retryDelay):
	}
}

func (x *Indexer) consumer(ctx context.Context) (jetstream.Consumer, error) {
	c, err := x.js.CreateOrUpdateConsumer(ctx, bus.StreamName, jetstream.ConsumerConfig{
		Durable: x.name, Description: "auditbus: the audit index",
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait: 30 * time.Second, MaxAckPending: 4 * x.batch,
	})
	if err != nil {
		return nil, fmt.Errorf("audit index consumer: %w", err)
	}
	return c, nil
}

// step fetches one batch, writes it and acks it.
func (x *Indexer) step(ctx context.Context, cons jetstream.Consumer) error {
	// FetchContext rather than FetchMaxWait, so that a stop ends the wait.
	fctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	b, err := cons.Fetch(x.batch, jetstream.FetchContext(fctx))
	if err != nil {
		return fmt.Errorf("audit index fetch: %w", err)
	}
	var msgs []jetstream.Msg
	recs := make([]Record, 0, x.batch)
	for m := range b.Messages() {
		msgs = append(msgs, m)
		rec, err := record(m)
		if err != nil {
			x.m.skipped.Inc()
			x.log.Warn().Err(err).Msg("audit index: event skipped")
			continue
		}
		recs = append(recs, rec)
	}
	if err := b.Error(); err != nil && len(msgs) == 0 && ctx.Err() == nil &&
		!errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("audit index fetch: %w", err)
	}
	if len(msgs) > 0 {
		start := time.Now()
		if err := x.store.Put(ctx, recs); err != nil {
			for _, m := range msgs {
				_ = m.NakWithDelay(retryDelay)
			}
			return err
		}
		x.m.batch.Observe(time.Since(start).Seconds())
		x.m.indexed.Add(float64(len(recs)))
		for _, m := range msgs {
			_ = m.Ack()
		}
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("audit index consumer info: %w", err)
	}
	// NumPending only: what was delivered here is committed by now, and
	// its acks may still be on their way.
	x.lag.Store(int64(info.NumPending))
	return nil
}

func record(m jetstream.Msg) (Record, error) {
	md, err := m.Metadata()
	if err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrUndecodable, err)
	}
	return FromMessage(md.Sequence.Stream, m.Subject(), m.Data(), md.Timestamp)
}

// housekeep applies retention and a rebuild asked for since the last time.
func (x *Indexer) housekeep(ctx context.Context, cons *jetstream.Consumer) {
	if n, err := x.store.DeleteBefore(ctx, time.Now().Add(-x.maxAge)); err != nil {
		x.log.Warn().Err(err).Msg("audit index: retention failed; retrying in a minute")
	} else if n > 0 {
		x.m.removed.Add(float64(n))
		x.log.Info().Int64("removed", n).Dur("max_age", x.maxAge).Msg("audit index: retention")
	}
	asked, err := x.store.TakeRebuild(ctx)
	if err != nil {
		x.log.Warn().Err(err).Msg("audit index: rebuild check failed")
		return
	}
	if !asked {
		return
	}
	if err := x.js.DeleteConsumer(ctx, bus.StreamName, x.name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		x.log.Warn().Err(err).Msg("audit index: rebuild could not reset the consumer")
		return
	}
	*cons = nil
	x.log.Info().Msg("audit index: rebuilding from the first stored event")
}
