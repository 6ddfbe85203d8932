package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// ConsumerName is the durable consumer every router replica pulls from, so
// replicas share the work and each event is processed by one of them.
const ConsumerName = "auditbus-router"

// Defaults for the options.
const (
	DefaultWorkers       = 64
	DefaultAckWait       = 30 * time.Second
	DefaultAttempts      = 3
	DefaultShutdownGrace = 10 * time.Second
)

// ErrStopped is returned by Run when the router has already run.
var ErrStopped = errors.New("router already ran")

type options struct {
	workers  int
	ackWait  time.Duration
	attempts int
	backoff  time.Duration
	grace    time.Duration
	log      zerolog.Logger
	reg      prometheus.Registerer
}

// Option configures a Router.
type Option func(*options)

// WithWorkers bounds the events processed at once. Default 64.
func WithWorkers(n int) Option { return func(o *options) { o.workers = max(n, 1) } }

// WithAckWait sets how long JetStream waits for an acknowledgement before
// redelivering, to another replica or after a crash; the router extends it
// while an event is being delivered. Default 30s.
func WithAckWait(d time.Duration) Option { return func(o *options) { o.ackWait = d } }

// WithAttempts sets the delivery attempts made in place before the event is
// handed back to the bus for a later try. Default 3.
func WithAttempts(n int) Option { return func(o *options) { o.attempts = max(n, 1) } }

// WithBackoff sets the first in-place retry delay; it doubles per attempt,
// with jitter. Default 200ms.
func WithBackoff(d time.Duration) Option { return func(o *options) { o.backoff = d } }

// WithShutdownGrace bounds how long Run lets in-flight deliveries finish
// once its context ends; the rest are handed back to the bus. Default 10s.
func WithShutdownGrace(d time.Duration) Option { return func(o *options) { o.grace = d } }

// WithLogger sets the logger. Default: none.
func WithLogger(l zerolog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegisterer registers the router's metrics. Default: not registered.
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.reg = r } }

// Router matches stored events against rules and delivers them.
type Router struct {
	js      jetstream.JetStream
	deps    sinks.Deps
	opts    options
	metrics *metrics
	table   atomic.Pointer[table]
	ran     atomic.Bool
}

// New returns a router reading from the events stream through js and
// building sinks with deps. It has no rules until SetRules.
func New(js jetstream.JetStream, deps sinks.Deps, opts ...Option) *Router {
	o := options{workers: DefaultWorkers, ackWait: DefaultAckWait, attempts: DefaultAttempts,
		backoff: 200 * time.Millisecond, grace: DefaultShutdownGrace, log: zerolog.Nop()}
	for _, opt := range opts {
		opt(&o)
	}
	r := &Router{js: js, deps: deps, opts: o, metrics: newMetrics(o.reg)}
	empty, _, _ := buildTable(context.Background(), emptySet, deps)
	r.table.Store(empty)
	return r
}

var emptySet, _ = rules.Compile(nil)

// SetRules builds sinks for set and swaps it in atomically: events already
// being matched finish against the old set, whose sinks are closed after
// them. On error the running set stays.
func (r *Router) SetRules(ctx context.Context, set *rules.Set) error {
	t, warnings, err := buildTable(ctx, set, r.deps)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		r.opts.log.Warn().Err(w).Msg("target not reachable yet")
	}
	old := r.table.Swap(t)
	go func() {
		if err := old.close(); err != nil {
			r.opts.log.Warn().Err(err).Msg("closing replaced targets")
		}
	}()
	return nil
}

// Rules returns the rule set in use.
func (r *Router) Rules() *rules.Set { return r.table.Load().set }

// consumer creates or updates the shared durable consumer.
func (r *Router) consumer(ctx context.Context) (jetstream.Consumer, error) {
	c, err := r.js.CreateOrUpdateConsumer(ctx, bus.StreamName, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "auditbus router: rule matching and delivery",
		FilterSubject: bus.SubjectPrefix + ".>",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       r.opts.ackWait,
		MaxDeliver:    -1,
		MaxAckPending: max(r.opts.workers*4, 256),
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", ConsumerName, err)
	}
	return c, nil
}

// Run pulls and processes events until ctx ends, then lets in-flight events
// finish within the shutdown grace, hands the rest back to the bus, and
// closes the sinks. It returns nil after a clean stop, including when ctx
// ended before the consumer was ready. A Router runs once: a second call
// returns ErrStopped.
func (r *Router) Run(ctx context.Context) (err error) {
	if !r.ran.CompareAndSwap(false, true) {
		return ErrStopped
	}
	defer func() { err = errors.Join(err, r.table.Load().close()) }()
	cons, err := r.consumer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var inflight sync.WaitGroup
	sem := make(chan struct{}, r.opts.workers)
	r.pull(ctx, cons, sem, &inflight, work)

	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(r.opts.grace):
		r.opts.log.Warn().Dur("grace", r.opts.grace).Msg("shutdown grace over: handing in-flight events back to the bus")
		cancelWork()
		<-done
	}
	return nil
}

// pull fetches batches sized to the free workers until ctx ends.
func (r *Router) pull(ctx context.Context, cons jetstream.Consumer, sem chan struct{}, inflight *sync.WaitGroup, work context.Context) {
	for ctx.Err() == nil {
		free := cap(sem) - len(sem)
		if free == 0 {
			select {
			case sem <- struct{}{}:
				<-sem
			case <-ctx.Done():
				return
			}
			continue
		}
		batch, err := cons.Fetch(free, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			r.opts.log.Error().Err(err).Msg("fetch from events stream")
			sleep(ctx, time.Second)
			continue
		}
		for msg := range batch.Messages() {
			if ctx.Err() != nil {
				r.settle(msg, outcome{handBack: true})
				continue
			}
			sem <- struct{}{}
			inflight.Add(1)
			go func() {
				defer inflight.Done()
				defer func() { <-sem }()
				r.handle(work, msg)
			}()
		}
		if err := batch.Error(); err != nil && ctx.Err() == nil {
			r.opts.log.Warn().Err(err).Msg("fetch batch ended with an error")
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}
