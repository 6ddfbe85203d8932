package auth

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	failures   *prometheus.CounterVec
	reloads    *prometheus.CounterVec
	identities prometheus.Gauge
}

// newMetrics registers on reg; with nil the metrics are kept but not
// exported.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "auditbus_auth_failures_total",
			Help: "API requests refused by auth, by reason: missing, token, signature, certificate, scheme (no valid identity), forbidden (no action), throttled."},
			[]string{"reason"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "auditbus_auth_reloads_total",
			Help: "Auth file reloads, by result (ok, error: the previous identities stay)."}, []string{"result"}),
		identities: prometheus.NewGauge(prometheus.GaugeOpts{Name: "auditbus_auth_identities",
			Help: "Identities in the auth file in force."}),
	}
	if reg != nil {
		reg.MustRegister(m.failures, m.reloads, m.identities)
	}
	return m
}
