package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/rules"
)

// TargetControl reports and changes the delivery state of targets;
// *dispatch.Router is the real one.
type TargetControl interface {
	TargetState(bus, rule, target string) dispatch.TargetState
	// Backlog is what waits for the target on the bus.
	Backlog(bus, rule, target string) dispatch.Backlog
	EnableTarget(ctx context.Context, bus, rule, target string) error
	ConfirmSubscription(ctx context.Context, urn, token string, perMinute int) (dispatch.TargetState, error)
	Unsubscribe(ctx context.Context, urn, token string) (dispatch.TargetState, error)
}

// WithTargetControl shows each target's state in the rules endpoints and
// serves POST /v1/rules/{name}/targets/{id}:enable and the subscription
// URLs (GET /v1/subscriptions/confirm and /unsubscribe). Default: none.
func WithTargetControl(tc TargetControl) Option { return func(o *options) { o.targets = tc } }

// enableTarget is POST /v1/rules/{name}/targets/{id}:enable?bus=: it
// resumes deliveries to a held target (disabled after a 410 Gone, or
// unsubscribed, which asks for a new subscription). 200 with the
// target's state; enabling a target that is not disabled is no error.
func (s *Server) enableTarget(w http.ResponseWriter, r *http.Request) {
	b, name, ok := ruleID(w, r, rules.DefaultBus)
	if !ok {
		return
	}
	id, found := strings.CutSuffix(r.PathValue("action"), ":enable")
	if !found || !busName.MatchString(id) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no endpoint "+r.URL.Path+"; use /v1/rules/{name}/targets/{id}:enable")
		return
	}
	if err := s.opts.targets.EnableTarget(r.Context(), b, name, id); err != nil {
		if errors.Is(err, dispatch.ErrNoSuchTarget) {
			writeError(w, http.StatusNotFound, CodeTargetNotFound, fmt.Sprintf("rule %q on bus %q has no target %q", name, b, id))
			return
		}
		s.opts.log.Error().Err(err).Msg("enable target")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the target-state bucket (NATS KV) did not answer; retrying is safe")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"bus": b, "rule": name, "target": id,
		"state": s.opts.targets.TargetState(b, name, id)})
}

// withTargetState adds the delivery state of v's targets that have one,
// and the backlog of those with deliveries waiting.
func (s *Server) withTargetState(v ruleJSON) ruleJSON {
	if s.opts.targets == nil {
		return v
	}
	for i, t := range v.Targets {
		if st := s.opts.targets.TargetState(v.Bus, v.Name, t.ID); st.Disabled || st.Subscription != nil {
			v.Targets[i].State = &st
		}
		if bl := s.opts.targets.Backlog(v.Bus, v.Name, t.ID); bl.Deliveries > 0 {
			v.Targets[i].Backlog = &bl
		}
	}
	return v
}
