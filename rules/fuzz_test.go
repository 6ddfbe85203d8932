package rules

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParseFile checks that no rule file, however malformed, panics the
// loader, and that whatever loads can be matched without panicking.
func FuzzParseFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		src, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	e := tkeEvent(f, map[string]any{
		"eventName": "DeleteCluster", "errorCode": 0, "tags": []any{"a", 1.5, nil, []any{"b"}},
		"userIdentity": map[string]any{"type": "CAMUser"},
	})
	env, raw := NewEnv(e), eventJSON(f, e)
	f.Fuzz(func(t *testing.T, src []byte) {
		rules, err := ParseFile("fuzz.yaml", src, WithLookupEnv(testLookup))
		if err != nil {
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error is %T, want Errors", err)
			}
			return
		}
		for _, r := range rules {
			for _, tg := range r.Targets {
				_, _ = r.Input(tg.ID, env)
			}
		}
		set, err := Compile(rules)
		if err != nil {
			return
		}
		for _, bus := range busesOf(rules) {
			checkAgainstReferenceOn(t, set, rules, bus, raw)
		}
	})
}

func busesOf(rules []*Rule) []string {
	var out []string
	for _, r := range rules {
		if !slices.Contains(out, r.Bus) {
			out = append(out, r.Bus)
		}
	}
	return out
}

// FuzzMatch feeds arbitrary bytes to Set.Match over a fixed random rule
// set: it must never panic, and on every event the reference can decode
// it must give the reference's answers.
func FuzzMatch(f *testing.F) {
	rng := rand.New(rand.NewPCG(11, 11))
	for i := range 20 {
		f.Add(diffEventJSON(rng, i))
	}
	events, _ := filepath.Glob("../examples/events/*.json")
	for _, p := range events {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	set, rs := diffSet(f, rand.New(rand.NewPCG(5, 5)), 120)
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkAgainstReference(t, set, rs, raw)
	})
}

// FuzzRuleAndEvent fuzzes one rule's pattern and condition together with
// the event, against the reference.
func FuzzRuleAndEvent(f *testing.F) {
	patterns := []string{`type: ["t"]`, `data: {a: [1, "x", {prefix: "a"}]}`, `data: {arr: {x: [{exists: false}]}}`,
		`$or: [{data: {a: ["x"]}}, {region: [{prefix: "r"}]}]`, `source: [{wildcard: "*s*"}]`,
		`data: [{anything-but: {suffix: "x"}}]`, `time: [{exists: true}]`, `data: {n: [{numeric: [">", 0]}]}`,
		`data: {arr: {x: ["a"], y: [{exists: false}]}}`, `data: {arr: {b: {x: [{prefix: {equals-ignore-case: "A"}}], y: [1]}}}`,
		`data: {x: [{anything-but: {prefix: ["a", "b"]}}], y: [{suffix: {equals-ignore-case: "B"}}]}`,
		`data: {arr: {$or: [{x: ["a"], y: ["ab"]}, {x: [{anything-but: {wildcard: ["*a", "b*"]}}]}]}}`,
		`data: {ip: [{cidr: "010.0.0.0/8"}], x: [{anything-but: {equals-ignore-case: ["a", "B"]}}]}`}
	conditions := []string{"", `data.a == 1`, `region == "x"`, `data?.a?.b == nil`, `let d = data; d.a == 1`}
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range 40 {
		f.Add(patterns[i%len(patterns)], conditions[i%len(conditions)], diffEventJSON(rng, i))
	}
	f.Add(patterns[8], "", []byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"arr":[{"x":"a"},{"y":2},{"x":"a","y":null}]}}`))
	f.Add(patterns[9], "", []byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"arr":[{"b":[{"x":"Ab","y":1}]},{"b":{"x":"a"}}]}}`))
	f.Fuzz(func(t *testing.T, pattern, condition string, raw []byte) {
		rs, err := ParseFile("fuzz.yaml", []byte(ruleYAML("r", pattern, condition)))
		if err != nil || len(rs) != 1 {
			return
		}
		set, err := Compile(rs)
		if err != nil {
			return
		}
		checkAgainstReference(t, set, rs, raw)
	})
}
