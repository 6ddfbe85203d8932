package rules

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// checkAgreement fails unless the explanation's verdict is the engine's and
// its clause results are consistent with that verdict.
func checkAgreement(t *testing.T, r *Rule, env Env, label string) *Explanation {
	t.Helper()
	x := r.Explain(env)
	want, err := r.Match(env)
	want = want && r.Enabled
	if x.Matched != want {
		t.Fatalf("%s: rule %s: Explain says matched=%v, Match says %v (err %v)\nexpr: %s\n%s",
			label, r.Name, x.Matched, want, err, r.Expr(), x.Text())
	}
	pass := true
	for _, c := range x.Clauses {
		pass = pass && c.Pass
	}
	if c := x.Condition; c != nil {
		if c.Evaluated != pass {
			t.Fatalf("%s: rule %s: condition evaluated=%v with pattern pass=%v", label, r.Name, c.Evaluated, pass)
		}
		if c.Evaluated && (c.Error != "") != (err != nil) {
			t.Fatalf("%s: rule %s: condition error %q, Match error %v", label, r.Name, c.Error, err)
		}
		pass = pass && c.Pass
	}
	if x.Matched != (pass && r.Enabled) {
		t.Fatalf("%s: rule %s: matched=%v but clauses and condition say %v", label, r.Name, x.Matched, pass)
	}
	return x
}

// TestExplainAgreesOnTestdata runs every valid testdata rule, including
// the every-operator rule, over hand-made events, one of which satisfies
// every-operator so that agreement is not only agreement on "no".
func TestExplainAgreesOnTestdata(t *testing.T) {
	var all []*Rule
	for _, f := range []string{"testdata/operators.yaml", "testdata/tke.yaml", "testdata/explain/rules.yaml"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := ParseFile(f, src, WithLookupEnv(testLookup))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rs...)
	}
	matched := map[string]int{}
	for i, env := range testdataEnvs(t) {
		for _, r := range all {
			if checkAgreement(t, r, env, fmt.Sprintf("event %d", i)).Matched {
				matched[r.Name]++
			}
		}
	}
	for _, name := range []string{"every-operator", "tke-cluster-deleted", "condition-only"} {
		if matched[name] == 0 {
			t.Errorf("no test event matches %s; the agreement check is one-sided", name)
		}
	}
}

func testdataEnvs(t *testing.T) []Env {
	everyOperator := tkeEvent(t, map[string]any{
		"errorCode": 1.5, "latency": 4, "tags": []any{"prod"},
		"resources":    map[string]any{"a-b": "x", "a.b": "x"},
		"userIdentity": map[string]any{"type": "root"},
	})
	everyOperator.SetSource("k8s.example")
	everyOperator.SetExtension("outcome", "Success")
	everyOperator.SetExtension("action", "DeleteNodeCluster")
	everyOperator.SetExtension("sourceip", "10.9.8.7")
	envs := []Env{NewEnv(everyOperator)}
	for _, data := range []map[string]any{
		nil,
		{"eventName": "DeleteCluster", "errorCode": 0, "userIdentity": map[string]any{"type": "CAMUser"}},
		{"eventName": "DeleteCluster", "errorCode": 0, "userIdentity": map[string]any{"type": "root"}},
		{"eventName": "DeleteCluster", "errorCode": 0},
		{"eventName": []any{"DescribeCluster", "DeleteCluster"}, "errorCode": []any{nil, 0.0}},
		{"userIdentity": map[string]any{"sessionContext": map[string]any{"mfa": true}}},
	} {
		envs = append(envs, NewEnv(tkeEvent(t, data)))
	}
	return envs
}

// TestExplainAgreesOnGeneratedCases compares Explain with Match over random
// patterns, conditions and events drawn from values that exercise every
// operator's edge (numbers vs strings, null vs missing, arrays, empty
// arrays, objects where scalars are expected).
func TestExplainAgreesOnGeneratedCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	envs := make([]Env, 60)
	for i := range envs {
		envs[i] = NewEnv(randomEvent(t, rng))
	}
	outcomes := map[bool]int{}
	for i := 0; i < 400; i++ {
		src := ruleYAML(fmt.Sprintf("gen-%d", i), "", randomCondition(rng))
		src = strings.Replace(src, "targets:", "pattern: "+randomPattern(rng, 0)+"\ntargets:", 1)
		if rng.IntN(10) == 0 {
			src = "enabled: false\n" + src
		}
		rs, err := ParseFile("gen.yaml", []byte(src))
		if err != nil {
			t.Fatalf("generated rule does not load:\n%s\n%v", src, err)
		}
		for j, env := range envs {
			x := checkAgreement(t, rs[0], env, fmt.Sprintf("rule\n%s\nevent %d %v", src, j, env))
			outcomes[x.Matched]++
		}
	}
	if outcomes[true] < 100 || outcomes[false] < 100 {
		t.Errorf("generator is lopsided: %v matches/non-matches; agreement proves little", outcomes)
	}
}

