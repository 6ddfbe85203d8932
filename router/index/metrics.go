package index

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	indexed, skipped, removed, errors prometheus.Counter
	batch                             prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, x *Indexer) *metrics {
	m := &metrics{
		indexed: prometheus.NewCounter(prometheus.CounterOpts{Name: "auditbus_index_events_total",
			Help: "Events written to the audit index (a redelivered event counts again; the index holds it once)."}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "auditbus_index_skipped_total",
			Help: "Stored messages the audit index could not decode as events, and skipped."}),
		removed: prometheus.NewCounter(prometheus.CounterOpts{Name: "auditbus_index_removed_total",
			Help: "Records the audit index's retention removed."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "auditbus_index_errors_total",
			Help: "Failed audit index fetches or writes (each is retried)."}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "auditbus_index_batch_seconds",
			Help: "Time to write one batch to the audit index.", Buckets: prometheus.DefBuckets}),
	}
	if reg != nil {
		lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "auditbus_index_lag_events",
			Help: "Events stored on the bus but not yet indexed (-1 until known)."},
			func() float64 { return float64(x.lag.Load()) })
		reg.MustRegister(m.indexed, m.skipped, m.removed, m.errors, m.batch, lag)
	}
	return m
}
