package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/ingest"
	"github.com/auditbus/auditbus/rules"
)

// ruleMediaTypes are the content types PUT /v1/rules/{name} accepts; JSON
// is YAML, so both go to the same parser. No content type means YAML.
var ruleMediaTypes = map[string]bool{"": true, "application/yaml": true, "application/x-yaml": true,
	"text/yaml": true, "text/x-yaml": true, "application/json": true}

// listRules answers every running rule, from files and the API, without
// documents or target settings (only those of the identity's buses).
func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	all := s.opts.rules.List()
	out := make([]ruleJSON, 0, len(all))
	for _, st := range all {
		if auth.BusAllowed(r.Context(), st.Bus) {
			out = append(out, s.withTargetState(s.withTopicTargets(ruleView(st, false), st.Rule)))
		}
	}
	answer := map[string]any{"rules": out}
	if id := auth.FromContext(r.Context()); id == nil || id.Buses() == nil {
		// Broken rule files are not tied to a bus: only for identities
		// that see every bus.
		answer["errors"] = append([]string{}, s.opts.rules.Status().Errors...)
	}
	writeJSON(w, http.StatusOK, answer)
}

// getRule answers one rule of ?bus= (default "default"); an API rule comes
// with its stored document, secrets masked, and its revision as ETag.
func (s *Server) getRule(w http.ResponseWriter, r *http.Request) {
	bus, name, ok := ruleID(w, r, rules.DefaultBus)
	if !ok {
		return
	}
	st, found := s.opts.rules.Get(bus, name)
	if !found {
		writeError(w, http.StatusNotFound, CodeRuleNotFound, fmt.Sprintf("no rule %q on bus %q", name, bus))
		return
	}
	s.writeRule(w, http.StatusOK, st)
}

// Errors of PutRule besides the RuleStore's.
var (
	// ErrInvalidRuleID: the rule name or the bus is not a valid name.
	ErrInvalidRuleID = errors.New("invalid rule name or bus")
	// ErrTopicsUnavailable: the topics bucket did not answer whether the
	// topics a rule names exist; nothing was stored.
	ErrTopicsUnavailable = errors.New("topics bucket unavailable")
)

// putRule validates the body as one rule document and stores it as an API
// rule through PutRule: 201 when created, 200 when replaced, 400 listing
// every problem. The name and bus are checked before the body is read.
func (s *Server) putRule(w http.ResponseWriter, r *http.Request) {
	bus, name := r.URL.Query().Get("bus"), r.PathValue("name")
	if err := checkPutRule(r.Context(), bus, name); err != nil {
		s.ruleError(w, err, "")
		return
	}
	if mt := mediaType(r.Header.Get("Content-Type")); !ruleMediaTypes[mt] {
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			fmt.Sprintf("content type %q: send the rule as application/yaml or application/json", mt))
		return
	}
	pre, ok := precondition(w, r)
	if !ok {
		return
	}
	doc, err := ingest.ReadBody(r, s.opts.maxBody)
	if err != nil {
		status, code := errorStatus(err)
		writeError(w, status, code, publicMessage(code, err))
		return
	}
	v, created, err := s.PutRule(r.Context(), bus, name, doc, pre)
	if err != nil {
		s.ruleError(w, err, "; nothing stored")
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/rules/"+name+"?bus="+v.Bus)
	}
	if v.Revision > 0 {
		w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(v.Revision, 10)))
	}
	writeJSON(w, status, v)
}

// checkPutRule checks what a PUT names before its document: name and bus
// (empty: the document's) are valid names, the identity may use the bus,
// and the name does not belong to a CTS notification.
func checkPutRule(ctx context.Context, bus, name string) error {
	for _, p := range [][2]string{{"rule name", name}, {"bus", bus}} {
		if (p[1] != "" || p[0] == "rule name") && !busName.MatchString(p[1]) {
			return &refusal{ErrInvalidRuleID, fmt.Sprintf("%s %q: want [a-z0-9][a-z0-9-]{0,63}", p[0], p[1])}
		}
	}
	if bus != "" && !auth.BusAllowed(ctx, bus) {
		return auth.Forbidden(auth.FromContext(ctx), bus)
	}
	if strings.HasPrefix(name, cts.RulePrefix) {
		return &refusal{ErrRuleConflict, fmt.Sprintf("rule names starting %s belong to CTS notifications: change them with /v3/{project_id}/notifications", cts.RulePrefix)}
	}
	return nil
}

// admitRule checks what the RuleStore does not: the bus the parsed rule
// runs on (aliases, empty documents) for an identity limited to buses,
// and that its topic targets name topics that exist.
func (s *Server) admitRule(ctx context.Context, bus, name string, doc []byte) error {
	id := auth.FromContext(ctx)
	limited := id != nil && id.Buses() != nil
	if !limited && s.opts.topics == nil {
		return nil
	}
	parsed, err := s.opts.rules.Validate(bus, name, doc)
	if err != nil {
		return err
	}
	if limited && !id.AllowsBus(parsed.Bus) {
		return auth.Forbidden(id, parsed.Bus)
	}
	return s.topicsKnown(ctx, parsed)
}

