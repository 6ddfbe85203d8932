package api

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

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

// postEvents stores the request's CloudEvents on the bus given by ?bus=
// (default "default") and answers 202 once JetStream acknowledged them all.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	bus, ok := s.busParam(w, r)
	if !ok || !s.admit(w, r) {
		return
	}
	events, err := ingest.Decode(r, ingest.WithMaxBodyBytes(s.opts.maxBody))
	if err != nil {
		s.rejectErr(w, err)
		return
	}
	if s.opts.redactsEvents(bus) {
		if err := s.opts.redactor.Events(events); err != nil {
			s.rejectErr(w, err)
			return
		}
	}
	s.store(w, r.Context(), bus, events)
}

// busParam reads ?bus=, answering 400 itself when it is invalid.
func (s *Server) busParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	bus := r.URL.Query().Get("bus")
	if bus == "" {
		bus = "default"
	}
	if err := CheckBusName(bus); err != nil {
		s.reject(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return "", false
	}
	return bus, permitBus(w, r, bus)
}

// CheckBusName refuses a name that is not a bus name, saying why.
func CheckBusName(bus string) error {
	if !busName.MatchString(bus) {
		return fmt.Errorf("bus %q: want [a-z0-9][a-z0-9-]{0,63}", bus)
	}
	return nil
}

// store publishes events and answers 202 with their ids once JetStream
// acknowledged every one, or the error.
func (s *Server) store(w http.ResponseWriter, ctx context.Context, bus string, events []event.Event) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.publishTimeout)
	defer cancel()
	results, err := s.pub.Publish(ctx, bus, events)
	if err != nil {
		s.opts.log.Error().Err(err).Int("events", len(events)).Msg("publish to bus failed")
		s.rejectErr(w, err)
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

// rejectErr answers err with the status and code its kind maps to.
func (s *Server) rejectErr(w http.ResponseWriter, err error) {
	status, code := errorStatus(err)
	if code == CodeInternal {
		s.opts.log.Error().Err(err).Msg("request failed unexpectedly")
	}
	s.reject(w, status, code, publicMessage(code, err))
}

func (s *Server) reject(w http.ResponseWriter, status int, code, msg string) {
	s.metrics.rejected.WithLabelValues(code).Inc()
	writeError(w, status, code, msg)
}

// mediaType is the lowercased media type of a Content-Type, "" if none.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}
