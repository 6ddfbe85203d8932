// Package api serves auditbus's HTTP API: CloudEvents ingest on
// POST /v1/events, raw cloud audit records on POST /v1/sources/{cloudaudit,
// cts,k8s-audit}, health and readiness probes, and Prometheus metrics.
//
// Every error answer is JSON {"error_code": "AB.NNNN", "error_msg": "..."}
// with a stable code (see codes.go), and a rejected request stores nothing.
package api
