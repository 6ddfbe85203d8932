package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/replay"
	"github.com/auditbus/auditbus/rules"
)

// Error codes of the replay endpoints.
const (
	CodeInvalidReplay        = "AB.1030" // 400: a replay request is invalid (range, mode, bounds)
	CodeReplayNotFound       = "AB.4047" // 404: no such replay in this process
	CodeReplaySourceNotFound = "AB.4048" // 404: the replay names an unknown bus or tracker
	CodeRangeGone            = "AB.4100" // 410: the range ends before the oldest event the stream keeps
	CodeTooManyReplays       = "AB.4293" // 429: as many replays run as the server allows
)

// Replays runs replays; the router's wraps *replay.Manager with the
// server's rule parsing.
type Replays interface {
	Start(ctx context.Context, req replay.Request) (replay.Status, error)
	Get(id string) (replay.Status, error)
	List() []replay.Status
	Cancel(ctx context.Context, id string) (replay.Status, error)
	// ParseDraft parses a draft rule set as rule files are, refusing what
	// rules from the API may not hold; errors are rules.Errors.
	ParseDraft(src []byte) ([]*rules.Rule, error)
}

// WithReplays serves /v1/replays from r. Default: no replay endpoints.
func WithReplays(r Replays) Option { return func(o *options) { o.replays = r } }

func (s *Server) routeReplays() {
	s.route("/v1/replays", methods{http.MethodPost: {auth.ActionReplaysWrite, s.postReplay},
		http.MethodGet: {auth.ActionReplaysRead, s.listReplays}})
	s.route("/v1/replays/{id}", methods{http.MethodGet: {auth.ActionReplaysRead, s.getReplay},
		http.MethodPost: {auth.ActionReplaysWrite, s.cancelReplay}})
}

// replayBody is POST /v1/replays's request.
type replayBody struct {
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Bus         string    `json:"bus"`
	Tracker     string    `json:"tracker"`
	ProjectID   string    `json:"project_id"`
	Mode        string    `json:"mode"`
	Rules       *string   `json:"rules"` // a draft rule set, YAML as in a rules file
	Rate        float64   `json:"rate"`
	Concurrency int       `json:"concurrency"`
	Sample      int       `json:"sample"`
	Lateness    string    `json:"lateness"` // a Go duration
}

// postReplay starts a replay and answers its status (200; the replay
// runs on: GET /v1/replays/{id} follows it).
func (s *Server) postReplay(w http.ResponseWriter, r *http.Request) {
	var b replayBody
	if !s.readJSON(w, r, "replay request", &b) {
		return
	}
	req, ok := s.replayRequest(w, r, b)
	if !ok {
		return
	}
	st, err := s.opts.replays.Start(r.Context(), req)
	if err != nil {
		s.replayError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// replayRequest checks what the API adds to replay.Request's own checks:
// the bus, the caller's buses, the duration and the draft.
func (s *Server) replayRequest(w http.ResponseWriter, r *http.Request, b replayBody) (replay.Request, bool) {
	req := replay.Request{From: b.From, To: b.To, Bus: b.Bus, Tracker: b.Tracker, ProjectID: b.ProjectID, Mode: b.Mode,
		Rate: b.Rate, Concurrency: b.Concurrency, Sample: b.Sample}
	if req.Bus == "" {
		req.Bus = rules.DefaultBus
		if id := auth.FromContext(r.Context()); id != nil && len(id.Buses()) == 1 {
			req.Bus = id.Buses()[0]
		}
	}
	if !busName.MatchString(req.Bus) {
		writeError(w, http.StatusBadRequest, CodeInvalidReplay, fmt.Sprintf("bus %q: want [a-z0-9][a-z0-9-]{0,63}", req.Bus))
		return req, false
	}
	if !permitBus(w, r, req.Bus) {
		return req, false
	}
	if req.Tracker != "" {
		if err := archiveForbidden(r, "replay the stream"); err != nil {
			writeAuthError(w, err)
			return req, false
		}
	}
	if b.Lateness != "" {
		d, err := time.ParseDuration(b.Lateness)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeInvalidReplay, fmt.Sprintf("lateness %q: want a duration like 15m", b.Lateness))
			return req, false
		}
		req.Lateness = d
	}
	if b.Rules != nil {
		if strings.TrimSpace(*b.Rules) == "" {
			writeError(w, http.StatusBadRequest, CodeInvalidReplay, "rules: the draft rule set is empty; leave rules out to replay through the live rules")
			return req, false
		}
		draft, err := s.opts.replays.ParseDraft([]byte(*b.Rules))
		var errs rules.Errors
		if errors.As(err, &errs) {
			writeInvalidRule(w, errs, " set (rules)")
			return req, false
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeInvalidRule, "rules: "+err.Error())
			return req, false
		}
		req.Draft = draft
	}
	return req, true
}

