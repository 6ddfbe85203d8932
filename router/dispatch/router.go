package dispatch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// ConsumerName is the durable consumer of the events stream every router
// replica pulls from, so replicas share the matching and each event is
// fanned out by one of them. Replicas should run with the same ack wait and
// workers: each start updates the shared consumer's config to its own.
const ConsumerName = "auditbus-router"

// ErrStopped is returned by Run when the router has already run, and by
// SetRules once it has stopped.
var ErrStopped = errors.New("router already ran")

// Router matches stored events against rules, queues one delivery per
// matched (rule, target), and delivers them through per-target lanes.
type Router struct {
	js      jetstream.JetStream
	deps    sinks.Deps
	opts    options
	metrics *metrics
	table   atomic.Pointer[table]
	cons    jetstream.Consumer // the events consumer, once Open
	deliv   jetstream.Consumer // the shared consumer of ready deliveries, once Open
	ran     atomic.Bool
	running atomic.Bool
	started chan struct{} // closed once Run is pulling

	mu      sync.Mutex // guards stopped, qctx; orders SetRules against Run
	stopped bool
	qctx    context.Context // parent of every backlog drain; nil until Run
	work    context.Context // in-flight deliveries; ends after the shutdown grace
	drains  sync.WaitGroup  // backlog drains (backlog.go)
	closing sync.WaitGroup  // replaced tables being closed
	crew    *crew           // runs the direct attempts (crew.go)

	drainsOf sync.Map      // targetKey -> *lane (nil: an orphan): one backlog drain per key at most (backlog.go)
	kick     chan struct{} // asks the sweep to look now

	backlogMu sync.RWMutex
	backlogs  map[targetKey]Backlog   // what the last sweep saw (backlog.go)
	orphans   map[targetKey]time.Time // backlogs of pairs the rules lack: last seen served; the sweep's own
	eventsLag atomic.Pointer[EventsLag]

	healMu        sync.Mutex    // one heal at a time; guards eventsCreated
	floor         atomic.Uint64 // the events consumer's ack floor when Info last answered
	eventsCreated time.Time     // when the events stream the floor belongs to was created

	kv      jetstream.KeyValue // StateBucket; nil until Open
	stateMu sync.RWMutex
	states  map[targetKey]cached
}

// New returns a router reading from the events stream through js and
// building sinks with deps. It has no rules until SetRules.
func New(js jetstream.JetStream, deps sinks.Deps, opts ...Option) *Router {
	o := buildOptions(opts)
	r := &Router{js: js, deps: deps, opts: o, metrics: newMetrics(o.reg),
		backlogs: map[targetKey]Backlog{}, orphans: map[targetKey]time.Time{},
		kick: make(chan struct{}, 1), crew: newCrew(crewIdle),
		states: map[targetKey]cached{}, started: make(chan struct{})}
	empty, _, _ := buildTable(context.Background(), emptySet, deps, r.metrics)
	r.table.Store(empty)
	return r
}

var emptySet, _ = rules.Compile(nil)

// SetRules builds sinks for set, gives every (rule, target) of it a lane,
// and swaps the set in atomically: deliveries already running finish with
// the old sinks, which are closed after them. It makes no JetStream call
// per target. What is queued for pairs the new set lacks is kept (doc.go,
// "Removed targets"). On error the running set stays. After Run returned
// it fails with ErrStopped.
func (r *Router) SetRules(ctx context.Context, set *rules.Set) error {
	t, warnings, err := buildTable(ctx, set, r.deps, r.metrics)
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
	r.syncLanes(t)
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

// Started is closed once Run pulls events and deliveries.
func (r *Router) Started() <-chan struct{} { return r.started }

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

// Open creates, or updates to this router's options, the target state
// bucket, the deliveries and dead-letter streams, the shared durable
// consumer of the events stream and the shared durable consumer of ready
// deliveries. Run calls it when the caller has not, but calling it first
// lets a server fail its start instead of accepting events nobody will
// route.
func (r *Router) Open(ctx context.Context) error {
	if err := r.openState(ctx); err != nil {
		return err
	}
	c, d, err := r.openConsumers(ctx)
	if err != nil {
		return err
	}
	r.cons, r.deliv = c, d
	return nil
}

// Run pulls and fans out events and delivers what is queued until ctx
// ends, then lets in-flight work finish within the shutdown grace, hands
// the rest back to the bus (Nak), and closes the sinks. It returns nil
// after a clean stop, including when ctx ended before the consumer was
// ready. A Router runs once: a second call returns ErrStopped.
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
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	// Ending with Run, not only with ctx: a start that fails half-way must
	// not leave the watcher or queues it started running.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	followState, err := r.watchState(ctx)
	r.mu.Lock()
	if r.stopped {
		err = ErrStopped
	}
	r.qctx, r.work = ctx, work // backlog drains may start
	r.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	r.running.Store(true)
	defer r.running.Store(false)
	close(r.started)

	var owned sync.WaitGroup
	owned.Go(func() { r.sweep(ctx) })
	owned.Go(func() { r.steward(ctx) })
	owned.Go(followState)
	owned.Go(func() { r.pull(ctx, work, r.cons, r.opts.workers, r.fanOut, nil) })
	owned.Go(func() { r.pull(ctx, work, r.deliv, DefaultDeliveryWorkers, r.route, nil) })
	<-ctx.Done()

	done := make(chan struct{})
	go func() {
		owned.Wait()
		r.drains.Wait()
		r.crew.stop() // the late direct attempts of fan-outs that ended
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(r.opts.grace):
		r.opts.log.Warn().Dur("grace", r.opts.grace).Msg("shutdown grace over: handing in-flight work back to the bus")
		cancelWork()
		<-done
	}
	return nil
}

// stop refuses further rule swaps, waits for replaced tables to close, and
// closes the current one. Safe to call twice.
func (r *Router) stop() error {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.closing.Wait()
	return r.table.Load().close()
}

// stewardPoll is how often the steward looks at the targets that ask for
// consent (consent.go).
const stewardPoll = 250 * time.Millisecond

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}
