package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// ConsumerName is the durable consumer every router replica pulls from, so
// replicas share the work and each event is processed by one of them.
// Replicas should run with the same ack wait and workers: each start
// updates the shared consumer's config to its own.
const ConsumerName = "auditbus-router"

// ErrStopped is returned by Run when the router has already run, and by
// SetRules once it has stopped.
var ErrStopped = errors.New("router already ran")

// Router matches stored events against rules and delivers them.
type Router struct {
	js      jetstream.JetStream
	deps    sinks.Deps
	opts    options
	metrics *metrics
	table   atomic.Pointer[table]
	cons    jetstream.Consumer
	ran     atomic.Bool
	running atomic.Bool

	mu      sync.Mutex // orders SetRules' swaps against Run's final close
	stopped bool
	closing sync.WaitGroup // replaced tables being closed
}

// New returns a router reading from the events stream through js and
// building sinks with deps. It has no rules until SetRules.
func New(js jetstream.JetStream, deps sinks.Deps, opts ...Option) *Router {
	o := buildOptions(opts)
	r := &Router{js: js, deps: deps, opts: o, metrics: newMetrics(o.reg)}
	empty, _, _ := buildTable(context.Background(), emptySet, deps)
	r.table.Store(empty)
	return r
}

var emptySet, _ = rules.Compile(nil)

// SetRules builds sinks for set and swaps it in atomically: events already
// being matched finish against the old set, whose sinks are closed after
// them. On error the running set stays. After Run returned it fails with
// ErrStopped.
func (r *Router) SetRules(ctx context.Context, set *rules.Set) error {
	t, warnings, err := buildTable(ctx, set, r.deps)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		r.opts.log.Warn().Err(w).Msg("target not reachable yet")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		t.close()
		return ErrStopped
	}
	old := r.table.Swap(t)
	r.closing.Go(func() {
		if err := old.close(); err != nil {
			r.opts.log.Warn().Err(err).Msg("closing replaced targets")
		}
	})
	return nil
}

// Rules returns the rule set in use.
func (r *Router) Rules() *rules.Set { return r.table.Load().set }

// Running reports whether Run is pulling events.
func (r *Router) Running() bool { return r.running.Load() }

// acquire returns the current table, held so that it is not closed until
// released; the check after locking catches a swap that happened between
// loading the pointer and locking it.
func (r *Router) acquire() *table {
	for {
		t := r.table.Load()
		t.inUse.RLock()
		if r.table.Load() == t {
			return t
		}
		t.inUse.RUnlock()
	}
}

// Open creates, or updates to this router's options, the shared durable
// consumer. Run calls it when the caller has not, but calling it first lets
// a server fail its start instead of accepting events nobody will route.
func (r *Router) Open(ctx context.Context) error {
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
		return fmt.Errorf("consumer %s: %w", ConsumerName, err)
	}
	r.cons = c
	return nil
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
	defer func() { err = errors.Join(err, r.stop()) }()
	if r.cons == nil {
		if err := r.Open(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	r.running.Store(true)
	defer r.running.Store(false)
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var inflight sync.WaitGroup
	sem := make(chan struct{}, r.opts.workers)
	r.pull(ctx, r.cons, sem, &inflight, work)

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

// stop refuses further rule swaps, waits for replaced tables to close, and
// closes the current one.
func (r *Router) stop() error {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.closing.Wait()
	return r.table.Load().close()
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
