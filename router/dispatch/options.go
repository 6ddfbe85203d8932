package dispatch

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus"
)

// Defaults for the options (see each With...), and the bound of the
// deliveries in flight, or waiting for a slot, in one process over all
// targets (DefaultDeliveryWorkers).
const (
	DefaultWorkers            = 256
	DefaultDirectWait         = time.Second
	DefaultDeliveryWorkers    = 1024
	DefaultAckWait            = 30 * time.Second
	DefaultShutdownGrace      = 10 * time.Second
	DefaultConcurrency        = 32
	DefaultMaxAttempts        = 185 // EventBridge's
	DefaultMaxAge             = 24 * time.Hour
	DefaultBackoffBase        = time.Second
	DefaultBackoffCap         = 5 * time.Minute
	DefaultPubAckWait         = 5 * time.Second
	DefaultDepthInterval      = 5 * time.Second
	DefaultRemovedTargetGrace = time.Minute
)

type options struct {
	workers       int
	directWait    time.Duration
	ackWait       time.Duration
	grace         time.Duration
	concurrency   int
	maxAttempts   int
	maxAge        time.Duration
	backoffBase   time.Duration
	backoffCap    time.Duration
	depthInterval time.Duration
	pubAckWait    time.Duration
	dlqMaxAge     time.Duration
	replicas      int
	removedGrace  time.Duration
	log           zerolog.Logger
	reg           prometheus.Registerer
	disk          *bus.DiskWatch
}

func buildOptions(opts []Option) options {
	o := options{workers: DefaultWorkers, directWait: DefaultDirectWait, ackWait: DefaultAckWait, grace: DefaultShutdownGrace,
		concurrency: DefaultConcurrency, maxAttempts: DefaultMaxAttempts, maxAge: DefaultMaxAge,
		backoffBase: DefaultBackoffBase, backoffCap: DefaultBackoffCap,
		depthInterval: DefaultDepthInterval, pubAckWait: DefaultPubAckWait, removedGrace: DefaultRemovedTargetGrace,
		log: zerolog.Nop()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Option configures a Router.
type Option func(*options)

// WithWorkers bounds the events matched and fanned out at once. Default
// 256: a target that hangs holds at most twice as many of them as it has
// slots (its attempts within the direct wait, and as many waiting for a
// slot), and the rest serve every other target.
func WithWorkers(n int) Option { return func(o *options) { o.workers = max(n, 1) } }

// WithDirectWait bounds how long the fan-out of an event waits for the
// deliveries it makes itself, straight from the events consumer, to
// targets that can take one at once; what is still running then gets a
// parked copy. Zero turns direct delivery off: every delivery is queued
// on the deliveries stream first. Default 1s.
func WithDirectWait(d time.Duration) Option { return func(o *options) { o.directWait = max(d, 0) } }

// WithAckWait sets how long JetStream waits for an acknowledgement of an
// event or a delivery before redelivering it, to another replica or after
// a crash; the router extends it while it works on the message. Default
// 30s.
func WithAckWait(d time.Duration) Option { return func(o *options) { o.ackWait = d } }

// WithShutdownGrace bounds how long Run lets in-flight work finish once
// its context ends; the rest is handed back to the bus. Default 10s.
func WithShutdownGrace(d time.Duration) Option { return func(o *options) { o.grace = d } }

// WithConcurrency sets the deliveries in flight at once per target when
// the target does not set `concurrency`. Default 32 (deploy/README.md,
// "Why 32 slots").
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = max(n, 1) } }

// WithRetryDefaults sets the retry bounds of targets whose rule sets no
// `retry`: attempts and age (counted from when the event was stored).
// Defaults 185 and 24h, as EventBridge.
func WithRetryDefaults(maxAttempts int, maxAge time.Duration) Option {
	return func(o *options) { o.maxAttempts, o.maxAge = max(maxAttempts, 1), maxAge }
}

// WithBackoff sets the retry delay's base and cap: retry n waits a random
// time in [0, min(cap, base*2^(n-1))] ("full jitter"), or what the target
// asked for with Retry-After if longer. Defaults 1s and 5m.
func WithBackoff(base, cap time.Duration) Option {
	return func(o *options) { o.backoffBase, o.backoffCap = base, max(cap, base) }
}

// WithDepthInterval sets how often backlogs are read. Default 5s.
func WithDepthInterval(d time.Duration) Option { return func(o *options) { o.depthInterval = d } }

// WithPubAckWait bounds the wait for JetStream's acknowledgements of the
// deliveries queued for one event. When it passes, the event is not acked
// but handed back (Nak with a short delay) and matched again; deliveries
// already stored are not queued twice, their message ids deduplicate them.
// Default 5s.
func WithPubAckWait(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.pubAckWait = d
		}
	}
}

// WithDLQMaxAge sets how long dead letters are kept. Default 14 days.
func WithDLQMaxAge(d time.Duration) Option { return func(o *options) { o.dlqMaxAge = d } }

// WithReplicas sets the replication factor of the deliveries and
// dead-letter streams on a cluster. Default 1.
func WithReplicas(n int) Option { return func(o *options) { o.replicas = n } }

// WithRemovedTargetGrace sets how long what is queued for a (rule, target)
// that left the rules, or that this router found on the bus without a
// rule of its own, is kept before it is dead-lettered ("target removed");
// a pair that comes back meanwhile just resumes. A backlog another
// replica drains is not dead-lettered (see backlog.go). Zero dead-letters
// at once, as long as no other replica drains it. Default 1m.
func WithRemovedTargetGrace(d time.Duration) Option {
	return func(o *options) { o.removedGrace = max(d, 0) }
}

// WithLogger sets the logger. Default: none.
func WithLogger(l zerolog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegisterer registers the router's metrics. Default: not registered.
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.reg = r } }

// WithDiskWatch makes the router wait, before it re-creates a consumer or
// watches the state bucket again after JetStream said "not found", until
// the embedded server's store is whole (bus.DiskWatch.Settled), and
// create nothing if a reopening began meanwhile: while the streams are
// reopened after a full disk, JetStream answers "not found" for what it
// has not recovered yet, and a consumer created then would replace the
// one being recovered. Default nil: an external server, nothing to wait
// for.
func WithDiskWatch(w *bus.DiskWatch) Option { return func(o *options) { o.disk = w } }
