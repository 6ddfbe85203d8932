package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/rules"
)

// TestRulesTestJSON pins the --json form over every example event and
// checks each document's shape and that its verdicts agree.
func TestRulesTestJSON(t *testing.T) {
	files, err := filepath.Glob("../../examples/events/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("example events: %v %v", files, err)
	}
	var all strings.Builder
	for _, f := range files {
		code, out, errOut := cli(t, context.Background(), "rules", "test", "--json", "--rules", "../../examples/rules", "--event", f)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d: %s", f, code, errOut)
		}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var doc struct {
				Event        string
				Matched      []string
				Explanations []rules.Explanation
			}
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				t.Fatalf("%s: not one JSON document per line: %v\n%s", f, err, line)
			}
			if doc.Event == "" || doc.Matched == nil || len(doc.Explanations) != 8 {
				t.Errorf("%s: want event, matched list and 8 explanations: %s", f, line)
			}
			for _, x := range doc.Explanations {
				if x.Matched != strings.Contains(","+strings.Join(doc.Matched, ",")+",", ","+x.Rule+",") {
					t.Errorf("%s: rule %s: explanation and matched list disagree", f, x.Rule)
				}
			}
		}
		all.WriteString(out)
	}
	golden(t, "rulestest-json.golden", all.String())
}

func TestRulesTestRuleFlag(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.yaml")
	src := "name: elsewhere\nbus: audit\ntargets:\n  - id: out\n    log: {}\n"
	if err := os.WriteFile(other, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	event := "../../examples/events/tke-delete-cluster.json"
	cases := []struct {
		name     string
		args     []string
		code     int
		rules    []string // "rule NAME (" lines expected on stdout, in order
		inStderr string
	}{
		{"one rule", []string{"--rule", "tke-cluster-deleted"}, 0, []string{"tke-cluster-deleted"}, ""},
		{"repeated, comma-separated, deduplicated, in name order", []string{"--rule", "tke-endpoint-opened,ccr-repository-purged", "--rule", "ccr-repository-purged"}, 0,
			[]string{"ccr-repository-purged", "tke-endpoint-opened"}, ""},
		{"unknown rule", []string{"--rule", "nope"}, 2, nil, `--rule "nope": no such rule on bus "default"`},
		{"rule on another bus", []string{"--rules", other, "--rule", "elsewhere"}, 2, nil, `elsewhere is on bus "audit"; use --bus`},
		{"other bus", []string{"--rules", other, "--bus", "audit"}, 0, []string{"elsewhere"}, ""},
		{"empty bus warns", []string{"--bus", "nobody"}, 0, []string{}, `warning: no rules on bus "nobody"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"rules", "test", "--rules", "../../examples/rules", "--event", event}, tc.args...)
			code, out, errOut := cli(t, context.Background(), args...)
			if code != tc.code || !strings.Contains(errOut, tc.inStderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.inStderr)
			}
			if tc.rules == nil {
				return
			}
			var got []string
			for _, l := range strings.Split(out, "\n") {
				if name, ok := strings.CutPrefix(l, "  rule "); ok {
					got = append(got, strings.Fields(name)[0])
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.rules, ",") {
				t.Errorf("explained rules %v, want %v\n%s", got, tc.rules, out)
			}
		})
	}
}

func TestRulesTestUsage(t *testing.T) {
	code, _, errOut := cli(t, context.Background(), "rules", "test", "--rules", "../../examples/rules")
	if code != 2 || !strings.Contains(errOut, "[--rule NAME]... [--json]") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestDisagreements checks the bug detector itself, which the engine and
// Explain agreeing everywhere else never exercises.
func TestDisagreements(t *testing.T) {
	e := ce.New()
	e.SetID("ev-1")
	rep := &eventReport{
		event:  &e,
		result: rules.Result{Rules: []*rules.Rule{{Name: "a"}, {Name: "b"}}},
		explanations: []*rules.Explanation{
			{Rule: "a", Bus: "default", Matched: true},
			{Rule: "b", Bus: "default", Matched: false},
			{Rule: "c", Bus: "default", Matched: true},
			{Rule: "d", Bus: "default", Matched: false},
		},
	}
	got := rep.disagreements()
	want := []string{
		"event ev-1, rule b (bus default): the engine says match, its explanation says no match",
		"event ev-1, rule c (bus default): the engine says no match, its explanation says match",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("disagreements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRulesTestRuntimeError shows a condition's runtime error both in the
// engine's answer and in the explanation, and is not a disagreement.
func TestRulesTestRuntimeError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "err.yaml")
	src := "name: bad-field\ncondition: 'data.nope.deeper == 1'\ntargets:\n  - id: out\n    log: {}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, context.Background(), "rules", "test", "--rules", path, "--event", "../../examples/events/tke-delete-cluster.json")
	if code != 0 || strings.Contains(errOut, "BUG") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"no rule matches\n  error: ", "rule bad-field (bus default): no match", "condition  ERROR", "error: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\n |") {
		t.Errorf("expr's multi-line source excerpt leaked into the text output:\n%s", out)
	}
}
