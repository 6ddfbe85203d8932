package api

import (
	"fmt"
	"net/http"

	"github.com/auditbus/auditbus/router/auth"
)

// WithIngestRate limits how many ingest requests (POST /v1/events and
// /v1/sources/*) each client may make: burst at once, perSecond after.
// A client is its identity when auth is on, else its address. Over the
// limit the answer is 429 (CodeRateLimited) with Retry-After, and nothing
// is stored. Default: no limit.
func WithIngestRate(perSecond float64, burst int) Option {
	return func(o *options) {
		o.ingest = nil
		if perSecond > 0 {
			o.ingest = auth.NewLimits(perSecond, max(burst, 1))
		}
	}
}

// admit answers 429 and returns false when the request's client is over
// its ingest rate.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.ingest == nil {
		return true
	}
	key := "addr " + auth.ClientKey(r)
	if id := auth.FromContext(r.Context()); id != nil {
		key = "identity " + id.Name
	}
	wait := s.opts.ingest.Take(key)
	if wait == 0 {
		return true
	}
	s.metrics.rejected.WithLabelValues(CodeRateLimited).Inc()
	setRetryAfter(w, wait)
	writeError(w, http.StatusTooManyRequests, CodeRateLimited, fmt.Sprintf("%s is over its ingest rate; retry after %s, nothing was stored", key, wait.Round(1e6)))
	return false
}
