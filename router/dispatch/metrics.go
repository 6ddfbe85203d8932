package dispatch

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the router's Prometheus series.
type metrics struct {
	events     *prometheus.CounterVec   // by settlement
	matches    *prometheus.CounterVec   // by bus, rule
	ruleErrors *prometheus.CounterVec   // by bus, rule
	deliveries *prometheus.CounterVec   // by bus, rule, target, outcome
	latency    *prometheus.HistogramVec // by target kind
	depth      *prometheus.GaugeVec     // by bus, rule, target
	oldest     *prometheus.GaugeVec     // by bus, rule, target
	consent    *prometheus.CounterVec   // by bus, rule, target, outcome
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auditbus_router_events_total",
			Help: "Events the router settled, by outcome: acked (matched nothing, or queued for every matched target), redelivered (queueing failed; retried later), handed_back (shutdown), poison (not a CloudEvent; dead-lettered, then terminated).",
		}, []string{"outcome"}),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auditbus_rule_matches_total",
			Help: "Events a rule matched.",
		}, []string{"bus", "rule"}),
		ruleErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auditbus_rule_errors_total",
			Help: "Rule evaluations that failed at run time (counted as no match).",
		}, []string{"bus", "rule"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auditbus_target_deliveries_total",
			Help: "Deliveries by outcome: delivered, failed (one attempt), retried (queued again with a delay), dead_lettered, parked (stored on the target's backlog: held, or no slot in time).",
		}, []string{"bus", "rule", "target", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "auditbus_delivery_duration_seconds",
			Help:    "Duration of one delivery attempt.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"kind"}),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "auditbus_target_queue_depth",
			Help: "A target's backlog on the bus: deliveries ready, in flight, scheduled for a retry or parked while the target is held or saturated; read every few seconds.",
		}, []string{"bus", "rule", "target"}),
		oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "auditbus_target_oldest_waiting_seconds",
			Help: "Age of a target's oldest waiting delivery (0: none), read with auditbus_target_queue_depth.",
		}, []string{"bus", "rule", "target"}),
		consent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auditbus_target_consent_requests_total",
			Help: "Consent requests (SMN SubscriptionConfirmation, CloudEvents handshake) by outcome: granted (in the answer), pending (sent; waiting for the endpoint to GET its URL), failed (retried with backoff).",
		}, []string{"bus", "rule", "target", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.matches, m.ruleErrors, m.deliveries, m.latency, m.depth, m.oldest, m.consent)
	}
	return m
}

// lazyCounter is one series of vec, looked up on its first increment
// (so that a rule set of 100,000 rules makes no series for what never
// happened) and then kept.
type lazyCounter struct {
	vec    *prometheus.CounterVec
	labels []string
	c      atomic.Pointer[prometheus.Counter]
}

func (l *lazyCounter) inc() {
	p := l.c.Load()
	if p == nil {
		ctr := l.vec.WithLabelValues(l.labels...)
		p = &ctr
		l.c.Store(p)
	}
	(*p).Inc()
}

// counts are one pair's delivery counters, looked up once per pair and
// outcome (a lane keeps them) rather than by label on every delivery; a
// series exists once its outcome happened.
type counts [len(outcomes)]lazyCounter

// Delivery outcomes, the values of the outcome label (outcomes), by index.
const (
	delivered    = iota // the target took it
	failed              // an attempt failed (followed by retried, parked or dead_lettered)
	retried             // scheduled again for a later attempt
	deadLettered        // moved to the dead-letter queue
	parked              // stored on its backlog: the target was held, or had no slot in time
)

var outcomes = [...]string{"delivered", "failed", "retried", "dead_lettered", "parked"}

func (c *counts) inc(outcome int) { c[outcome].inc() }

func newCounts(vec *prometheus.CounterVec, key targetKey) *counts {
	var c counts
	for i, o := range outcomes {
		c[i] = lazyCounter{vec: vec, labels: []string{key.bus, key.rule, key.target, o}}
	}
	return &c
}

// countsOf returns key's counters, kept on l (nil: made for the call).
func (r *Router) countsOf(key targetKey, l *lane) *counts {
	if l == nil {
		return newCounts(r.metrics.deliveries, key)
	}
	if c := l.counts.Load(); c != nil {
		return c
	}
	l.counts.CompareAndSwap(nil, newCounts(r.metrics.deliveries, key))
	return l.counts.Load()
}
