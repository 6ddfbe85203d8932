package router_test

import (
	"testing"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
)

// TestRuleBusAliasRefused: an identity limited to bus prod cannot store a
// rule on bus default by naming ?bus=prod and aliasing the document's bus
// (found in review: the identity check looked at plain values only).
func TestRuleBusAliasRefused(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") })
	doc := "name: evil\ndescription: &b default\nbus: *b\npattern:\n  type: [x]\ntargets:\n  - id: l\n    log: {}\n"
	status, _, _ := call(t, s, "PUT", "/v1/rules/evil?bus=prod", "application/yaml", []byte(doc), bearer(prodToken))
	_, _, got := call(t, s, "GET", "/v1/rules/evil?bus=default", "", nil, bearer(adminToken))
	if status < 300 || got["bus"] == "default" {
		t.Errorf("prod-only identity stored a rule on bus default: PUT %d, rule %v", status, got)
	}
}

// TestRuleBusInLaterDocumentRefused: an identity limited to bus default
// cannot store a rule on bus prod behind an empty first YAML document
// (found in review: the bus was read from the first document, the rule
// parser takes the second).
func TestRuleBusInLaterDocumentRefused(t *testing.T) {
	const defToken = "abt_default-only-token"
	extra := "  - name: default-team\n    tokens: [\"" + auth.HashToken(defToken) + "\"]\n    actions: [\"*\"]\n    buses: [default]\n"
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, extra) })
	doc := "---\n---\nname: evil2\nbus: prod\npattern:\n  type: [x]\ntargets:\n  - id: l\n    log: {}\n"
	status, _, _ := call(t, s, "PUT", "/v1/rules/evil2", "application/yaml", []byte(doc), bearer(defToken))
	_, _, got := call(t, s, "GET", "/v1/rules/evil2?bus=prod", "", nil, bearer(adminToken))
	if status < 300 || got["bus"] == "prod" {
		t.Errorf("default-only identity stored a rule on bus prod: PUT %d, rule %v", status, got)
	}
}

// TestRuleBusMergeKeyRefused: nor through a YAML merge key.
func TestRuleBusMergeKeyRefused(t *testing.T) {
	const defToken = "abt_default-only-token"
	extra := "  - name: default-team\n    tokens: [\"" + auth.HashToken(defToken) + "\"]\n    actions: [\"*\"]\n    buses: [default]\n"
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, extra) })
	doc := "<<: {bus: prod}\nname: evil3\npattern:\n  type: [x]\ntargets:\n  - id: l\n    log: {}\n"
	status, _, _ := call(t, s, "PUT", "/v1/rules/evil3?bus=default", "application/yaml", []byte(doc), bearer(defToken))
	_, _, got := call(t, s, "GET", "/v1/rules/evil3?bus=prod", "", nil, bearer(adminToken))
	if status < 300 || got["bus"] == "prod" {
		t.Errorf("default-only identity stored a rule on bus prod: PUT %d, rule %v", status, got)
	}
}
