package rules

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// tkeEvent is a realistic CloudAudit record wrapped as the router does.
func tkeEvent(t testing.TB, data map[string]any) *event.Event {
	t.Helper()
	e := event.New()
	e.SetID("9d5b2c0e-1a7f-4c1e-9a9e-2f8f1c3b7a10")
	e.SetSource("tke.cloud.tencent")
	e.SetType("tke:CloudEvent:ApiCall")
	e.SetSubject("qcs::tke:ap-guangzhou:uin/100001:cluster/cls-abc123")
	e.SetExtension("region", "ap-guangzhou")
	e.SetExtension("principal", "100001")
	e.SetExtension("action", "DeleteCluster")
	if data != nil {
		if err := e.SetData("application/json", data); err != nil {
			t.Fatal(err)
		}
	}
	return &e
}

// ruleYAML builds a one-target rule document around a pattern given as
// indented YAML lines (or "" for none) and an optional condition.
func ruleYAML(name, pattern, condition string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", name)
	if pattern != "" {
		b.WriteString("pattern:\n")
		for _, l := range strings.Split(strings.TrimRight(pattern, "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
	if condition != "" {
		fmt.Fprintf(&b, "condition: %q\n", condition)
	}
	b.WriteString("targets:\n  - id: out\n    log: {}\n")
	return b.String()
}

// eventJSON is e in the structured JSON form Set.Match reads.
func eventJSON(t testing.TB, e *event.Event) []byte {
	t.Helper()
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func mustMatch(t testing.TB, set *Set, bus string, e *event.Event) Result {
	t.Helper()
	res, err := set.Match(bus, eventJSON(t, e))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustRule(t testing.TB, pattern, condition string) *Rule {
	t.Helper()
	rules, err := ParseFile("test.yaml", []byte(ruleYAML("r", pattern, condition)))
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", ruleYAML("r", pattern, condition), err)
	}
	return rules[0]
}
