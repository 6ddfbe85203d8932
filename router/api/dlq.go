package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/auditbus/auditbus/router/dispatch"
)

// DLQ is the dead-letter queue the API lists and redrives;
// *dispatch.Router is the real one.
type DLQ interface {
	ListDLQ(ctx context.Context, f dispatch.DLQFilter) (dispatch.DLQPage, error)
	Redrive(ctx context.Context, req dispatch.RedriveRequest) (dispatch.RedriveResult, error)
}

// WithDLQ serves GET /v1/dlq and POST /v1/dlq:redrive from d. Default:
// no DLQ endpoints.
func WithDLQ(d DLQ) Option { return func(o *options) { o.dlq = d } }

// listDLQ answers dead letters, oldest first: ?bus=, ?rule=, ?target=
// filter, ?limit= (1 to 200, default 50) sizes the page and ?next= (the
// "next" of the previous page) continues after it.
func (s *Server) listDLQ(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := dispatch.DLQFilter{Bus: q.Get("bus"), Rule: q.Get("rule"), Target: q.Get("target")}
	for _, p := range [][2]string{{"bus", f.Bus}, {"rule", f.Rule}, {"target", f.Target}} {
		if p[1] != "" && !busName.MatchString(p[1]) {
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("%s %q: want [a-z0-9][a-z0-9-]{0,63}", p[0], p[1]))
			return
		}
	}
	var ok bool
	if f.Bus, ok = scopeBus(w, r, f.Bus); !ok {
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > dispatch.MaxDLQLimit {
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("limit %q: want 1 to %d", v, dispatch.MaxDLQLimit))
			return
		}
		f.Limit = n
	}
	if v := q.Get("next"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("next %q: want the next of a previous page", v))
			return
		}
		f.After = n
	}
	page, err := s.opts.dlq.ListDLQ(r.Context(), f)
	if err != nil {
		s.dlqError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// redriveBody is POST /v1/dlq:redrive's request.
type redriveBody struct {
	IDs      []uint64 `json:"ids"`
	Bus      string   `json:"bus"`
	Rule     string   `json:"rule"`
	Target   string   `json:"target"`
	ToTarget string   `json:"to_target"`
	Limit    int      `json:"limit"`
}

// redriveDLQ queues dead letters again, by ids or by rule (and optionally
// bus and target), at most 200 per call; to_target sends them to another
// target of the same rule. 200 with the ids redriven; on an error the
// entries redriven before it stay redriven (the answer's error says so).
func (s *Server) redriveDLQ(w http.ResponseWriter, r *http.Request) {
	var b redriveBody
	if !s.readJSON(w, r, "redrive request", &b) {
		return
	}
	var ok bool
	if b.Bus, ok = scopeBus(w, r, b.Bus); !ok {
		return
	}
	res, err := s.opts.dlq.Redrive(r.Context(), dispatch.RedriveRequest{IDs: b.IDs, Bus: b.Bus, Rule: b.Rule,
		Target: b.Target, ToTarget: b.ToTarget, Limit: b.Limit})
	if err != nil {
		if len(res.Redriven) > 0 {
			err = fmt.Errorf("%w (redriven before the error: %v)", err, res.Redriven)
		}
		s.dlqError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) dlqError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, dispatch.ErrBadRedrive):
		writeError(w, http.StatusBadRequest, CodeInvalidRedrive, err.Error())
	case errors.Is(err, dispatch.ErrNoSuchEntry):
		writeError(w, http.StatusNotFound, CodeDeadLetterNotFound, err.Error())
	case errors.Is(err, dispatch.ErrNoSuchTarget):
		writeError(w, http.StatusNotFound, CodeTargetNotFound, err.Error())
	default:
		s.opts.log.Error().Err(err).Msg("dead-letter queue request failed")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the dead-letter stream did not answer; retrying is safe")
	}
}