var (
	genPaths = [][]string{
		{"type"}, {"source"}, {"subject"}, {"region"}, {"outcome"}, {"sourceip"},
		{"data", "eventName"}, {"data", "errorCode"}, {"data", "tags"},
		{"data", "userIdentity", "type"}, {"data", "resources", "type"}, {"data", "resources", "id"}, {"data", "n"},
	}
	genStrings = []any{"DeleteCluster", "Describe", "tke:CloudEvent:ApiCall", "root", "", "0", "10.1.2.3", "prod", "DELETECLUSTER"}
	genNumbers = []any{0, 0.0, 1.5, 300, -1}
	genScalars = append(append([]any{true, false, nil}, genStrings...), genNumbers...)
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// randomPattern returns a pattern in JSON flow syntax, which is YAML.
func randomPattern(rng *rand.Rand, depth int) string {
	root := map[string]any{}
	for n := 1 + rng.IntN(3); n > 0; n-- {
		node := root
		path := pick(rng, genPaths)
		for _, k := range path[:len(path)-1] {
			next, ok := node[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[k] = next
			}
			node = next
		}
		var ms []any
		for m := 1 + rng.IntN(3); m > 0; m-- {
			ms = append(ms, randomMatcher(rng))
		}
		node[path[len(path)-1]] = ms
	}
	if depth == 0 && rng.IntN(4) == 0 {
		var alts []any
		for n := 2 + rng.IntN(2); n > 0; n-- {
			var alt map[string]any
			_ = json.Unmarshal([]byte(randomPattern(rng, depth+1)), &alt)
			alts = append(alts, alt)
		}
		root["$or"] = alts
	}
	b, _ := json.Marshal(root)
	return string(b)
}

func randomMatcher(rng *rand.Rand) any {
	s := func() string { return pick(rng, genStrings).(string) }
	switch rng.IntN(12) {
	case 0:
		str := s()
		return map[string]any{"prefix": str[:rng.IntN(len(str)+1)]}
	case 1:
		return map[string]any{"suffix": "Cluster"}
	case 2:
		return map[string]any{"equals-ignore-case": s()}
	case 3:
		return map[string]any{"wildcard": pick(rng, []string{"*", "Delete*", "*:ApiCall", "10.*.3"})}
	case 4:
		return map[string]any{"anything-but": pick(rng, genScalars)}
	case 5:
		return map[string]any{"anything-but": []any{pick(rng, genScalars), pick(rng, genScalars)}}
	case 6:
		return map[string]any{"anything-but": map[string]any{pick(rng, []string{"prefix", "suffix", "equals-ignore-case"}): s()}}
	case 7:
		return map[string]any{"numeric": pick(rng, [][]any{{">", 0}, {"<=", 1.5}, {">=", -1, "<", 300}, {"=", 300}})}
	case 8:
		return map[string]any{"exists": rng.IntN(2) == 0}
	case 9:
		return map[string]any{"cidr": pick(rng, []string{"10.0.0.0/8", "10.1.2.3/32", "::/0"})}
	default:
		return pick(rng, genScalars)
	}
}

func randomCondition(rng *rand.Rand) string {
	return pick(rng, []string{"", "", "", `data.errorCode == 0`, `type startsWith "tke"`,
		`data.userIdentity.type != "root"`, `region in ["ap-guangzhou", "ap-beijing"]`})
}

func randomValue(rng *rand.Rand, depth int) any {
	switch rng.IntN(8) {
	case 0:
		if depth > 1 {
			return nil
		}
		var arr []any
		for n := rng.IntN(3); n > 0; n-- {
			arr = append(arr, randomValue(rng, depth+1))
		}
		return arr
	case 1:
		if depth > 1 {
			return "x"
		}
		if rng.IntN(2) == 0 {
			// Elements of an array of objects, for the groups of patterns.
			return map[string]any{"type": randomValue(rng, depth+1), "id": pick(rng, genStrings)}
		}
		return map[string]any{"type": randomValue(rng, depth+1)}
	default:
		return pick(rng, genScalars)
	}
}

func randomEvent(t *testing.T, rng *rand.Rand) *event.Event {
	data := map[string]any{}
	for _, k := range []string{"eventName", "errorCode", "tags", "userIdentity", "resources", "n"} {
		if rng.IntN(4) > 0 {
			data[k] = randomValue(rng, 0)
		}
	}
	e := tkeEvent(t, data)
	e.SetType(pick(rng, []string{"tke:CloudEvent:ApiCall", "x.Read", "DeleteCluster"}))
	for _, k := range []string{"outcome", "sourceip", "region"} {
		if rng.IntN(3) > 0 {
			e.SetExtension(k, pick(rng, genStrings))
		}
	}
	return e
}

func TestExplainClauses(t *testing.T) {
	env := NewEnv(tkeEvent(t, map[string]any{
		"tags":      []any{"prod", "team-a"},
		"nullField": nil,
		"empty":     []any{},
		"resources": []any{map[string]any{"type": "cluster"}, map[string]any{"type": "node"}},
	}))
	cases := []struct {
		name, pattern string
		path          string
		values        string // JSON of Values
		missing, pass bool
		wants         string
	}{
		{"array expanded", `data: {tags: ["team-a"]}`, "data.tags", `["prod","team-a"]`, false, true, `["team-a"]`},
		{"array of objects", `data: {resources: {type: [{prefix: "no"}]}}`, "data.resources.type", `["cluster","node"]`, false, true, `[{"prefix": "no"}]`},
		{"null is a value", `data: {nullField: [null]}`, "data.nullField", `[null]`, false, true, `[null]`},
		{"missing", `data: {nope: [{exists: false}]}`, "data.nope", `null`, true, true, `[{"exists": false}]`},
		{"empty array is missing", `data: {empty: ["x"]}`, "data.empty", `null`, true, false, `["x"]`},
		{"attribute", `region: [{anything-but: ["ap-beijing", 3]}]`, "region", `["ap-guangzhou"]`, false, true, `[{"anything-but": ["ap-beijing", 3]}]`},
		{"numeric bounds", `data: {tags: [{numeric: [">=", 0, "<", 1.5]}]}`, "data.tags", `["prod","team-a"]`, false, false, `[{"numeric": [">=", 0, "<", 1.5]}]`},
		{"string operators", `subject: [{suffix: "x"}, {wildcard: "qcs::*"}, {equals-ignore-case: "A"}, {cidr: "10.1.2.3/8"}]`,
			"subject", `["qcs::tke:ap-guangzhou:uin/100001:cluster/cls-abc123"]`, false, true,
			`[{"suffix": "x"}, {"wildcard": "qcs::*"}, {"equals-ignore-case": "A"}, {"cidr": "10.0.0.0/8"}]`},
		{"anything-but operator", `action: [{anything-but: {wildcard: "Delete*"}}]`, "action", `["DeleteCluster"]`, false, false, `[{"anything-but": {"wildcard": "Delete*"}}]`},
		{"dotted key", "data:\n  \"a.b\": [1]", `data["a.b"]`, `null`, true, false, `[1]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := checkAgreement(t, mustRule(t, tc.pattern, ""), env, tc.name)
			if len(x.Clauses) != 1 {
				t.Fatalf("clauses = %+v, want one", x.Clauses)
			}
			c := x.Clauses[0]
			values, _ := json.Marshal(c.Values)
			if c.Path != tc.path || string(values) != tc.values || c.Missing != tc.missing || c.Pass != tc.pass || string(c.Wants) != tc.wants {
				t.Errorf("got path %q values %s missing %v pass %v wants %s\nwant path %q values %s missing %v pass %v wants %s",
					c.Path, values, c.Missing, c.Pass, c.Wants, tc.path, tc.values, tc.missing, tc.pass, tc.wants)
			}
		})
	}
}

func TestExplainOr(t *testing.T) {
	env := NewEnv(tkeEvent(t, map[string]any{"eventName": "DeleteCluster"}))
	r := mustRule(t, "type: [\"tke:CloudEvent:ApiCall\"]\n$or:\n  - subject: [\"x\"]\n  - data: {eventName: [\"DeleteCluster\"]}\n    region: [{prefix: \"ap-\"}]", "")
	x := checkAgreement(t, r, env, "or")
	if len(x.Clauses) != 2 || x.Clauses[1].Or == nil {
		t.Fatalf("clauses = %+v, want a leaf then an $or", x.Clauses)
	}
	or := x.Clauses[1]
	if !or.Pass || len(or.Or) != 2 || or.Or[0].Pass || !or.Or[1].Pass || len(or.Or[1].Clauses) != 2 || or.Path != "" {
		t.Errorf("$or result = %+v", or)
	}
	if got := or.Or[0].Clauses[0]; got.Path != "subject" || got.Pass {
		t.Errorf("first alternative = %+v", got)
	}
}

func TestExplainCondition(t *testing.T) {
	env := NewEnv(tkeEvent(t, map[string]any{"userIdentity": map[string]any{"type": "root"}}))
	cases := []struct {
		name, pattern, condition string
		want                     *ConditionResult // Expr is filled in
		matched                  bool
	}{
		{"none", "", "", nil, true},
		{"pass", "", `data.userIdentity.type == "root"`, &ConditionResult{Evaluated: true, Pass: true}, true},
		{"fail", "", `data.userIdentity.type != "root"`, &ConditionResult{Evaluated: true}, false},
		{"skipped when the pattern fails", `type: ["x"]`, `data.missing.field == 1`, &ConditionResult{}, false},
		{"runtime error", "", `data.missing.field == 1`, &ConditionResult{Evaluated: true, Error: "cannot fetch field"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := checkAgreement(t, mustRule(t, tc.pattern, tc.condition), env, tc.name)
			if x.Matched != tc.matched {
				t.Errorf("matched = %v, want %v", x.Matched, tc.matched)
			}
			c := x.Condition
			if tc.want == nil {
				if c != nil {
					t.Errorf("condition = %+v, want nil", c)
				}
				return
			}
			if c == nil || c.Expr != tc.condition || c.Evaluated != tc.want.Evaluated || c.Pass != tc.want.Pass ||
				!strings.Contains(c.Error, tc.want.Error) || (c.Error == "") != (tc.want.Error == "") {
				t.Errorf("condition = %+v, want %+v", c, tc.want)
			}
		})
	}
}

func TestExplainDisabledAndUncompiled(t *testing.T) {
	env := NewEnv(tkeEvent(t, nil))
	r := mustRule(t, `type: ["tke:CloudEvent:ApiCall"]`, "")
	r.Enabled = false
	x := r.Explain(env)
	if x.Enabled || x.Matched || !x.Clauses[0].Pass || !strings.Contains(x.Text(), "no match (rule disabled)") {
		t.Errorf("disabled rule: %+v\n%s", x, x.Text())
	}
	x = (&Rule{Name: "bare", Enabled: true}).Explain(env)
	if x.Matched || !strings.Contains(x.Error, "not compiled") || len(x.Clauses) != 0 {
		t.Errorf("uncompiled rule: %+v", x)
	}
}

// TestExplainConcurrent shares one rule's cached programs between
// goroutines; run with -race.
func TestExplainConcurrent(t *testing.T) {
	r := mustRule(t, `data: {eventName: [{prefix: "Delete"}]}`, `region == "ap-guangzhou"`)
	env := NewEnv(tkeEvent(t, map[string]any{"eventName": "DeleteCluster"}))
	var wg sync.WaitGroup
	results := make([]bool, 8)
	for i := range results {
		wg.Go(func() { results[i] = r.Explain(env).Matched })
	}
	wg.Wait()
	for i, ok := range results {
		if !ok {
			t.Errorf("goroutine %d: not matched", i)
		}
	}
	if r.explainer() != r.explainer() {
		t.Error("per-clause programs are rebuilt instead of cached")
	}
}

func TestExplainText(t *testing.T) {
	long := strings.Repeat("abcdefghij", 10)
	env := NewEnv(tkeEvent(t, map[string]any{"eventName": long, "note": "line\nbreak"}))
	x := mustRule(t, "data:\n  eventName: [\""+long+"\"]\n  note: [{exists: true}]", "").Explain(env)
	lines := strings.Split(strings.TrimSuffix(x.Text(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want header and two clause lines, got\n%s", x.Text())
	}
	for _, l := range lines[1:] {
		if strings.Index(l, "wants") != strings.Index(lines[1], "wants") || len(l) > 200 {
			t.Errorf("clause lines are not aligned or not clipped:\n%s", x.Text())
		}
	}
	if !strings.Contains(lines[1], `"`+long[:36]+"...   ") || !strings.Contains(lines[2], `"line\nbreak"`) {
		t.Errorf("long value not clipped or newline not escaped:\n%s", x.Text())
	}
}

// TestExplainGolden pins the text and JSON forms over testdata/explain.
func TestExplainGolden(t *testing.T) {
	src, err := os.ReadFile("testdata/explain/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseFile("rules.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/explain/events.json")
	if err != nil {
		t.Fatal(err)
	}
	var events []json.RawMessage
	if err := json.Unmarshal(raw, &events); err != nil {
		t.Fatal(err)
	}
	var text, js strings.Builder
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	for _, ev := range events {
		var e event.Event // decoded as Set.Match decodes the stored form
		if err := json.Unmarshal(ev, &e); err != nil {
			t.Fatal(err)
		}
		env := NewEnv(&e)
		fmt.Fprintf(&text, "== event %s\n", e.ID())
		for _, r := range rs {
			x := checkAgreement(t, r, env, e.ID())
			text.WriteString(x.Text())
			if err := enc.Encode(x); err != nil {
				t.Fatal(err)
			}
		}
	}
	compareGolden(t, "testdata/explain/explain.golden", text.String())
	compareGolden(t, "testdata/explain/explain.json.golden", js.String())
}

// TestExplainGroup shows an object pattern over an array of objects: each
// field passes somewhere, but the group passes only where one element
// holds them all.
func TestExplainGroup(t *testing.T) {
	env := NewEnv(tkeEvent(t, map[string]any{"resources": []any{
		map[string]any{"type": "cluster", "id": "cls-1"},
		map[string]any{"type": "node", "id": "ins-2"},
		map[string]any{"type": "node", "id": "ins-3"},
	}}))
	cases := []struct {
		name, pattern string
		pass          bool
		passing       int
		text          string
	}{
		{"fields in different elements", `data: {resources: {type: ["cluster"], id: ["ins-2"]}}`, false, 0,
			"  FAIL  data.resources: all fields below on one object: 0 of 3 pass\n" +
				"    pass  data.resources.type   \"cluster\", \"node\", \"node\"   wants [\"cluster\"]\n" +
				"    pass  data.resources.id     \"cls-1\", \"ins-2\", \"ins-3\"   wants [\"ins-2\"]\n"},
		{"fields in one element", `data: {resources: {type: ["node"], id: [{prefix: {equals-ignore-case: "INS"}}]}}`, true, 2,
			"  pass  data.resources: all fields below on one object: 2 of 3 pass\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := checkAgreement(t, mustRule(t, tc.pattern, ""), env, tc.name)
			if len(x.Clauses) != 1 || x.Clauses[0].Group == nil {
				t.Fatalf("clauses = %+v, want one group", x.Clauses)
			}
			g := x.Clauses[0]
			if g.Pass != tc.pass || g.Objects != 3 || g.Passing != tc.passing || g.Path != "data.resources" || len(g.Group) != 2 {
				t.Errorf("group = %+v", g)
			}
			for _, c := range g.Group {
				if !c.Pass {
					t.Errorf("clause %s fails; each passes on some element", c.Path)
				}
			}
			if !strings.Contains(x.Text(), tc.text) {
				t.Errorf("text\n%s\nwant it to contain\n%s", x.Text(), tc.text)
			}
		})
	}
	// On one object the group is shown as its fields.
	one := NewEnv(tkeEvent(t, map[string]any{"resources": map[string]any{"type": "node", "id": "ins-2"}}))
	x := checkAgreement(t, mustRule(t, cases[0].pattern, ""), one, "one object")
	if len(x.Clauses) != 2 || x.Clauses[0].Path != "data.resources.type" || x.Matched {
		t.Errorf("clauses = %+v, want the two fields in place of the group", x.Clauses)
	}
}
