package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// lintWant is one expected warning: its place in the rule document, its
// severity and a part of its message.
type lintWant struct {
	at, severity, msg string
}

func lintWarn(at, msg string) lintWant { return lintWant{at, "warning", msg} }

// TestLint runs one case per check. A case without warnings carries a
// witness event that the rule matches, proving that staying silent was
// right; the others list every warning they expect.
func TestLint(t *testing.T) {
	cases := []struct {
		name      string
		pattern   string
		condition string
		disabled  bool
		want      []lintWant
		witness   string // attributes and data of an event the rule matches
	}{
		// Fields below an attribute other than data never exist.
		{name: "object below subject", pattern: `subject: {x: ["a"]}`,
			want: []lintWant{lintWarn("3:13", `rule can never match: subject is a CloudEvents attribute, a single value without fields, so subject.x is never present`)}},
		{name: "absent field below subject is fine", pattern: "subject: {x: [{exists: false}]}",
			witness: `{}`},
		// Attribute values auditbus accepts.
		{name: "specversion other than 1.0", pattern: `specversion: ["0.3"]`,
			want: []lintWant{lintWarn("3:3", `rule can never match: specversion is always "1.0" (auditbus accepts CloudEvents 1.0 only), which this clause does not match`)}},
		{name: "specversion 1.0", pattern: `specversion: ["1.0"]`, witness: `{}`},
		{name: "required attribute absent", pattern: "type: [{exists: false}]",
			want: []lintWant{lintWarn("3:3", "rule can never match: type is a required CloudEvents attribute, present in every event")}},
		{name: "optional attribute absent", pattern: "subject: [{exists: false}]", witness: `{}`},
		{name: "numeric on a string attribute", pattern: `subject: [{numeric: [">", 0]}]`,
			want: []lintWant{lintWarn("3:3", "rule can never match: subject is always a string, which this clause does not match")}},
		{name: "null extension", pattern: "region: [null]",
			want: []lintWant{lintWarn("3:3", "rule can never match: region is an extension attribute, always a string, boolean or integer")}},
		{name: "numeric extension", pattern: `region: [{numeric: [">", 1]}]`, witness: `{"region": 5}`},
		{name: "dead matcher in a live leaf", pattern: `type: ["t", 3, {exists: false}]`,
			want: []lintWant{
				lintWarn("3:3", "matcher 3 never matches: type is always a string"),
				lintWarn("3:3", "matcher {exists: false} never matches: type is a required CloudEvents attribute"),
			}},
		// Single-valued attributes reached twice through $or.
		{name: "disjoint exact values", pattern: "type: [\"a\"]\n$or:\n  - type: [\"b\"]\n  - source: [\"s\"]",
			want:    []lintWant{lintWarn("5:7", `$or alternative can never match: type holds a single value, and no value satisfies both this clause and the clause at 3:3`)},
			witness: `{"type": "a", "source": "s"}`},
		{name: "overlapping exact values", pattern: "type: [\"a\", \"b\"]\n$or:\n  - type: [\"b\"]",
			witness: `{"type": "b"}`},
		{name: "every alternative impossible", pattern: "type: [\"a\"]\n$or:\n  - type: [\"b\"]\n  - type: [\"c\"]",
			want: []lintWant{
				lintWarn("4:3", "rule can never match: none of the alternatives of this $or can"),
				lintWarn("5:7", "$or alternative can never match: type holds a single value"),
				lintWarn("6:7", "$or alternative can never match: type holds a single value"),
			}},
		{name: "prefixes that exclude each other", pattern: "type: [{prefix: \"tke:\"}]\n$or:\n  - type: [{prefix: \"cvm:\"}]\n  - source: [s]",
			want:    []lintWant{lintWarn("5:7", "$or alternative can never match: type holds a single value")},
			witness: `{"type": "tke:x", "source": "s"}`},
		{name: "nested prefixes", pattern: "type: [{prefix: \"tke:\"}]\n$or:\n  - type: [{prefix: \"tke:Cloud\"}]",
			witness: `{"type": "tke:CloudEvent"}`},
		{name: "suffixes that exclude each other", pattern: "type: [{suffix: \":ApiCall\"}]\n$or:\n  - type: [{suffix: \":ConsoleCall\"}]",
			want: []lintWant{lintWarn("4:3", "rule can never match"), lintWarn("5:7", "$or alternative can never match")}},
		{name: "numeric and string on one attribute", pattern: "region: [\"x\"]\n$or:\n  - region: [{numeric: [\">\", 1]}]\n  - source: [s]",
			want:    []lintWant{lintWarn("5:7", "$or alternative can never match: region holds a single value")},
			witness: `{"region": "x", "source": "s"}`},
		{name: "anything-but excludes the only value", pattern: "type: [\"a\"]\n$or:\n  - type: [{anything-but: \"a\"}]\n  - source: [s]",
			want:    []lintWant{lintWarn("5:7", "$or alternative can never match")},
			witness: `{"type": "a", "source": "s"}`},
		{name: "anything-but leaves a value", pattern: "type: [\"a\", \"b\"]\n$or:\n  - type: [{anything-but: \"a\"}]",
			witness: `{"type": "b"}`},
		{name: "wildcard excludes the value", pattern: "type: [\"tke:x\"]\n$or:\n  - type: [{wildcard: \"cvm:*\"}]\n  - source: [s]",
			want:    []lintWant{lintWarn("5:7", "$or alternative can never match")},
			witness: `{"type": "tke:x", "source": "s"}`},
		{name: "wildcard accepts the value", pattern: "type: [\"tke:x\"]\n$or:\n  - type: [{wildcard: \"tke:*\"}]",
			witness: `{"type": "tke:x"}`},
		{name: "cidr excludes the address", pattern: "sourceip: [\"192.168.0.1\"]\n$or:\n  - sourceip: [{cidr: \"10.0.0.0/8\"}]\n  - source: [s]",
			want:    []lintWant{lintWarn("5:7", "$or alternative can never match")},
			witness: `{"sourceip": "192.168.0.1", "source": "s"}`},
		{name: "cidr holds the address", pattern: "sourceip: [\"10.1.2.3\"]\n$or:\n  - sourceip: [{cidr: \"10.0.0.0/8\"}]",
			witness: `{"sourceip": "10.1.2.3"}`},
		{name: "equals-ignore-case", pattern: "type: [\"abc\"]\n$or:\n  - type: [{equals-ignore-case: \"ABC\"}]",
			witness: `{"type": "abc"}`},
		{name: "absence allowed on both sides", pattern: "subject: [{exists: false}, \"a\"]\n$or:\n  - subject: [{exists: false}]",
			witness: `{}`},
		// Arrays: leaves on one data field never conflict with each other.
		{name: "disjoint values on a data field", pattern: "data: {tags: [\"a\"]}\n$or:\n  - data: {tags: [\"b\"]}",
			witness: `{"data": {"tags": ["a", "b"]}}`},
		{name: "numeric and string on a data field", pattern: "data: {x: [\"a\"]}\n$or:\n  - data: {x: [{numeric: [\">\", 1]}]}",
			witness: `{"data": {"x": ["a", 5]}}`},
		{name: "anything-but and exact on a data field", pattern: "data: {x: [\"a\"]}\n$or:\n  - data: {x: [{anything-but: \"a\"}]}",
			witness: `{"data": {"x": ["a", "b"]}}`},
		// exists: false sees leaf values only: an object below is no conflict.
		{name: "absent field with a field below", pattern: "data: {a: [{exists: false}]}\n$or:\n  - data: {a: {b: [\"x\"]}}\n  - type: [t]",
			witness: `{"data": {"a": {"b": "x"}}}`},
		{name: "absent field needed itself", pattern: "data: {a: [{exists: false}]}\n$or:\n  - data: {a: [{anything-but: \"x\"}]}",
			want: []lintWant{
				lintWarn("4:3", "rule can never match: none of the alternatives of this $or can"),
				lintWarn("5:14", "$or alternative can never match: data.a must be absent (exists: false at 3:10) but the clause at 5:14 needs it present"),
			}},
		{name: "absent data with a field below", pattern: "data: [{exists: false}]\n$or:\n  - data: {x: [{exists: true}]}",
			witness: `{"data": {"x": 1}}`},
		{name: "absent data needed itself", pattern: "data: [{exists: false}]\n$or:\n  - data: [{exists: true}]",
			want: []lintWant{lintWarn("4:3", "rule can never match"), lintWarn("5:7", "data must be absent")}},
		{name: "absent below a present field", pattern: "data: {a: [{exists: true}]}\n$or:\n  - data: {a: {b: [{exists: false}]}}",
			witness: `{"data": {"a": "v"}}`},
		{name: "absent field or value", pattern: "data: {a: [{exists: false}, \"x\"]}\n$or:\n  - data: {a: {b: [1]}}",
			witness: `{"data": {"a": ["x", {"b": 1}]}}`},
		{name: "absent sibling field", pattern: "data: {a: [{exists: false}], b: [1]}", witness: `{"data": {"b": 1}}`},
		// $or against $or.
		{name: "alternatives against a sibling $or",
			pattern: "$or:\n  - data: {a: [{exists: false}]}\n  - data: {b: [{exists: false}]}\ndata:\n  $or:\n    - {a: [1], b: [2]}",
			want: []lintWant{
				lintWarn("3:3", "rule can never match: none of the alternatives of this $or can hold together with the other $or clauses"),
				lintWarn("4:7", "$or alternative can never match: it contradicts every alternative of the $or at 7:5"),
				lintWarn("5:7", "$or alternative can never match: it contradicts every alternative of the $or at 7:5"),
			}},
		{name: "sibling $ors with a common way", pattern: "$or:\n  - data: {a: [{exists: false}]}\n  - data: {b: [{exists: false}]}\ndata:\n  $or:\n    - {a: [1]}\n    - {b: [2]}",
			witness: `{"data": {"a": 1}}`},
		{name: "nested $or impossible", pattern: "type: [a]\n$or:\n  - source: [s]\n    $or:\n      - type: [b]\n      - type: [c]\n  - subject: [x]",
			want: []lintWant{
				lintWarn("6:7", "$or alternative can never match: none of the alternatives of this $or can"),
				lintWarn("7:11", "$or alternative can never match: type holds a single value"),
				lintWarn("8:11", "$or alternative can never match: type holds a single value"),
			},
			witness: `{"type": "a", "subject": "x"}`},
		// Conditions.
		{name: "constant false condition", condition: "1 > 2",
			want: []lintWant{lintWarn("2:12", "condition is always false")}},
		{name: "folded false condition", condition: "data.x == 1 && false",
			want: []lintWant{lintWarn("2:12", "condition is always false")}},
		{name: "false under not", condition: `!(data.x == 1 || "a" == "a")`,
			want: []lintWant{lintWarn("2:12", "condition is always false")}},
		{name: "constant true condition", condition: "1 < 2 || data.x == 1", witness: `{}`},
		{name: "condition reading the event", condition: `data.x == 1 || subject == nil`, witness: `{"data": {"x": 1}}`},
		{name: "condition with now", condition: `now().Year() > 2000`, witness: `{}`},
		{name: "condition against a string attribute", condition: "subject > 5",
			want: []lintWant{lintWarn("2:12", "condition does not type-check with the CloudEvents attribute types (subject, time, datacontenttype and dataschema are strings): invalid operation: > (mismatched types string and int) (condition 1:9)")}},
		{name: "condition on time as a time", condition: "time.Year() == 2024",
			want: []lintWant{lintWarn("2:12", "type string has no method Year (condition 1:6)")}},
		{name: "condition on an extension", condition: "region > 5", witness: `{"region": 6}`},
		// Disabled rules are info, not warnings.
		{name: "disabled", disabled: true, want: []lintWant{{"1:1", "info", "rule is disabled (enabled: false)"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := ruleYAML("r", tc.pattern, tc.condition)
			if tc.disabled {
				src += "enabled: false\n"
			}
			rules, err := ParseFile("lint.yaml", []byte(src))
			if err != nil {
				t.Fatalf("parse:\n%s\n%v", src, err)
			}
			got := Lint(rules[0])
			if len(got) != len(tc.want) {
				t.Fatalf("got %d warnings, want %d:\n%s", len(got), len(tc.want), renderWarnings(got))
			}
			for i, w := range tc.want {
				prefix := fmt.Sprintf("lint.yaml:%s: rule \"r\": %s: ", w.at, w.severity)
				if s := got[i].String(); !strings.HasPrefix(s, prefix) || !strings.Contains(s[len(prefix):], w.msg) {
					t.Errorf("warning %d = %s\nwant %s...%s", i, s, prefix, w.msg)
				}
			}
			if tc.witness != "" {
				assertMatches(t, rules[0], tc.witness)
			}
			if len(tc.want) == 0 && tc.witness == "" {
				t.Fatal("a case without warnings needs a witness event")
			}
		})
	}
}

// assertMatches checks that r matches the event built from fields, proving
// that the parts Lint stayed silent about can match.
func assertMatches(t *testing.T, r *Rule, fields string) {
	t.Helper()
	ev := map[string]any{"specversion": "1.0", "id": "1", "source": "s", "type": "t"}
	var extra map[string]any
	if err := json.Unmarshal([]byte(fields), &extra); err != nil {
		t.Fatal(err)
	}
	maps.Copy(ev, extra)
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Compile([]*Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	res, err := set.Match(r.Bus, raw)
	if err != nil || len(res.Rules) != 1 || len(res.Errors) != 0 {
		t.Errorf("witness %s: matched %d rules, errors %v %v; want a match", raw, len(res.Rules), res.Errors, err)
	}
}

func renderWarnings(ws []Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(w.String() + "\n")
	}
	return b.String()
}

// TestLintBudget gives Lint a rule whose impossibility only shows after
// trying 3^10 combinations of $or alternatives: the search must stop at
// the budget and assume a match is possible, rather than run for minutes.
func TestLintBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("data:\n  g:\n    $or:\n      - {a: [{exists: false}]}\n      - {a: [{exists: false}], z: [1]}\n")
	for i := range 10 {
		fmt.Fprintf(&b, "  f%d:\n    $or:\n      - {x: [1]}\n      - {y: [2]}\n      - {z: [3]}\n", i)
	}
	b.WriteString("$or:\n  - data: {g: {a: [1]}}\n")
	r := mustRule(t, b.String(), "")
	l := &linter{r: r, budget: lintBudget}
	l.pattern(r.pattern, nil, nil, "rule")
	if l.budget != 0 {
		t.Errorf("budget left %d, want the search cut short", l.budget)
	}
	for _, w := range l.out {
		if !strings.Contains(w.Msg, "never match") {
			t.Errorf("unexpected warning %s", w)
		}
	}
}

