package rules

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/expr-lang/expr/vm"
)

// The differential test holds the indexed matcher (Set.Match: scanner,
// index, native matchers) to the reference semantics: every rule's own
// expr program run over NewEnv of the fully decoded event.

var (
	diffPaths = [][]string{
		{"type"}, {"source"}, {"subject"}, {"region"}, {"principal"},
		{"data", "eventName"}, {"data", "a"}, {"data", "a", "b"}, {"data", "arr"},
		{"data", "arr", "x"}, {"data", "arr", "y"}, {"data", "arr", "b", "x"}, {"data", "arr", "b", "y"},
		{"data", "x"}, {"data", "y"}, {"data", "n"}, {"data", "flag"}, {"data", "ip"}, {"data"},
		{"time"}, {"dataschema"}, {"datacontenttype"}, {"id"},
	}
	diffStrings = []string{"", "a", "ab", "abc", "A", "Ab", "tke:CloudEvent:ApiCall", "tke:CloudEvent:ConsoleCall",
		"Delete", "DeleteCluster", "deletecluster", "10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1", "x*y", "é", "日本", "😀",
		"010.001.002.003", "10.1.2.03", "É", "\u212a", "ΣΊΣ"}
	diffNumbers = []float64{0, 1, -1, 1.5, 100, 1000}
	diffSources = []string{"tke.cloud.tencent", "a", "http://", ":x", "//h:x", "1a:b", "https://a.example/x", "HTTP://A.example", "urn:x:y", "a:/b",
		"//h/p", "/p/q", "a b", "日本", "a%2fb", "http://u:p@h/", "x?y=1", "", "Tke.Cloud"}
	diffContentTypes = []string{"", "application/json", "text/plain", "application/cloudevents+json", "Application/JSON",
		"application/json; charset=utf-8", "application/json; charset=UTF-8", "application/vnd.x+json", ";",
		"application/json ", "text/plain; charset=utf-8", "TEXT/PLAIN", "text/json", "application/json ;v=1", " text/json;", " application/json"}
	diffTimes = []string{"0001-01-01T00:00:00Z", "2026-11-21T10:00:00Z", "2026-11-21T10:00:00.500Z", "2026-11-21T10:00:00.5Z",
		"2026-11-21T18:00:00+08:00", "2026-11-21T10:00:00z", "not a time", ""}
)

func TestIndexedMatchesReference(t *testing.T) {
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	var matches, errs, events, decisive int
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		set, rs := diffSet(t, rng, 150)
		pats, flat := patternPrograms(rs), flatPrograms(rs)
		for i := range 400 {
			raw := diffEventJSON(rng, i)
			m, e, ok := checkAgainstReference(t, set, rs, raw)
			matches, errs = matches+m, errs+e
			if ok {
				events++
				decisive += consistencyDecides(pats, flat, raw)
			}
		}
	}
	// Guard against a vacuous comparison: the random cases must match often,
	// reach conditions that fail at run time, and hold arrays of objects
	// whose fields match only in different elements.
	if matches < events || errs == 0 || decisive == 0 {
		t.Errorf("only %d matches, %d condition errors and %d answers decided by array consistency over %d events",
			matches, errs, decisive, events)
	}
	t.Logf("%d events, %d matches, %d condition errors, %d answers decided by array consistency", events, matches, errs, decisive)
}

// flatPrograms compiles each rule's pattern with its groups dissolved,
// as if fields of an object pattern could match in different elements.
func flatPrograms(rs []*Rule) []boolProgram {
	out := make([]boolProgram, len(rs))
	for i, r := range rs {
		out[i] = compileBool(flatten(r.pattern).source())
	}
	return out
}

func patternPrograms(rs []*Rule) []boolProgram {
	out := make([]boolProgram, len(rs))
	for i, r := range rs {
		out[i] = compileBool(r.pattern.source())
	}
	return out
}

func flatten(p *pattern) *pattern {
	if p == nil {
		return nil
	}
	out := &pattern{}
	for _, c := range p.clauses {
		switch {
		case c.group != nil:
			out.clauses = append(out.clauses, flatten(c.group.pat).clauses...)
		case c.or != nil:
			alts := make([]*pattern, len(c.or))
			for i, alt := range c.or {
				alts[i] = flatten(alt)
			}
			out.clauses = append(out.clauses, clause{or: alts})
		default:
			out.clauses = append(out.clauses, c)
		}
	}
	return out
}

