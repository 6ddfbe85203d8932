package dispatch

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Defaults for the options.
const (
	DefaultWorkers        = 64
	DefaultAckWait        = 30 * time.Second
	DefaultAttempts       = 3
	DefaultShutdownGrace  = 10 * time.Second
	DefaultMaxDeliveries  = 185 // EventBridge's retry bound
	DefaultMaxDeliveryAge = 24 * time.Hour
	defaultInitialBackoff = 200 * time.Millisecond
)

type options struct {
	workers       int
	ackWait       time.Duration
	attempts      int
	backoff       time.Duration
	grace         time.Duration
	maxDeliveries int
	maxAge        time.Duration
	log           zerolog.Logger
	reg           prometheus.Registerer
}

func buildOptions(opts []Option) options {
	o := options{workers: DefaultWorkers, ackWait: DefaultAckWait, attempts: DefaultAttempts,
		backoff: defaultInitialBackoff, grace: DefaultShutdownGrace,
		maxDeliveries: DefaultMaxDeliveries, maxAge: DefaultMaxDeliveryAge, log: zerolog.Nop()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
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

// WithGiveUp bounds how long an event whose delivery keeps failing comes
// back from the bus: after maxDeliveries deliveries of the event, or once it
// has been stored for maxAge, the router terminates it, logs the last error
// at error level and counts it as abandoned. Defaults 185 and 24h, as
// EventBridge.
func WithGiveUp(maxDeliveries int, maxAge time.Duration) Option {
	return func(o *options) { o.maxDeliveries, o.maxAge = max(maxDeliveries, 1), maxAge }
}

// WithLogger sets the logger. Default: none.
func WithLogger(l zerolog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegisterer registers the router's metrics. Default: not registered.
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.reg = r } }