// TestLintGolden pins the exact warnings, positions and order for the
// rules in testdata/lint, including the positions of block-style YAML.
func TestLintGolden(t *testing.T) {
	in := filepath.Join("testdata", "lint", "rules.yaml")
	src, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseFile("rules.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(renderWarnings(Lint(r)))
	}
	got := b.String()
	compareGolden(t, filepath.Join("testdata", "lint", "warnings.golden"), got)
}

// TestLintSoundness generates random rules over a small universe of
// events and checks every "can never match" verdict against all of them:
// no event of the universe may match a rule Lint calls impossible. Each
// rule is also checked with its $or cut down to one alternative, so that
// verdicts on single alternatives are put to the test too.
func TestLintSoundness(t *testing.T) {
	events := lintUniverse(t)
	rng := rand.New(rand.NewPCG(1, 2))
	verdicts := 0
	for i := range 400 {
		gen := randomLintPattern(rng)
		variants := []string{gen.yaml(-1)}
		for alt := range gen.alts {
			variants = append(variants, gen.yaml(alt))
		}
		for _, pat := range variants {
			src := ruleYAML(fmt.Sprintf("r%d", i), "", "")
			src = strings.Replace(src, "targets:", "pattern: "+pat+"\ntargets:", 1)
			rules, err := ParseFile("gen.yaml", []byte(src))
			if err != nil {
				t.Fatalf("%s\n%v", src, err)
			}
			impossible := false
			for _, w := range Lint(rules[0]) {
				impossible = impossible || strings.Contains(w.Msg, "rule can never match") ||
					(len(gen.alts) > 0 && pat != variants[0] && strings.Contains(w.Msg, "can never match"))
			}
			if !impossible {
				continue
			}
			verdicts++
			for _, ev := range events {
				if ok, err := rules[0].Match(ev.env); err == nil && ok {
					t.Fatalf("Lint says %s can never match, but it matches %s\nwarnings:\n%s", pat, ev.raw, renderWarnings(Lint(rules[0])))
				}
			}
		}
	}
	if verdicts < 50 {
		t.Errorf("only %d impossible verdicts: the generator no longer exercises Lint", verdicts)
	}
}

