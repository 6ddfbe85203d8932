package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/router/ingest"
	"github.com/auditbus/auditbus/rules"
)

// This file is the web console's way in (router/console): the same Go
// functions the endpoints run, without HTTP in between. The identity the
// console puts in ctx (auth.NewContext) limits what they see and change,
// exactly as it does for a request to the API.

// WithConsole mounts a web console at /console/. mount is called once, by
// New, with the API server, so the console reads and changes through it.
// Default: no console.
func WithConsole(mount func(*Server) http.Handler) Option {
	return func(o *options) { o.console = mount }
}

// RuleView is a rule as GET /v1/rules shows it: no target settings, and
// each target's delivery state and backlog when it has any.
type RuleView = ruleJSON

// TargetView is one target of a RuleView.
type TargetView = targetJSON

// Authorizer is the authorizer the API checks requests with; nil with
// auth off.
func (s *Server) Authorizer() Authorizer { return s.opts.auth }

// Rules is GET /v1/rules: the rules of the identity's buses (a topic
// target with what it runs as, TargetView.Topic), and the
// problems of broken rule sources (nil for identities limited to buses).
func (s *Server) Rules(ctx context.Context) (views []RuleView, sourceErrors []string) {
	if s.opts.rules == nil {
		return nil, nil
	}
	for _, st := range s.opts.rules.List() {
		if auth.BusAllowed(ctx, st.Bus) {
			views = append(views, s.withTargetState(s.withTopicTargets(ruleView(st, false), st.Rule)))
		}
	}
	if id := auth.FromContext(ctx); id == nil || id.Buses() == nil {
		sourceErrors = s.opts.rules.Status().Errors
	}
	return views, sourceErrors
}

// Rule is GET /v1/rules/{name}?bus=: the rule and, for an API rule, its
// stored document as YAML with secrets masked (EditableDocument). Errors:
// ErrRuleNotFound, or an *auth.Error for a bus the identity may not use.
func (s *Server) Rule(ctx context.Context, bus, name string) (RuleView, string, error) {
	if !auth.BusAllowed(ctx, bus) {
		return RuleView{}, "", auth.Forbidden(auth.FromContext(ctx), bus)
	}
	if s.opts.rules == nil {
		return RuleView{}, "", fmt.Errorf("%w: no rule %q on bus %q", ErrRuleNotFound, name, bus)
	}
	st, ok := s.opts.rules.Get(bus, name)
	if !ok {
		return RuleView{}, "", fmt.Errorf("%w: no rule %q on bus %q", ErrRuleNotFound, name, bus)
	}
	v := s.withTargetState(s.withTopicTargets(ruleView(st, false), st.Rule))
	if v.Origin.Kind != OriginAPI {
		return v, "", nil
	}
	return v, EditableDocument(st.Document), nil
}

// EditableDocument is an API rule's stored document as the console edits
// it: the text as stored when it holds no secret, else the document
// re-encoded with every secret masked (as GET /v1/rules/{name} shows it);
// "" when it does not decode as YAML, since its secrets could not be
// found to mask.
func EditableDocument(doc []byte) string {
	masked := maskedDocument(doc)
	if masked == nil {
		return ""
	}
	if text, ok := masked.(string); ok {
		return text
	}
	var plain any
	if yaml.Unmarshal(doc, &plain) == nil && reflect.DeepEqual(normalize(plain), masked) {
		return string(doc)
	}
	out, err := yaml.Marshal(masked)
	if err != nil {
		return ""
	}
	return string(out)
}

// normalize is v as maskedDocument's JSON round trip yields it, so an
// unmasked document compares equal to its masked form.
func normalize(v any) any {
	var root yaml.Node
	if root.Encode(v) != nil {
		return v
	}
	var out any
	if root.Decode(&out) != nil {
		return v
	}
	return out
}

// PutRule is PUT /v1/rules/{name}?bus=, and the endpoint's handler calls
// it: doc, validated as that endpoint validates it (the name and bus, the
// buses the identity may use, the topics its topic targets name), stored
// as API rule name of bus (an empty bus: the one the document names). A
// document sent back as the endpoint's GET or the console's editor showed
// it, with ifMatch naming the revision read, keeps the stored secrets they
// masked (unmask). It returns the rule as the endpoint answers it
// (document masked, topic targets expanded); created is true when the rule
// did not exist. Errors: rules.Errors (an invalid document, or a topic
// target naming no topic; positioned 1-based), ErrStillMasked (with
// rules.Errors: a mask that is not a stored value's), ErrInvalidRuleID,
// ErrRuleConflict (a rule file or
// a CTS notification owns the name), ErrPreconditionFailed,
// ErrRuleStoreUnavailable, ErrTopicsUnavailable, and an *auth.Error for a
// bus the identity may not use.
func (s *Server) PutRule(ctx context.Context, bus, name string, doc []byte, ifMatch *Precondition) (RuleView, bool, error) {
	if s.opts.rules == nil {
		return RuleView{}, false, ErrRuleStoreUnavailable
	}
	if err := checkPutRule(ctx, bus, name); err != nil {
		return RuleView{}, false, err
	}
	doc, err := s.unmask(ctx, bus, name, doc, ifMatch)
	if err != nil {
		return RuleView{}, false, err
	}
	if err := s.admitRule(ctx, bus, name, doc); err != nil {
		return RuleView{}, false, err
	}
	st, created, err := s.opts.rules.Put(ctx, bus, name, doc, ifMatch)
	if err != nil {
		return RuleView{}, false, err
	}
	return s.withTargetState(s.withTopicTargets(ruleView(st, true), st.Rule)), created, nil
}

