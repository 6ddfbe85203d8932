package api

import (
	"net/http"

	"github.com/auditbus/auditbus/router/acp"
	"github.com/auditbus/auditbus/router/hss"
)

// hssErrorWriter marks the answers of the HSS-compatible endpoint, whose
// clients (the HSS SDKs) read error_code as an HSS code: an error of the
// API around it (authentication, method) gets the HSS code of its
// status, its message unchanged.
type hssErrorWriter struct{ http.ResponseWriter }

// Unwrap lets http.ResponseController reach the connection.
func (w hssErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// routeHSS is route for the HSS-compatible endpoint: its errors carry HSS
// codes (see hssErrorWriter).
func (s *Server) routeHSS(path string, byMethod methods) {
	s.handle(path, byMethod, func(w http.ResponseWriter) http.ResponseWriter { return hssErrorWriter{w} })
}

// listClusterAuditLogs answers GET
// /v5/{project_id}/container/kubernetes/cluster/audit-logs from the audit
// index (see hss.ListClusterAuditLogs) over the buses the identity may
// read; project_id is accepted as any value, auditbus having no projects.
func (s *Server) listClusterAuditLogs(w http.ResponseWriter, r *http.Request) {
	buses, ok := auditBuses(w, r, "")
	if !ok {
		return
	}
	resp, err := hss.ListClusterAuditLogs(r.Context(), s.opts.index, buses, r.URL.Query())
	if err != nil {
		if err.Status >= 500 {
			s.opts.log.Error().Err(err.Err).Str("code", err.Code).Msg("HSS audit log query failed")
			w.Header().Set("Retry-After", "1")
		}
		writeJSON(w, err.Status, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// listKubernetesAudits answers GET /v1/kubernetes-audits from the audit
// index (see acp.ListAudits) over the buses the identity may read. Its
// errors are Kubernetes Status objects (routeKube), as ACP's are, with
// auditbus's error_code beside them.
func (s *Server) listKubernetesAudits(w http.ResponseWriter, r *http.Request) {
	buses, ok := auditBuses(w, r, "")
	if !ok {
		return
	}
	resp, err := acp.ListAudits(r.Context(), s.opts.index, buses, r.URL.Query())
	switch {
	case err != nil && err.Status >= 500:
		s.opts.log.Error().Err(err.Err).Msg("ACP audit query failed")
		writeError(w, err.Status, CodeUnavailable, err.Msg)
	case err != nil:
		writeError(w, err.Status, CodeInvalidParameter, err.Msg)
	default:
		writeJSON(w, http.StatusOK, resp)
	}
}
