package router_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router"
)

// topicRule is a rule document with one topic target, alerts, naming urn.
func topicRule(name, urn string) string {
	return fmt.Sprintf("name: %s\npattern:\n  data:\n    eventName: [E1]\ntargets:\n  - id: alerts\n    topic: {urn: %q}\n", name, urn)
}

// ruleTargets is GET /v1/rules's targets of rule name, by id.
func ruleTargets(t *testing.T, s *router.Server, name string) (map[string]map[string]any, string) {
	t.Helper()
	status, _, out := call(t, s, "GET", "/v1/rules", "", nil, nil)
	raw, _ := json.Marshal(out)
	if status != 200 {
		t.Fatalf("GET /v1/rules: %d %s", status, raw)
	}
	byID := map[string]map[string]any{}
	for _, r := range out["rules"].([]any) {
		if r := r.(map[string]any); r["name"] == name {
			for _, tg := range r["targets"].([]any) {
				byID[tg.(map[string]any)["id"].(string)] = tg.(map[string]any)
			}
		}
	}
	return byID, string(raw)
}

// topicOf is a listed topic target's topic part, as JSON.
func topicOf(t *testing.T, tg map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(tg["topic"])
	return string(b)
}

// TestRuleTopicTargets: a rule PUT through the API naming no existing
// topic is refused (400 AB.1007 naming the rule, the target and the URN;
// nothing stored), while a topic created a moment before through another
// replica is found; GET /v1/rules shows what each topic target runs as
// (its subscription targets, no endpoint), and a file rule naming an
// unknown URN (topics may come later) as known false, counted by
// auditbus_topic_targets_unresolved, as is an API rule whose topic was
// deleted.
func TestRuleTopicTargets(t *testing.T) {
	const later = "urn:smn:auditbus:default:later"
	file := writeRules(t, topicRule("from-file", later))
	a, b := twoRouters(t, func(c *router.Config) { c.Rules = []string{file} })

	status, _, out := call(t, a, "PUT", "/v1/rules/typo", "application/yaml", []byte(topicRule("typo", "urn:smn:auditbus:default:secuirty")), nil)
	raw, _ := json.Marshal(out)
	if status != 400 || out["error_code"] != "AB.1007" || !strings.Contains(string(raw), `"rule":"typo"`) ||
		!strings.Contains(string(raw), `target \"alerts\": topic urn:smn:auditbus:default:secuirty does not exist`) {
		t.Errorf("rule naming no topic: %d %s, want 400 AB.1007 naming the rule, target and URN", status, raw)
	}
	if status, _, _ := call(t, a, "GET", "/v1/rules/typo", "", nil, nil); status != 404 {
		t.Errorf("refused rule: GET answers %d, want 404 (nothing stored)", status)
	}

	const endpoint = "https://u:pw-real@hook.example/x?token=tok-real"
	topic := `{"subscriptions":[{"id":"soc","protocol":"https","endpoint":"` + endpoint + `","confirm":false},{"id":"noc","protocol":"https","endpoint":"https://noc.example/","confirm":false}]}`
	if status, _, out := call(t, b, "PUT", "/v1/topics/security", "application/json", []byte(topic), nil); status != 201 {
		t.Fatalf("create topic on b: %d %v", status, out)
	}
	if status, _, out := call(t, a, "PUT", "/v1/rules/alerting", "application/yaml", []byte(topicRule("alerting", "urn:smn:auditbus:default:security")), nil); status != 201 {
		t.Fatalf("rule naming the topic just created on b, on a: %d %v", status, out)
	}
	waitFor(t, "a runs alerting with both subscriptions", func() (bool, string) {
		tgs, raw := ruleTargets(t, a, "alerting")
		return strings.Contains(topicOf(t, tgs["alerts"]), "alerts-soc") && strings.Contains(topicOf(t, tgs["alerts"]), "alerts-noc"), raw
	})
	tgs, listed := ruleTargets(t, a, "alerting")
	want := `{"known":true,"runs":[{"id":"alerts-soc","kind":"subscription"},{"id":"alerts-noc","kind":"subscription"}],"urn":"urn:smn:auditbus:default:security"}`
	if got := topicOf(t, tgs["alerts"]); got != want || strings.Contains(listed, "-real") || strings.Contains(listed, "hook.example") {
		t.Errorf("alerting's topic target: %s, want %s and no endpoint in %s", got, want, listed)
	}
	tgs, _ = ruleTargets(t, a, "from-file")
	if got, want := topicOf(t, tgs["alerts"]), `{"known":false,"runs":[],"urn":"`+later+`"}`; got != want {
		t.Errorf("file rule naming an unknown URN: %s, want %s", got, want)
	}
	if m := metrics(t, a); !strings.Contains(m, "auditbus_topic_targets_unresolved 1\n") {
		t.Errorf("metrics: want auditbus_topic_targets_unresolved 1 (the file rule's target)")
	}

	if status, _, out := call(t, b, "DELETE", "/v1/topics/security", "", nil, nil); status != 204 {
		t.Fatalf("delete topic: %d %v", status, out)
	}
	waitFor(t, "a sees alerting's topic gone", func() (bool, string) {
		tgs, raw := ruleTargets(t, a, "alerting")
		return strings.Contains(topicOf(t, tgs["alerts"]), `"known":false`), raw
	})
	waitFor(t, "a counts both unresolved", func() (bool, string) {
		m := metrics(t, a)
		return strings.Contains(m, "auditbus_topic_targets_unresolved 2\n"), "metric not 2"
	})
}
