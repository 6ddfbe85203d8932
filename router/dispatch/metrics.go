package dispatch

import "github.com/prometheus/client_golang/prometheus"

// metrics are the router's Prometheus series.
type metrics struct {
	events     *prometheus.CounterVec   // by settlement
	matches    *prometheus.CounterVec   // by bus, rule
	ruleErrors *prometheus.CounterVec   // by bus, rule
	deliveries *prometheus.CounterVec   // by rule, target, outcome
	latency    *prometheus.HistogramVec // by target kind
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auditbus_router_events_total",
			Help: "Events the router settled, by outcome: acked, redelivered (negatively acknowledged for a later retry), handed_back (shutdown), abandoned (delivery failed past the give-up bounds; terminated), poison (not a CloudEvent; terminated).",
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
			Name: "auditbus_deliveries_total",
			Help: "Delivery attempts by outcome: delivered, failed (retryable), rejected (permanent).",
		}, []string{"rule", "target", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "auditbus_delivery_duration_seconds",
			Help:    "Duration of one delivery attempt.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.matches, m.ruleErrors, m.deliveries, m.latency)
	}
	return m
}
