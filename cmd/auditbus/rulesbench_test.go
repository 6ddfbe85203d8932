package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/rules/rulestest"
)

// writeBenchData writes n generated rules and events, as genrules does,
// and returns the paths and how many events match a rule.
func writeBenchData(t *testing.T, rules, events int, ratio float64) (rulesPath, eventsPath string, matching int) {
	t.Helper()
	dir := t.TempDir()
	rulesPath, eventsPath = filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "events.ndjson")
	var ndjson bytes.Buffer
	for _, e := range rulestest.Events(rules, events, 1, ratio) {
		ndjson.Write(e.Raw)
		ndjson.WriteByte('\n')
		if e.WantRule != "" {
			matching++
		}
	}
	if err := os.WriteFile(rulesPath, rulestest.Rules(rules, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(eventsPath, ndjson.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return rulesPath, eventsPath, matching
}

func TestRulesBenchJSON(t *testing.T) {
	rulesPath, eventsPath, matching := writeBenchData(t, 200, 40, 0.25)
	code, out, errOut := cli(t, context.Background(), "rules", "bench", "--rules", rulesPath, "--events", eventsPath, "--duration", "50ms", "--json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("want one JSON line, got:\n%s", out)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for field, want := range map[string]float64{"matched": float64(matching), "events": 40, "rules": 200} {
		if rep[field] != want {
			t.Errorf("%s = %v, want %v", field, rep[field], want)
		}
	}
	for _, field := range []string{"events_per_sec", "ns_per_event"} {
		if v, ok := rep[field].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", field, rep[field])
		}
	}
	// Zero is the goal for events that match nothing, so only the type is checked.
	if v, ok := rep["allocs_per_event"].(float64); !ok || v < 0 {
		t.Errorf("allocs_per_event = %v", rep["allocs_per_event"])
	}
	if matching != 10 {
		t.Errorf("generator built %d matching events, want 10", matching)
	}
}

func TestRulesBenchText(t *testing.T) {
	rulesPath, eventsPath, _ := writeBenchData(t, 10, 5, 0.2)
	// A JSON array works as well as NDJSON.
	var arr []json.RawMessage
	for _, e := range rulestest.Events(10, 5, 1, 0.2) {
		arr = append(arr, e.Raw)
	}
	body, _ := json.Marshal(arr)
	if err := os.WriteFile(eventsPath, body, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, context.Background(), "rules", "bench", "--rules", rulesPath, "--events", eventsPath, "--duration", "0")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"rules          10 enabled on bus \"default\"", "events         5, 1 matching at least one rule", "ns/event", "events/s", "allocs/event"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRulesBenchErrors(t *testing.T) {
	rulesPath, _, _ := writeBenchData(t, 10, 1, 0)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ndjson")
	empty := filepath.Join(dir, "empty.ndjson")
	if err := os.WriteFile(bad, []byte("{\"specversion\": \"1.0\"}\n{\"id\": x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--rules", rulesPath}, 2, "usage: auditbus rules bench"},
		{[]string{"--rules", rulesPath, "--events", bad, "--duration", "-1s"}, 2, "usage: auditbus rules bench"},
		{[]string{"--rules", rulesPath, "--events", filepath.Join(dir, "missing.ndjson")}, 1, "no such file"},
		{[]string{"--rules", rulesPath, "--events", bad}, 1, bad + ":2:8: "},
		{[]string{"--rules", rulesPath, "--events", empty}, 1, "no events"},
		{[]string{"--rules", filepath.Join(dir, "missing.yaml"), "--events", bad}, 1, "missing.yaml"},
	} {
		code, _, errOut := cli(t, context.Background(), append([]string{"rules", "bench"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
