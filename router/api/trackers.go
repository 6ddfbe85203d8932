package api

import (
	"io"
	"net/http"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/cts"
)

// WithTrackers serves the CTS tracker and quota endpoints (POST and PUT
// /v3/{project_id}/tracker, GET and DELETE /v3/{project_id}/trackers,
// GET /v3/{project_id}/quotas) from t. Default: none.
func WithTrackers(t *cts.Trackers) Option { return func(o *options) { o.trackers = t } }

func (s *Server) routeTrackers() {
	s.routeCTS("/v3/{project_id}/tracker", methods{
		http.MethodPost: {auth.ActionCTSTrackerCreate, s.createTracker},
		http.MethodPut:  {auth.ActionCTSTrackerUpdate, s.updateTracker}})
	s.routeCTS("/v3/{project_id}/trackers", methods{
		http.MethodGet:    {auth.ActionCTSTrackerList, s.listTrackers},
		http.MethodDelete: {auth.ActionCTSTrackerDelete, s.deleteTrackers}})
	s.routeCTS("/v3/{project_id}/quotas", methods{http.MethodGet: {auth.ActionCTSQuotaGet, s.listQuotas}})
}

func (s *Server) ctsAnswer(w http.ResponseWriter, status int, v any, err *cts.Error) {
	switch {
	case err != nil:
		if err.Status >= 500 {
			s.opts.log.Error().Str("code", err.Code).Msg("CTS tracker request failed: " + err.Msg)
		}
		writeJSON(w, err.Status, err)
	case v == nil:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, v)
	}
}

// trackerBody reads a tracker request's body within the body limit.
func (s *Server) trackerBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.maxBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, &cts.Error{Code: cts.CodeBody, Msg: "reading the body: " + err.Error()})
		return nil, false
	}
	return body, true
}

func (s *Server) createTracker(w http.ResponseWriter, r *http.Request) {
	body, ok := s.trackerBody(w, r)
	if !ok {
		return
	}
	domain := ""
	if id := auth.FromContext(r.Context()); id != nil {
		domain = id.Name
	}
	t, err := s.opts.trackers.Create(r.Context(), r.PathValue("project_id"), domain, body)
	s.ctsAnswer(w, http.StatusCreated, t, err)
}

func (s *Server) updateTracker(w http.ResponseWriter, r *http.Request) {
	body, ok := s.trackerBody(w, r)
	if !ok {
		return
	}
	s.ctsAnswer(w, http.StatusOK, nil, s.opts.trackers.Update(r.Context(), r.PathValue("project_id"), body))
}

func (s *Server) listTrackers(w http.ResponseWriter, r *http.Request) {
	resp, err := s.opts.trackers.List(r.Context(), r.PathValue("project_id"), r.URL.Query())
	s.ctsAnswer(w, http.StatusOK, resp, err)
}

func (s *Server) deleteTrackers(w http.ResponseWriter, r *http.Request) {
	s.ctsAnswer(w, http.StatusNoContent, nil, s.opts.trackers.Delete(r.Context(), r.PathValue("project_id"), r.URL.Query()))
}

func (s *Server) listQuotas(w http.ResponseWriter, r *http.Request) {
	resp, err := s.opts.trackers.Quotas(r.Context(), r.PathValue("project_id"))
	s.ctsAnswer(w, http.StatusOK, resp, err)
}
