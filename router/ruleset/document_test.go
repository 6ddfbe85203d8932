package ruleset_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/ruleset"
	"github.com/auditbus/auditbus/rules"
)

// TestValidateAPIDocument checks the API's rules for a rule document:
// name and bus filled in when absent (errors still point into the document
// as sent), refused when they differ, one rule per document, no ${NAME}.
func TestValidateAPIDocument(t *testing.T) {
	m := ruleset.New()
	tests := []struct {
		name     string
		bus      string
		doc      string
		wantBus  string
		wantErrs []string // "line:col: fragment"; none means valid
	}{
		{name: "block without name", doc: "# comment\n\ntargets:\n  - id: out\n    log: {}\n", wantBus: "default"},
		{name: "indented block without name", doc: "  targets:\n    - id: out\n      log: {}\n", wantBus: "default"},
		{name: "JSON without name", doc: `{"targets": [{"id": "out", "log": {}}]}`, wantBus: "default"},
		{name: "pretty JSON with tabs", doc: "{\n\t\"targets\": [\n\t\t{\"id\": \"out\", \"log\": {}}\n\t]\n}", wantBus: "default"},
		{name: "bus filled in", bus: "prod", doc: "targets:\n  - id: out\n    log: {}\n", wantBus: "prod"},
		{name: "same name and bus given", bus: "prod", doc: "name: my-rule\nbus: prod\ntargets:\n  - id: out\n    log: {}\n", wantBus: "prod"},
		{name: "error below an inserted line keeps its line", doc: "targets:\n  - id: out\n    log: {}\ncondition: 'data.x =='\n",
			wantErrs: []string{"4:21: condition"}},
		{name: "error after an inserted JSON member keeps its column", doc: `{"targets": []}`,
			wantErrs: []string{"1:13: targets must be a non-empty list"}},
		{name: "name differs", doc: "name: other\ntargets:\n  - id: out\n    log: {}\n",
			wantErrs: []string{`1:7: name "other" differs from "my-rule"`}},
		{name: "bus differs", bus: "prod", doc: "bus: default\ntargets:\n  - id: out\n    log: {}\n",
			wantErrs: []string{`1:6: bus "default" differs from "prod"`}},
		{name: "two documents", doc: "targets: [{id: a, log: {}}]\n---\ntargets: [{id: b, log: {}}]\n",
			wantErrs: []string{"3:1: the document holds 2 rules"}},
		{name: "empty", doc: "# nothing\n", wantErrs: []string{"1:1: the document holds no rule"}},
		{name: "environment reference refused", doc: "targets:\n  - id: out\n    webhook: {url: 'http://${HOME}${USER}/x'}\n",
			wantErrs: []string{"3:20: environment references (${NAME}) are not expanded"}},
		{name: "syntax error", doc: "targets: [\n", wantErrs: []string{"invalid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := m.Validate(tt.bus, "my-rule", []byte(tt.doc))
			if len(tt.wantErrs) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if r.Name != "my-rule" || r.Bus != tt.wantBus {
					t.Errorf("rule %s on bus %s, want my-rule on %s", r.Name, r.Bus, tt.wantBus)
				}
				return
			}
			var errs rules.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Validate = %v, want rules.Errors", err)
			}
			if len(errs) != len(tt.wantErrs) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.wantErrs), errs)
			}
			for i, want := range tt.wantErrs {
				got := fmt.Sprintf("%d:%d: %s", errs[i].Pos.Line, errs[i].Pos.Col, errs[i].Msg)
				if !strings.Contains(got, want) {
					t.Errorf("error %d = %q, want it to contain %q", i, got, want)
				}
			}
		})
	}
}
