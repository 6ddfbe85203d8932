package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"

	"github.com/auditbus/auditbus/router/ingest"
)

// busName is the syntax of a bus name, the same as a rule name's.
var busName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// acceptedBody answers a stored request.
type acceptedBody struct {
	Accepted   int      `json:"accepted"`
	IDs        []string `json:"ids"`
	Duplicates []string `json:"duplicates,omitempty"`
}

// postEvents stores the request's events on the bus given by ?bus=
// (default "default") and answers 202 once JetStream acknowledged them all.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	bus := r.URL.Query().Get("bus")
	if bus == "" {
		bus = "default"
	}
	if !busName.MatchString(bus) {
		s.reject(w, http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("bus %q: want [a-z0-9][a-z0-9-]{0,63}", bus))
		return
	}
	events, err := ingest.Decode(r, ingest.WithMaxBodyBytes(s.opts.maxBody))
	if err != nil {
		status, code := ingestStatus(err)
		if code == CodeInternal {
			s.opts.log.Error().Err(err).Msg("decoding a request failed unexpectedly")
		}
		s.reject(w, status, code, publicMessage(code, err))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.publishTimeout)
	defer cancel()
	results, err := s.pub.Publish(ctx, bus, events)
	if err != nil {
		status, code := ingestStatus(err)
		s.opts.log.Error().Err(err).Int("events", len(events)).Msg("publish to bus failed")
		s.reject(w, status, code, publicMessage(code, err))
		return
	}
	body := acceptedBody{Accepted: len(results), IDs: make([]string, 0, len(results))}
	for _, res := range results {
		body.IDs = append(body.IDs, res.ID)
		if res.Duplicate {
			body.Duplicates = append(body.Duplicates, res.ID)
		}
	}
	s.metrics.events.WithLabelValues("stored").Add(float64(len(results) - len(body.Duplicates)))
	s.metrics.events.WithLabelValues("duplicate").Add(float64(len(body.Duplicates)))
	writeJSON(w, http.StatusAccepted, body)
}

func (s *Server) reject(w http.ResponseWriter, status int, code, msg string) {
	s.metrics.rejected.WithLabelValues(code).Inc()
	writeError(w, status, code, msg)
}
