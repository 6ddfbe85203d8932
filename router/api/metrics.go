package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.HistogramVec // by method, route, status class
	events   *prometheus.CounterVec   // by outcome: stored, duplicate
	rejected *prometheus.CounterVec   // by error code
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "auditbus_http_request_duration_seconds",
			Help:    "HTTP API request duration.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"method", "route", "status"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auditbus_ingest_events_total",
			Help: "Events accepted by the HTTP API: stored, or duplicate (already on the bus).",
		}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auditbus_ingest_rejected_requests_total",
			Help: "Ingest requests rejected, by error code.",
		}, []string{"code"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.events, m.rejected)
	}
	return m
}

// routeOf keeps the route label's cardinality bounded.
func routeOf(path string) string {
	switch path {
	case "/v1/events", "/v1/sources/cloudaudit", "/v1/sources/cts", "/v1/sources/k8s-audit", "/healthz", "/readyz", "/metrics",
		"/v1/rules", "/v1/rules:test", "/v1/signing-cert":
		return path
	}
	// Rule names are unbounded: one label for them all.
	if strings.HasPrefix(path, "/v1/rules/") {
		return "/v1/rules/{name}"
	}
	if strings.HasPrefix(path, "/v1/sources/k8s-audit/") {
		return "/v1/sources/k8s-audit/{cluster}"
	}
	return "other"
}

func statusClass(code int) string { return strconv.Itoa(code/100) + "xx" }

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer, so
// a stream (the console's live tail) can flush through the recorder.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