// consistencyDecides counts the rules whose pattern answers differently
// on raw once its groups are dissolved.
func consistencyDecides(pats, flat []boolProgram, raw []byte) int {
	env, err := decodeEnv(raw)
	if err != nil {
		return 0
	}
	machine := vms.Get().(*vm.VM)
	defer vms.Put(machine)
	n := 0
	for i := range pats {
		want, _ := pats[i].run(machine, env)
		got, _ := flat[i].run(machine, env)
		if got != want {
			n++
		}
	}
	return n
}

// checkAgainstReference compares the answers on one event, returning the
// number of matches and errors, and whether the reference could read it.
func checkAgainstReference(t testing.TB, set *Set, rs []*Rule, raw []byte) (matches, errs int, ok bool) {
	t.Helper()
	return checkAgainstReferenceOn(t, set, rs, DefaultBus, raw)
}

func checkAgainstReferenceOn(t testing.TB, set *Set, rs []*Rule, bus string, raw []byte) (matches, errs int, ok bool) {
	t.Helper()
	res, err := set.Match(bus, raw)
	env, refErr := decodeEnv(raw)
	if refErr != nil {
		return 0, 0, false // the reference cannot read it either; Match only must not panic
	}
	if err != nil {
		t.Fatalf("Match failed on an event the reference reads: %v\n%s", err, raw)
	}
	var want, wantErrs []string
	for _, r := range rs {
		if !r.Enabled || r.Bus != bus {
			continue
		}
		ok, err := r.Match(env)
		switch {
		case err != nil:
			wantErrs = append(wantErrs, r.Name)
		case ok:
			want = append(want, r.Name)
		}
	}
	got := ruleNames(res.Rules)
	var gotErrs []string
	for _, e := range res.Errors {
		gotErrs = append(gotErrs, e.(*MatchError).Rule)
	}
	for _, l := range [][]string{got, want, gotErrs, wantErrs} {
		slices.Sort(l)
	}
	if !slices.Equal(got, want) || !slices.Equal(gotErrs, wantErrs) {
		t.Fatalf("event %s\nindexed matched %v (errors %v)\nreference       %v (errors %v)\n%s",
			raw, got, gotErrs, want, wantErrs, describeRules(rs, got, want))
	}
	return len(got), len(gotErrs), true
}

