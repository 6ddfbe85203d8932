package router_test

import (
	"testing"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
)

// TestRuleBusTricksRefused: a bus-limited identity cannot store a rule on
// another bus however the document spells its bus (found in review: the
// identity check looked at plain values of the first document only, the
// rule parser follows aliases and skips empty documents).
func TestRuleBusTricksRefused(t *testing.T) {
	const defaultToken = "abt_default-only-token"
	extra := "  - name: default-team\n    tokens: [\"" + auth.HashToken(defaultToken) + "\"]\n    actions: [\"*\"]\n    buses: [default]\n"
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, extra) })
	const body = "pattern:\n  type: [x]\ntargets:\n  - id: l\n    log: {}\n"
	for _, tc := range []struct {
		name, path, token, doc string
	}{
		{"alias past ?bus=", "/v1/rules/evil?bus=prod", prodToken, "name: evil\ndescription: &b default\nbus: *b\n" + body},
		{"empty first document", "/v1/rules/evil2", defaultToken, "---\n---\nname: evil2\nbus: prod\n" + body},
		{"merge key", "/v1/rules/evil3?bus=default", defaultToken, "<<: {bus: prod}\nname: evil3\n" + body},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, answer := call(t, s, "PUT", tc.path, "application/yaml", []byte(tc.doc), bearer(tc.token))
			if status < 400 {
				t.Errorf("PUT %s: %d %v, want a refusal", tc.path, status, answer)
			}
			// No API rule may exist at all: every PUT here is a trick.
			_, _, got := call(t, s, "GET", "/v1/rules", "", nil, bearer(adminToken))
			for _, r := range got["rules"].([]any) {
				if rule := r.(map[string]any); rule["origin"].(map[string]any)["kind"] == "api" {
					t.Errorf("a rule was stored on bus %v: %v", rule["bus"], rule)
				}
			}
		})
	}
}