// lintEvent is an event of the universe, parsed once.
type lintEvent struct {
	raw []byte
	env Env
}

// lintUniverse is every combination of a few attribute and data values,
// arrays and absent fields included.
func lintUniverse(t *testing.T) []lintEvent {
	types := []any{"x", "y", "xy"}
	subjects := []any{nil, "x", "Xy"}
	regions := []any{nil, "x", 1, true}
	datas := []string{"", `{}`, `{"a": "x"}`, `{"a": 1}`, `{"a": null}`, `{"a": {"b": "x"}}`,
		`{"a": ["y", {"b": 1}]}`, `{"a": {"b": ["x", 2]}}`, `["x", {"a": "y"}]`}
	var out []lintEvent
	for _, ty := range types {
		for _, sub := range subjects {
			for _, reg := range regions {
				for _, data := range datas {
					ev := map[string]any{"specversion": "1.0", "id": "1", "source": "s", "type": ty}
					if sub != nil {
						ev["subject"] = sub
					}
					if reg != nil {
						ev["region"] = reg
					}
					if data != "" {
						ev["data"] = json.RawMessage(data)
					}
					raw, err := json.Marshal(ev)
					if err != nil {
						t.Fatal(err)
					}
					var e event.Event
					if err := json.Unmarshal(raw, &e); err != nil {
						t.Fatal(err)
					}
					out = append(out, lintEvent{raw, NewEnv(&e)})
				}
			}
		}
	}
	return out
}