func ruleNames(rs []*Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// describeRules shows the rules on which the two answers differ.
func describeRules(rs []*Rule, got, want []string) string {
	var b strings.Builder
	for _, r := range rs {
		if slices.Contains(got, r.Name) != slices.Contains(want, r.Name) {
			fmt.Fprintf(&b, "%s: %s\n", r.Name, r.Expr())
		}
	}
	return b.String()
}

func diffSet(t testing.TB, rng *rand.Rand, n int) (*Set, []*Rule) {
	t.Helper()
	var docs []string
	for i := range n {
		pat, _ := json.Marshal(diffPattern(rng, 0))
		doc := fmt.Sprintf("name: r%03d\npattern: %s\n", i, pat)
		if rng.IntN(8) == 0 {
			doc += fmt.Sprintf("condition: %q\n", diffCondition(rng))
		}
		if rng.IntN(20) == 0 {
			doc += "enabled: false\n"
		}
		docs = append(docs, doc+"targets: [{id: out, log: {}}]\n")
	}
	src := strings.Join(docs, "---\n")
	rs, err := ParseFile("random.yaml", []byte(src))
	if err != nil {
		t.Fatalf("random rules do not parse: %v", err)
	}
	set, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	return set, rs
}

func diffCondition(rng *rand.Rand) string {
	conds := []string{`data.n > 1`, `data.a.b.c == 1`, `principal != "a"`, `len(data.arr) > 1`, `type startsWith "tke"`,
		`"a" in data`, `$env.principal == "a"`, `data["n"] == 1`, `data?.a?.b == "ab"`, `let p = principal; p == "日本"`,
		`subject == nil`, `data.eventName == source`, `time > "2026"`, `region in ["a", "ab"] || data.flag == true`}
	return conds[rng.IntN(len(conds))]
}

// diffPattern builds a pattern as a JSON-able map: JSON is YAML.
func diffPattern(rng *rand.Rand, depth int) map[string]any {
	p := map[string]any{}
	for range 1 + rng.IntN(3) {
		if depth < 2 && rng.IntN(7) == 0 {
			var alts []any
			for range 1 + rng.IntN(3) {
				alts = append(alts, diffPattern(rng, depth+1))
			}
			p["$or"] = alts
			continue
		}
		if rng.IntN(5) == 0 {
			// Fields that must match in one element of an array of objects.
			prefix := [][]string{{"data", "arr"}, {"data", "arr", "b"}, {"data"}}[rng.IntN(3)]
			for _, k := range []string{"x", "y"} {
				setPath(p, append(slices.Clone(prefix), k), []any{diffElemMatcher(rng)})
			}
			continue
		}
		path := diffPaths[rng.IntN(len(diffPaths))]
		setPath(p, path, diffMatchers(rng))
	}
	return p
}

// setPath puts the matcher list at path, giving up quietly where another
// leaf already took a prefix of it (YAML forbids duplicate keys).
func setPath(p map[string]any, path []string, ms []any) {
	for _, k := range path[:len(path)-1] {
		next, ok := p[k].(map[string]any)
		if !ok {
			if _, taken := p[k]; taken {
				return
			}
			next = map[string]any{}
			p[k] = next
		}
		p = next
	}
	if _, taken := p[path[len(path)-1]]; !taken {
		p[path[len(path)-1]] = ms
	}
}

func diffMatchers(rng *rand.Rand) []any {
	var ms []any
	for range 1 + rng.IntN(3) {
		ms = append(ms, diffMatcher(rng))
	}
	return ms
}

func diffMatcher(rng *rand.Rand) any {
	s := diffStrings[rng.IntN(len(diffStrings))]
	switch rng.IntN(12) {
	case 0:
		return map[string]any{"prefix": s[:rng.IntN(len(s)+1)]}
	case 1:
		return map[string]any{"suffix": s[rng.IntN(len(s)+1):]}
	case 2:
		switch rng.IntN(3) {
		case 0:
			return map[string]any{"prefix": map[string]any{"equals-ignore-case": s[:rng.IntN(len(s)+1)]}}
		case 1:
			return map[string]any{"suffix": map[string]any{"equals-ignore-case": s[rng.IntN(len(s)+1):]}}
		}
		return map[string]any{"equals-ignore-case": s}
	case 3:
		return map[string]any{"wildcard": diffWildcard(rng)}
	case 4:
		return map[string]any{"anything-but": diffButValue(rng)}
	case 5:
		lo := diffNumbers[rng.IntN(len(diffNumbers))]
		if rng.IntN(2) == 0 {
			return map[string]any{"numeric": []any{[]string{"<", "<=", "=", ">", ">="}[rng.IntN(5)], lo}}
		}
		return map[string]any{"numeric": []any{">=", lo, "<", lo + 1 + float64(rng.IntN(50))}}
	case 6:
		return map[string]any{"exists": rng.IntN(2) == 0}
	case 7:
		return map[string]any{"cidr": []string{"10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0", "10.1.2.3/32", "010.1.0.0/16"}[rng.IntN(5)]}
	default:
		return diffScalar(rng)
	}
}

// diffElemMatcher draws from the values diffObjects writes.
func diffElemMatcher(rng *rand.Rand) any {
	ms := []any{"a", "ab", 1.0, nil, map[string]any{"exists": true}, map[string]any{"exists": false},
		map[string]any{"prefix": "a"}, map[string]any{"anything-but": "a"}, map[string]any{"equals-ignore-case": "a"},
		map[string]any{"prefix": map[string]any{"equals-ignore-case": "A"}}, map[string]any{"anything-but": map[string]any{"prefix": []any{"ab", "x"}}}}
	return ms[rng.IntN(len(ms))]
}

func diffScalar(rng *rand.Rand) any {
	switch rng.IntN(8) {
	case 0:
		return diffNumbers[rng.IntN(len(diffNumbers))]
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return nil
	default:
		return diffStrings[rng.IntN(len(diffStrings))]
	}
}

func diffButValue(rng *rand.Rand) any {
	pick := func(opts ...string) any {
		if rng.IntN(3) == 0 {
			return []any{opts[rng.IntN(len(opts))], opts[rng.IntN(len(opts))]}
		}
		return opts[rng.IntN(len(opts))]
	}
	switch rng.IntN(6) {
	case 0:
		return []any{diffScalar(rng), diffScalar(rng)}
	case 1:
		return map[string]any{"prefix": pick("a", "t", "D", "1")}
	case 2:
		return map[string]any{"suffix": pick("c", "b", "r")}
	case 3:
		return map[string]any{"equals-ignore-case": pick("a", "AB", "deleteCLUSTER")}
	case 4:
		return map[string]any{"wildcard": pick("*a*", "D*e*", "*")}
	default:
		return diffScalar(rng)
	}
}

func diffWildcard(rng *rand.Rand) string {
	parts := []string{"", "a", "b", "Delete", "*", "tke", ":", "\\*"}
	var b strings.Builder
	last := ""
	for range 1 + rng.IntN(4) {
		p := parts[rng.IntN(len(parts))]
		if p == "*" && last == "*" {
			continue
		}
		b.WriteString(p)
		if p != "" {
			last = p
		}
	}
	return b.String()
}

// diffEventJSON writes a structured CloudEvent by hand, with the JSON
// shapes a scanner can get wrong: escapes, duplicate keys, nested arrays,
// number spellings, non-JSON and base64 data.
func diffEventJSON(rng *rand.Rand, i int) []byte {
	w := &jsonWriter{rng: rng}
	spec := "1.0"
	if rng.IntN(30) == 0 {
		spec = "0.3"
	}
	w.raw(`{"specversion":"` + spec + `","id":"e` + strconv.Itoa(i) + `"`)
	w.member("source", diffSources[rng.IntN(len(diffSources))])
	if rng.IntN(3) == 0 {
		w.member("time", diffTimes[rng.IntN(len(diffTimes))])
	}
	if rng.IntN(8) == 0 {
		w.member("dataschema", diffSources[rng.IntN(len(diffSources))])
	}
	w.member("type", []string{"tke:CloudEvent:ApiCall", "tke:CloudEvent:ConsoleCall", "cvm:CloudEvent:ApiCall"}[rng.IntN(3)])
	for _, attr := range []string{"subject", "region", "principal"} {
		if rng.IntN(3) > 0 {
			w.member(attr, diffStrings[rng.IntN(len(diffStrings))])
		}
	}
	if rng.IntN(6) == 0 {
		w.raw(`,"principal":` + []string{"7", "7.9", "true", "null", "-2147483649", "\"a\xffb\"", `"\ud800\ud800\udc00"`}[rng.IntN(7)])
	}
	ct := diffContentTypes[rng.IntN(len(diffContentTypes))]
	if ct != "" {
		w.member("datacontenttype", ct)
	}
	switch {
	case rng.IntN(12) == 0:
		data, _ := json.Marshal(diffData(rng, 0))
		w.raw(`,"data_base64":"` + base64.StdEncoding.EncodeToString(data) + `"`)
	case mediaKindOf(ct) != mediaJSON && rng.IntN(2) == 0:
		w.raw(`,"data":`)
		w.str(diffStrings[rng.IntN(len(diffStrings))])
	case rng.IntN(10) > 0:
		w.raw(`,"data":`)
		w.value(map[string]any{"_": diffData(rng, 0)}["_"])
	}
	w.raw("}")
	return []byte(w.b.String())
}

func diffData(rng *rand.Rand, depth int) any {
	if depth > 3 {
		return diffScalar(rng)
	}
	switch rng.IntN(10) {
	case 0, 1:
		var arr []any
		for range rng.IntN(4) {
			arr = append(arr, diffData(rng, depth+1))
		}
		return arr
	case 2, 3, 4, 5:
		keys := []string{"eventName", "a", "b", "x", "y", "arr", "n", "flag", "ip", "other"}
		m := orderedMap{}
		for range rng.IntN(5) {
			k := keys[rng.IntN(len(keys))]
			if k == "arr" && rng.IntN(2) == 0 {
				m = append(m, kv{k, diffObjects(rng, depth+1)})
				continue
			}
			m = append(m, kv{k, diffData(rng, depth+1)})
		}
		return m
	default:
		return diffScalar(rng)
	}
}

// diffObjects is an array of small objects over few values, so that a
// pattern's fields often match, and often in different elements.
func diffObjects(rng *rand.Rand, depth int) []any {
	var arr []any
	for range 1 + rng.IntN(3) {
		m := orderedMap{}
		for _, k := range []string{"x", "y", "b"} {
			switch {
			case rng.IntN(3) == 0:
			case k == "b" && depth < 3:
				m = append(m, kv{k, diffObjects(rng, depth+1)})
			default:
				m = append(m, kv{k, []any{"a", "ab", 1.0, nil, "A"}[rng.IntN(5)]})
			}
		}
		arr = append(arr, m)
	}
	return arr
}

// orderedMap may hold a key twice, which JSON decoders resolve to the last.
type orderedMap []kv

type kv struct {
	k string
	v any
}

func (m orderedMap) MarshalJSON() ([]byte, error) {
	w := &jsonWriter{rng: rand.New(rand.NewPCG(1, 1))}
	w.value(m)
	return []byte(w.b.String()), nil
}

type jsonWriter struct {
	b   strings.Builder
	rng *rand.Rand
}

func (w *jsonWriter) raw(s string) { w.b.WriteString(s) }

func (w *jsonWriter) member(k, v string) {
	w.raw(",")
	w.str(k)
	w.raw(":")
	w.str(v)
}

func (w *jsonWriter) value(v any) {
	switch x := v.(type) {
	case orderedMap:
		w.raw("{")
		for i, e := range x {
			if i > 0 {
				w.raw(", ")
			}
			w.str(e.k)
			w.raw(" : ")
			w.value(e.v)
		}
		w.raw("}")
	case []any:
		w.raw("[")
		for i, e := range x {
			if i > 0 {
				w.raw(",")
			}
			w.value(e)
		}
		w.raw("]")
	case string:
		w.str(x)
	case float64:
		w.number(x)
	default:
		b, _ := json.Marshal(x)
		w.b.Write(b)
	}
}

// number spells f in one of the ways JSON allows, rarely out of range.
func (w *jsonWriter) number(f float64) {
	switch w.rng.IntN(6) {
	case 0:
		w.raw(strconv.FormatFloat(f, 'e', -1, 64))
	case 1:
		w.raw(strconv.FormatFloat(f, 'f', 2, 64))
	case 2:
		if w.rng.IntN(10) == 0 {
			w.raw("1e400")
			return
		}
		fallthrough
	default:
		w.raw(strconv.FormatFloat(f, 'g', -1, 64))
	}
}

// str writes s, escaping characters at random the ways JSON allows.
func (w *jsonWriter) str(s string) {
	w.raw(`"`)
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			w.raw(`\` + string(r))
		case w.rng.IntN(6) == 0 && r < 0x10000:
			fmt.Fprintf(&w.b, `\u%04x`, r)
		case r >= 0x10000 && w.rng.IntN(3) == 0:
			r1, r2 := utf16Pair(r)
			fmt.Fprintf(&w.b, `\u%04X\u%04X`, r1, r2)
		default:
			w.b.WriteRune(r)
		}
	}
	if w.rng.IntN(40) == 0 {
		w.raw(`\ud800`) // a lone surrogate decodes to U+FFFD
	}
	w.raw(`"`)
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r >> 10), 0xDC00 + (r & 0x3FF)
}

// TestScanMatchesEnv checks the scanner alone: the values it records for
// every path equal those walkEnv collects from NewEnv.
func TestScanMatchesEnv(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	x := newBusIndex(nil)
	for _, p := range diffPaths {
		x.tree.add(p)
	}
	for i := range 2000 {
		raw := diffEventJSON(rng, i)
		env, err := decodeEnv(raw)
		if err != nil {
			continue
		}
		fast, slow := newState(len(x.tree.nodes), 0), newState(len(x.tree.nodes), 0)
		sc := scanner{buf: raw, st: fast}
		if err := sc.event(x.tree.root); err == errSlow {
			continue
		} else if err != nil {
			t.Fatalf("scan: %v\n%s", err, raw)
		}
		if !fast.dataAsScanned() {
			continue
		}
		for k, c := range x.tree.root.children {
			if v, ok := env[k]; ok {
				walkEnv(slow, c, v)
			}
		}
		for id := range x.tree.nodes {
			if !sameValues(fast.vals[id], slow.vals[id]) {
				t.Fatalf("path %v: scanned %v, env %v\n%s", x.tree.nodes[id].key, fast.vals[id], slow.vals[id], raw)
			}
		}
	}
}

// sameValues compares as multisets: map iteration orders walkEnv's output.
func sameValues(a, b []value) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(v value) string { return fmt.Sprintf("%d|%v|%v|%q", v.kind, v.b, v.num, v.str) }
	var ka, kb []string
	for i := range a {
		ka, kb = append(ka, key(a[i])), append(kb, key(b[i]))
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}
