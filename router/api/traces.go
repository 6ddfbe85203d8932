package api

import (
	"net/http"
	"time"

	"github.com/auditbus/auditbus/router/cts"
)

// ctsErrorWriter marks the answers of the CTS-compatible endpoints, whose
// clients (the CTS SDKs) read error_code as a CTS code: an error of the
// API around them (authentication, method) gets the CTS code of its
// status, its message unchanged.
type ctsErrorWriter struct{ http.ResponseWriter }

// Unwrap lets http.ResponseController reach the connection.
func (w ctsErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// listTraces answers GET /v3/{project_id}/traces from the audit index
// (see cts.ListTraces) over the buses the identity may read; project_id
// is accepted as any value, auditbus having no projects.
func (s *Server) listTraces(w http.ResponseWriter, r *http.Request) {
	buses, ok := auditBuses(w, r, "")
	if !ok {
		return
	}
	resp, err := cts.ListTraces(r.Context(), s.opts.index, buses, r.URL.Query(), time.Now())
	if err != nil {
		if err.Status >= 500 {
			s.opts.log.Error().Str("code", err.Code).Msg("CTS trace query failed: " + err.Msg)
		}
		writeJSON(w, err.Status, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