// listReplays answers the replays this process knows, of the caller's
// buses, without their reports.
func (s *Server) listReplays(w http.ResponseWriter, r *http.Request) {
	out := []replay.Status{}
	for _, st := range s.opts.replays.List() {
		if auth.BusAllowed(r.Context(), st.Bus) && (!st.FromArchive() || archiveForbidden(r, "") == nil) {
			out = append(out, st)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"replays": out})
}

// getReplay answers one replay with its progress and report.
func (s *Server) getReplay(w http.ResponseWriter, r *http.Request) {
	st, err := s.opts.replays.Get(r.PathValue("id"))
	if err != nil {
		s.replayError(w, err)
		return
	}
	if permitReplay(w, r, st) {
		writeJSON(w, http.StatusOK, st)
	}
}

// cancelReplay is POST /v1/replays/{id}:cancel: the replay stops, and the
// answer is its status once it stopped.
func (s *Server) cancelReplay(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("id"), ":cancel")
	if !ok {
		writeError(w, http.StatusNotFound, CodeNotFound, "no endpoint "+r.URL.Path+" (POST /v1/replays/{id}:cancel cancels a replay)")
		return
	}
	st, err := s.opts.replays.Get(id)
	if err != nil {
		s.replayError(w, err)
		return
	}
	if !permitReplay(w, r, st) {
		return
	}
	if st, err = s.opts.replays.Cancel(r.Context(), id); err != nil {
		s.replayError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// archiveForbidden refuses an identity limited to buses an archive
// replay (to start, read or cancel): an archive holds the events of every
// bus, and so does such a replay's report. nil: the identity has no bus
// limit, or there is no identity (auth off).
func archiveForbidden(r *http.Request, instead string) *auth.Error {
	id := auth.FromContext(r.Context())
	if id == nil || id.Buses() == nil {
		return nil
	}
	msg := fmt.Sprintf("identity %q is limited to buses %v, and a tracker's archive holds the events of every bus", id.Name, id.Buses())
	if instead != "" {
		msg += ": " + instead
	}
	return &auth.Error{Status: http.StatusForbidden, Code: CodeForbidden, Msg: msg}
}

// permitReplay answers 403 unless the caller may see the replay: one of
// its buses, and, for an archive replay, no bus limit.
func permitReplay(w http.ResponseWriter, r *http.Request, st replay.Status) bool {
	if st.FromArchive() {
		if err := archiveForbidden(r, "its replays are for identities of every bus"); err != nil {
			writeAuthError(w, err)
			return false
		}
	}
	return permitBus(w, r, st.Bus)
}

func (s *Server) replayError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, replay.ErrInvalid):
		writeError(w, http.StatusBadRequest, CodeInvalidReplay, err.Error())
	case errors.Is(err, replay.ErrNotFound):
		writeError(w, http.StatusNotFound, CodeReplayNotFound, err.Error())
	case errors.Is(err, replay.ErrUnknownBus), errors.Is(err, replay.ErrUnknownTracker):
		writeError(w, http.StatusNotFound, CodeReplaySourceNotFound, err.Error())
	case errors.Is(err, replay.ErrRangeGone):
		writeError(w, http.StatusGone, CodeRangeGone, err.Error())
	case errors.Is(err, replay.ErrBusy):
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusTooManyRequests, CodeTooManyReplays, err.Error())
	default:
		s.opts.log.Error().Err(err).Msg("replay request failed")
		writeError(w, http.StatusInternalServerError, CodeInternal, publicMessage(CodeInternal, err))
	}
}
