package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/ingest"
	"github.com/auditbus/auditbus/rules"
)

// testRequest is the body of POST /v1/rules:test: a rule document (a JSON
// object, or YAML in a string) or the name of a running rule, and a
// structured-mode CloudEvent.
type testRequest struct {
	Rule  json.RawMessage `json:"rule"`
	Name  string          `json:"name"`
	Bus   string          `json:"bus"`
	Event json.RawMessage `json:"event"`
}

// testAnswer says whether the rule matches the event, and why.
type testAnswer struct {
	Matched     bool               `json:"matched"`
	Explanation *rules.Explanation `json:"explanation"`
}

// testRule runs one rule on one event, storing nothing: the answer is the
// engine's verdict with the rule's clause-by-clause explanation.
func (s *Server) testRule(w http.ResponseWriter, r *http.Request) {
	body, err := ingest.ReadBody(r, s.opts.maxBody)
	if err != nil {
		status, code := errorStatus(err)
		writeError(w, status, code, publicMessage(code, err))
		return
	}
	var req testRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, CodeMalformed, fmt.Sprintf(`body: %v; want {"rule": ..., "event": {...}} or {"name": ..., "bus": ..., "event": {...}}`, err))
		return
	}
	rule, ok := s.ruleUnderTest(w, r, req)
	if !ok {
		return
	}
	e, ok := eventUnderTest(w, req.Event)
	if !ok {
		return
	}
	answer, err := explain(rule, e)
	if err != nil {
		s.opts.log.Error().Err(err).Str("rule", rule.Name).Msg("rules:test failed")
		writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// ruleUnderTest parses the request's rule, or finds the running rule it
// names, answering the problem itself.
func (s *Server) ruleUnderTest(w http.ResponseWriter, r *http.Request, req testRequest) (*rules.Rule, bool) {
	switch {
	case len(req.Rule) > 0 && req.Name != "":
		writeError(w, http.StatusBadRequest, CodeMalformed, `give "rule" or "name", not both`)
	case len(req.Rule) > 0:
		doc, err := ruleDocument(req.Rule)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeMalformed, err.Error())
			return nil, false
		}
		rule, err := s.opts.rules.Validate(req.Bus, "", doc)
		if err != nil {
			s.ruleError(w, err, "")
			return nil, false
		}
		return rule, true
	case req.Name != "":
		bus := req.Bus
		if bus == "" {
			bus = rules.DefaultBus
		}
		if !permitBus(w, r, bus) {
			return nil, false
		}
		if st, ok := s.opts.rules.Get(bus, req.Name); ok && st.Rule != nil {
			return st.Rule, true
		}
		writeError(w, http.StatusNotFound, CodeRuleNotFound, fmt.Sprintf("no running rule %q on bus %q", req.Name, bus))
	default:
		writeError(w, http.StatusBadRequest, CodeMalformed, `the body names no rule: give "rule" (a document) or "name"`)
	}
	return nil, false
}

// ruleDocument is the rule of a test request: a JSON object is a YAML
// document as it is, a JSON string holds YAML.
func ruleDocument(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '{':
		return raw, nil
	case len(raw) > 0 && raw[0] == '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, fmt.Errorf("rule: %w", err)
		}
		return []byte(text), nil
	}
	return nil, fmt.Errorf("rule: want a JSON object or a YAML string, got %.20s", raw)
}

// eventUnderTest decodes and validates the event as ingest does,
// answering the problem itself.
func eventUnderTest(w http.ResponseWriter, raw json.RawMessage) (event.Event, bool) {
	var e event.Event
	if len(bytes.TrimSpace(raw)) == 0 {
		writeError(w, http.StatusBadRequest, CodeMalformed, `the body has no "event"`)
		return e, false
	}
	if err := cejson.Unmarshal(raw, &e); err != nil {
		writeError(w, http.StatusBadRequest, CodeMalformed, fmt.Sprintf("event: %v", err))
		return e, false
	}
	if err := ingest.Validate(&e); err != nil {
		status, code := errorStatus(err)
		writeError(w, status, code, "event: "+publicMessage(code, err))
		return e, false
	}
	return e, true
}

// explain asks the rule why it does or does not match, and the engine
// whether it does; the two must agree.
func explain(rule *rules.Rule, e event.Event) (testAnswer, error) {
	x := rule.Explain(rules.NewEnv(&e))
	raw, err := cejson.Marshal(&e)
	if err != nil {
		return testAnswer{}, err
	}
	set, err := rules.Compile([]*rules.Rule{rule})
	if err != nil {
		return testAnswer{}, fmt.Errorf("compile rule: %w", err)
	}
	res, err := set.Match(rule.Bus, raw)
	if err != nil {
		return testAnswer{}, fmt.Errorf("match: %w", err)
	}
	matched := len(res.Rules) == 1
	if matched != x.Matched {
		return testAnswer{}, fmt.Errorf("engine and explain disagree on rule %q: the engine says matched=%t, the explanation %t; this is a bug, please report it with the rule and the event", rule.Name, matched, x.Matched)
	}
	return testAnswer{Matched: matched, Explanation: x}, nil
}