// TestRule is POST /v1/rules:test with a running rule's name: whether the
// rule matches the structured-mode CloudEvent rawEvent (validated as
// ingest validates it), and why, clause by clause. Errors: ErrRuleNotFound,
// an *auth.Error for a bus the identity may not use, or the event's
// problem.
func (s *Server) TestRule(ctx context.Context, bus, name string, rawEvent []byte) (*rules.Explanation, error) {
	if !auth.BusAllowed(ctx, bus) {
		return nil, auth.Forbidden(auth.FromContext(ctx), bus)
	}
	if s.opts.rules == nil {
		return nil, fmt.Errorf("%w: no running rule %q on bus %q", ErrRuleNotFound, name, bus)
	}
	st, ok := s.opts.rules.Get(bus, name)
	if !ok || st.Rule == nil {
		return nil, fmt.Errorf("%w: no running rule %q on bus %q", ErrRuleNotFound, name, bus)
	}
	return explainEvent(st.Rule, rawEvent)
}

// TestRuleDocument is POST /v1/rules:test with a rule document: doc is
// parsed as an API rule of bus (any bus when empty) without storing it,
// then tested as TestRule does. Errors: rules.Errors (positioned 1-based
// in doc), an *auth.Error for a bus the identity may not use, or the
// event's problem.
func (s *Server) TestRuleDocument(ctx context.Context, bus string, doc, rawEvent []byte) (*rules.Explanation, error) {
	if s.opts.rules == nil {
		return nil, ErrRuleStoreUnavailable
	}
	if bus != "" && !auth.BusAllowed(ctx, bus) {
		return nil, auth.Forbidden(auth.FromContext(ctx), bus)
	}
	rule, err := s.opts.rules.Validate(bus, "", doc)
	if err != nil {
		return nil, err
	}
	return explainEvent(rule, rawEvent)
}

// explainEvent validates rawEvent as ingest does and explains rule on it.
func explainEvent(rule *rules.Rule, rawEvent []byte) (*rules.Explanation, error) {
	var e event.Event
	if err := cejson.Unmarshal(rawEvent, &e); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	if err := ingest.Validate(&e); err != nil {
		_, code := errorStatus(err)
		return nil, fmt.Errorf("event: %s", publicMessage(code, err))
	}
	answer, err := explain(rule, e)
	if err != nil {
		return nil, err
	}
	return answer.Explanation, nil
}

// Ready is the /readyz check: nil when ready.
func (s *Server) Ready(ctx context.Context) error { return s.opts.ready(ctx) }

// EventsLag is the events consumer's lag, as /readyz shows it; ok is
// false when the server has none to show.
func (s *Server) EventsLag() (dispatch.EventsLag, bool) {
	if s.opts.eventsLag == nil {
		return dispatch.EventsLag{}, false
	}
	return s.opts.eventsLag()
}

// Gatherer is what /metrics serves; nil without metrics.
func (s *Server) Gatherer() prometheus.Gatherer { return s.opts.gatherer }

// DLQ is what the DLQ endpoints read; nil without them.
func (s *Server) DLQ() DLQ { return s.opts.dlq }

// EnableTarget is POST /v1/rules/{name}/targets/{id}:enable?bus=: it
// resumes deliveries to a held target and returns its state. Errors:
// dispatch.ErrNoSuchTarget, an *auth.Error for a bus the identity may not
// use, or the target-state bucket's failure.
func (s *Server) EnableTarget(ctx context.Context, bus, rule, target string) (dispatch.TargetState, error) {
	if !auth.BusAllowed(ctx, bus) {
		return dispatch.TargetState{}, auth.Forbidden(auth.FromContext(ctx), bus)
	}
	if s.opts.targets == nil {
		return dispatch.TargetState{}, fmt.Errorf("%w: no target control", dispatch.ErrNoSuchTarget)
	}
	if err := s.opts.targets.EnableTarget(ctx, bus, rule, target); err != nil {
		return dispatch.TargetState{}, err
	}
	return s.opts.targets.TargetState(bus, rule, target), nil
}
