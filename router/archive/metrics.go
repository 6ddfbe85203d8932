package archive

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	events, files, bytes, skipped, errors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		events:  c("auditbus_archive_events_total", "Traces written to tracker buckets (a range rewritten after a crash counts again)."),
		files:   c("auditbus_archive_files_total", "Trace files written to tracker buckets."),
		bytes:   c("auditbus_archive_bytes_total", "Bytes of trace files written to tracker buckets."),
		skipped: c("auditbus_archive_skipped_total", "Stream messages that are not events, left out of the archive."),
		errors:  c("auditbus_archive_errors_total", "Archive passes that failed and will be retried."),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.files, m.bytes, m.skipped, m.errors)
	}
	return m
}
