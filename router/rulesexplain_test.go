package router_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestRulesTestEndpoint runs rules, given inline or by name, on events:
// the answer is the engine's verdict and the clause-by-clause explanation.
func TestRulesTestEndpoint(t *testing.T) {
	t.Parallel()
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule("https://hooks.example/x")))
	event := func(name string, errorCode int) json.RawMessage {
		b, err := json.Marshal(auditEvent(t, "test-1", name, errorCode))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	inlineYAML, _ := json.Marshal("name: inline\npattern:\n  source: [{suffix: .cloud.tencent}]\n  data:\n    eventName: [{prefix: Delete}]\ntargets:\n  - id: out\n    log: {}\n")
	tests := []struct {
		name    string
		body    string
		status  int
		matched bool
		// failed is the path of the clause that must fail ("" when none
		// may), with the values it must show.
		failed, values string
		code           string
	}{
		{name: "inline YAML rule matches", status: 200, matched: true,
			body: fmt.Sprintf(`{"rule": %s, "event": %s}`, inlineYAML, event("DeleteCluster", 0))},
		{name: "inline JSON rule does not match", status: 200, failed: "data.eventName", values: "[CreateCluster]",
			body: fmt.Sprintf(`{"rule": {"name": "j", "pattern": {"data": {"eventName": ["DeleteCluster"]}}, "targets": [{"id": "o", "log": {}}]}, "event": %s}`, event("CreateCluster", 0))},
		{name: "running rule by name matches", status: 200, matched: true,
			body: fmt.Sprintf(`{"name": "tke-cluster-deleted", "event": %s}`, event("DeleteCluster", 0))},
		{name: "running rule by name, failed call", status: 200, failed: "data.errorCode", values: "[10001]",
			body: fmt.Sprintf(`{"name": "tke-cluster-deleted", "bus": "default", "event": %s}`, event("DeleteCluster", 10001))},
		{name: "unknown rule", status: 404, code: "AB.4041",
			body: fmt.Sprintf(`{"name": "nope", "event": %s}`, event("DeleteCluster", 0))},
		{name: "invalid rule", status: 400, code: "AB.1007",
			body: fmt.Sprintf(`{"rule": {"name": "x", "targets": []}, "event": %s}`, event("DeleteCluster", 0))},
		{name: "environment reference refused", status: 400, code: "AB.1007",
			body: fmt.Sprintf(`{"rule": {"name": "x", "targets": [{"id": "o", "webhook": {"url": "https://${HOME}"}}]}, "event": %s}`, event("DeleteCluster", 0))},
		{name: "event without id", status: 400, code: "AB.1002",
			body: `{"name": "tke-cluster-deleted", "event": {"specversion": "1.0", "source": "s", "type": "t"}}`},
		{name: "rule and name", status: 400, code: "AB.1001",
			body: fmt.Sprintf(`{"name": "a", "rule": {"name": "a"}, "event": %s}`, event("DeleteCluster", 0))},
		{name: "no event", status: 400, code: "AB.1001", body: `{"name": "tke-cluster-deleted"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := call(t, s, http.MethodPost, "/v1/rules:test", "application/json", []byte(tt.body), nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			if tt.code != "" {
				if body["error_code"] != tt.code {
					t.Errorf("error_code %v, want %s: %v", body["error_code"], tt.code, body)
				}
				return
			}
			x := body["explanation"].(map[string]any)
			if body["matched"] != tt.matched || x["matched"] != tt.matched {
				t.Errorf("matched %v (explanation %v), want %v", body["matched"], x["matched"], tt.matched)
			}
			for _, c := range x["clauses"].([]any) {
				clause := c.(map[string]any)
				if clause["pass"] == false && (clause["path"] != tt.failed || fmt.Sprint(clause["values"]) != tt.values) {
					t.Errorf("clause %v failed; want only %s with values %s", clause, tt.failed, tt.values)
				}
			}
			if tt.failed != "" && !strings.Contains(fmt.Sprint(x["clauses"]), "path:"+tt.failed) {
				t.Errorf("no clause on %s: %v", tt.failed, x["clauses"])
			}
		})
	}
}
