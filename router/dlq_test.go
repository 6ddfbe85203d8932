package router_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestDLQEndpoints: a target answering 400 dead-letters the event at once;
// GET /v1/dlq shows it with its reason and status, POST /v1/dlq:redrive
// sends it to another target of the rule, which receives it, and the
// entry is gone.
func TestDLQEndpoints(t *testing.T) {
	bad := newWebhook(t, func(*http.Request) int { return http.StatusBadRequest })
	spare := newWebhook(t, nil)
	rule := deleteRule(bad.URL) + fmt.Sprintf("  - id: spare\n    webhook: {url: %q}\n", spare.URL)
	s := start(t, t.TempDir(), nil, writeRules(t, rule))
	sendEvent(t, s, "dlq-1", "DeleteCluster")
	settled(t, s)

	status, _, page := call(t, s, http.MethodGet, "/v1/dlq?rule=tke-cluster-deleted&target=hook&limit=10", "", nil, nil)
	entries, _ := page["entries"].([]any)
	if status != http.StatusOK || len(entries) != 1 {
		t.Fatalf("GET /v1/dlq: %d %v", status, page)
	}
	entry := entries[0].(map[string]any)
	if entry["reason"] != "rejected by target" || entry["last_status"] != float64(400) || entry["attempts"] != float64(1) {
		t.Errorf("entry %v", entry)
	}
	asDocumented(t, "README.md", "TestDLQEndpoints", entry, false, "stderr") // stderr: command targets only
	body := `{"rule": "tke-cluster-deleted", "target": "hook", "to_target": "spare"}`
	status, _, res := call(t, s, http.MethodPost, "/v1/dlq:redrive", "application/json", []byte(body), nil)
	if redriven, _ := res["redriven"].([]any); status != http.StatusOK || len(redriven) != 1 || redriven[0] != entry["id"] {
		t.Fatalf("redrive: %d %v", status, res)
	}
	waitFor(t, "redriven delivery", func() (bool, string) {
		got := spare.ids()
		return got["dlq-1"] == 2, fmt.Sprint(got)
	})
	if _, _, page := call(t, s, http.MethodGet, "/v1/dlq", "", nil, nil); len(page["entries"].([]any)) != 0 {
		t.Errorf("DLQ after redrive: %v", page)
	}
}

func TestDLQEndpointErrors(t *testing.T) {
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule("http://127.0.0.1:1/")))
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{http.MethodGet, "/v1/dlq?limit=500", "", 400, "AB.1006"},
		{http.MethodGet, "/v1/dlq?next=x", "", 400, "AB.1006"},
		{http.MethodGet, "/v1/dlq?rule=Bad.Rule", "", 400, "AB.1006"},
		{http.MethodPost, "/v1/dlq:redrive", `{}`, 400, "AB.1008"},
		{http.MethodPost, "/v1/dlq:redrive", `{"idz": [1]}`, 400, "AB.1001"},
		{http.MethodPost, "/v1/dlq:redrive", `{"ids": [999]}`, 404, "AB.4042"},
		{http.MethodDelete, "/v1/dlq", "", 405, "AB.4050"},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			status, _, answer := call(t, s, tc.method, tc.path, "application/json", []byte(tc.body), nil)
			if status != tc.status || answer["error_code"] != tc.code {
				t.Errorf("%d %v, want %d %s", status, answer, tc.status, tc.code)
			}
		})
	}
}