// lintGenPattern is a random pattern: top-level leaves and one $or whose
// alternatives are leaf lists. Each leaf is a path and its matchers as YAML.
type lintGenPattern struct {
	leaves [][2]string
	alts   [][][2]string
}

var (
	lintGenPaths    = []string{"type", "subject", "region", "specversion", "data", "data.a", "data.a.b", "subject.x"}
	lintGenMatchers = []string{`"x"`, `"y"`, `"1.0"`, `1`, `null`, `{prefix: "x"}`, `{suffix: "y"}`, `{numeric: [">", 0]}`,
		`{exists: true}`, `{exists: false}`, `{exists: false}`, `{anything-but: "x"}`, `{equals-ignore-case: "X"}`,
		`{wildcard: "x*"}`, `{anything-but: {prefix: "x"}}`}
)

func randomLintPattern(rng *rand.Rand) lintGenPattern {
	leaves := func(n int) [][2]string {
		var out [][2]string
		used := map[string]bool{}
		for range n {
			p := lintGenPaths[rng.IntN(len(lintGenPaths))]
			// One mapping cannot hold a path and a path below it.
			clash := false
			for u := range used {
				clash = clash || strings.HasPrefix(p+".", u+".") || strings.HasPrefix(u+".", p+".")
			}
			if clash {
				continue
			}
			used[p] = true
			ms := []string{lintGenMatchers[rng.IntN(len(lintGenMatchers))]}
			if rng.IntN(3) == 0 {
				ms = append(ms, lintGenMatchers[rng.IntN(len(lintGenMatchers))])
			}
			out = append(out, [2]string{p, "[" + strings.Join(ms, ", ") + "]"})
		}
		return out
	}
	g := lintGenPattern{leaves: leaves(1 + rng.IntN(3))}
	if rng.IntN(4) > 0 {
		for range 1 + rng.IntN(3) {
			g.alts = append(g.alts, leaves(1+rng.IntN(2)))
		}
	}
	return g
}

// yaml renders the pattern in flow style; only is the one $or alternative
// to keep, or -1 for all of them.
func (g lintGenPattern) yaml(only int) string {
	parts := []string{lintNested(g.leaves)}
	if len(g.alts) > 0 {
		var alts []string
		for i, a := range g.alts {
			if only < 0 || only == i {
				alts = append(alts, "{"+lintNested(a)+"}")
			}
		}
		parts = append(parts, "$or: ["+strings.Join(alts, ", ")+"]")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// lintNested turns dotted leaf paths into nested flow mappings.
func lintNested(leaves [][2]string) string {
	tree := map[string]any{}
	for _, lf := range leaves {
		keys := strings.Split(lf[0], ".")
		m := tree
		for _, k := range keys[:len(keys)-1] {
			sub, ok := m[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[k] = sub
			}
			m = sub
		}
		m[keys[len(keys)-1]] = lf[1]
	}
	var render func(m map[string]any) string
	render = func(m map[string]any) string {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			switch v := m[k].(type) {
			case string:
				parts = append(parts, k+": "+v)
			case map[string]any:
				parts = append(parts, k+": {"+render(v)+"}")
			}
		}
		return strings.Join(parts, ", ")
	}
	return render(tree)
}