// refusal is an error whose message is the answer's own (no sentinel
// prefix), matching its sentinel with errors.Is.
type refusal struct {
	sentinel error
	msg      string
}

func (e *refusal) Error() string { return e.msg }
func (e *refusal) Unwrap() error { return e.sentinel }

// deleteRule removes an API rule of ?bus= (default "default"): 204.
func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request) {
	bus, name, ok := ruleID(w, r, rules.DefaultBus)
	if !ok || !notNotificationRule(w, name) {
		return
	}
	pre, ok := precondition(w, r)
	if !ok {
		return
	}
	if err := s.opts.rules.Delete(r.Context(), bus, name, pre); err != nil {
		s.ruleError(w, err, "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ruleID reads {name} and ?bus= (defaultBus when absent), answering 400
// itself when one is not a valid name, and 403 for a bus the identity may
// not use.
func ruleID(w http.ResponseWriter, r *http.Request, defaultBus string) (bus, name string, ok bool) {
	name, bus = r.PathValue("name"), r.URL.Query().Get("bus")
	if bus == "" {
		bus = defaultBus
	}
	for _, p := range [][2]string{{"rule name", name}, {"bus", bus}} {
		if p[1] != "" && !busName.MatchString(p[1]) {
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("%s %q: want [a-z0-9][a-z0-9-]{0,63}", p[0], p[1]))
			return "", "", false
		}
	}
	if bus != "" && !permitBus(w, r, bus) {
		return "", "", false
	}
	return bus, name, true
}

// precondition reads If-Match: a revision (quoted or not) or "*". One
// that cannot match any revision answers 412 at once.
func precondition(w http.ResponseWriter, r *http.Request) (*Precondition, bool) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	switch h {
	case "":
		return nil, true
	case "*":
		return &Precondition{Any: true}, true
	}
	rev, err := strconv.ParseUint(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || rev == 0 {
		writeError(w, http.StatusPreconditionFailed, CodePrecondition, fmt.Sprintf("If-Match %q is not a revision (an ETag such as \"12\", or *)", h))
		return nil, false
	}
	return &Precondition{Revision: rev}, true
}

func (s *Server) writeRule(w http.ResponseWriter, status int, st StoredRule) {
	if st.Revision > 0 {
		w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(st.Revision, 10)))
	}
	writeJSON(w, status, s.withTargetState(s.withTopicTargets(ruleView(st, true), st.Rule)))
}

// problem is one problem of an invalid rule document.
type problem struct {
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Rule string `json:"rule,omitempty"`
	Msg  string `json:"msg"`
}

// invalidRuleBody is the 400 answer to an invalid rule document.
type invalidRuleBody struct {
	errorBody
	Errors []problem `json:"errors"`
}

// ruleError answers err from the RuleStore with its status and code;
// suffix completes the message of an invalid document.
func (s *Server) ruleError(w http.ResponseWriter, err error, suffix string) {
	var invalid rules.Errors
	var ae *auth.Error
	switch {
	case errors.As(err, &invalid):
		writeInvalidRule(w, invalid, suffix)
	case errors.As(err, &ae):
		writeAuthError(w, ae)
	case errors.Is(err, ErrInvalidRuleID):
		writeError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
	case errors.Is(err, ErrTopicsUnavailable):
		s.opts.log.Error().Err(err).Msg("topics bucket unavailable")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the topics bucket (NATS KV) did not answer; nothing stored, retrying is safe")
	case errors.Is(err, ErrRuleNotFound):
		writeError(w, http.StatusNotFound, CodeRuleNotFound, err.Error())
	case errors.Is(err, ErrRuleConflict):
		writeError(w, http.StatusConflict, CodeRuleConflict, err.Error())
	case errors.Is(err, ErrPreconditionFailed):
		writeError(w, http.StatusPreconditionFailed, CodePrecondition, err.Error())
	case errors.Is(err, ErrRuleStoreUnavailable):
		s.opts.log.Error().Err(err).Msg("rules bucket unavailable")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the rules bucket (NATS KV) did not answer; retrying is safe")
	default:
		s.opts.log.Error().Err(err).Msg("rules request failed unexpectedly")
		writeError(w, http.StatusInternalServerError, CodeInternal, publicMessage(CodeInternal, err))
	}
}

func writeInvalidRule(w http.ResponseWriter, errs rules.Errors, suffix string) {
	body := invalidRuleBody{errorBody: errorBody{Code: CodeInvalidRule}, Errors: make([]problem, len(errs))}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		body.Errors[i] = problem{Line: e.Pos.Line, Col: e.Pos.Col, Rule: e.Rule, Msg: e.Msg}
		msgs[i] = fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
	}
	body.Message = fmt.Sprintf("%d problem(s) in the rule%s: %s", len(errs), suffix, strings.Join(msgs, "; "))
	writeJSON(w, http.StatusBadRequest, body)
}
