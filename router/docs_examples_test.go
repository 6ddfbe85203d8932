package router_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/auditbus/auditbus/internal/doccheck"
)

// asDocumented fails t unless the JSON example of doc marked key shows the
// members of got, a message auditbus produced in the test: every member of
// got must be in the example (a new field cannot go undocumented) and,
// unless the example leaves members out (partial), every member the
// example shows must be in got or in optional (members other messages of
// the kind have).
func asDocumented(t *testing.T, doc, key string, got map[string]any, partial bool, optional ...string) {
	t.Helper()
	shown, err := doccheck.ElidedJSON(doccheck.Read(t, doc, key))
	if err != nil {
		t.Fatalf("%s, block %s: %v", doc, key, err)
	}
	example, ok := shown.(map[string]any)
	if !ok {
		t.Fatalf("%s, block %s: not a JSON object", doc, key)
	}
	for k := range got {
		if _, ok := example[k]; !ok && !partial {
			t.Errorf("%s, block %s: auditbus sends %q, which the example does not show: add it", doc, key, k)
		}
	}
	for k := range example {
		if _, ok := got[k]; !ok && !slices.Contains(optional, k) {
			t.Errorf("%s, block %s: the example shows %q, which auditbus did not send: correct the example", doc, key, k)
		}
	}
}

// jsonObject decodes a message body for asDocumented.
func jsonObject(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return m
}
