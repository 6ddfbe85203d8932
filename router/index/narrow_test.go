package index_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
	"github.com/auditbus/auditbus/rules"
)

// narrowAttrs are the attributes random events set and random patterns
// test, with the values both draw from: overlapping prefixes, an empty
// string, a non-ASCII one, so exact and prefix matches both hit and miss.
// The Kubernetes types and kind make the index derive the attributes
// k8sFields reads from the data when they are empty or absent.
var narrowAttrs = map[string][]string{
	"type":         {"cts:CloudTrace:ApiCall", "cts:CloudTrace:ConsoleAction", "tke:K8sAudit:delete", "cce:K8sAudit:get", "t"},
	"source":       {"cts/VPC", "cts/ECS", "tencentcloud.tke", "k8s"},
	"subject":      {"eip/1", "eip/12", "集群/cls-2", "ns/a/pods/p"},
	"kind":         {"K8sAudit", "ApiCall", ""},
	"principal":    {"alice", "alicia", "bob", ""},
	"tracerating":  {"normal", "warning", ""},
	"outcome":      {"success", "failure", ""},
	"region":       {"ap-guangzhou", "ap-shanghai", "cn-north-4"},
	"sourceip":     {"203.0.113.7", "2001:db8::1", ""},
	"code":         {"200", "403", ""},
	"cluster":      {"cls-1", "cls-12", ""},
	"resourcetype": {"pods", "pods/exec", "secrets", ""},
	"resourcename": {"p", "p2", ""},
}

// k8sValue draws a value for a Kubernetes audit event's data from the
// attribute's values, empty ones too.
func k8sValue(rng *rand.Rand, attr string) string {
	vs := narrowAttrs[attr]
	return vs[rng.IntN(len(vs))]
}

// randomData is an event's data: a user as a string (what the data
// patterns test), or, as often, a Kubernetes audit event whose fields
// sometimes are missing, so a K8sAudit event's derived columns differ
// from its attributes.
func randomData(rng *rand.Rand) map[string]any {
	if rng.IntN(2) == 0 {
		return map[string]any{"user": narrowAttrs["principal"][rng.IntN(4)]}
	}
	d := map[string]any{}
	if rng.IntN(4) > 0 {
		d["user"] = map[string]any{"username": k8sValue(rng, "principal")}
	}
	if rng.IntN(4) > 0 {
		res, sub, _ := strings.Cut(k8sValue(rng, "resourcetype"), "/")
		d["objectRef"] = map[string]any{"resource": res, "subresource": sub, "name": k8sValue(rng, "resourcename")}
	}
	if rng.IntN(4) > 0 {
		d["sourceIPs"] = []string{k8sValue(rng, "sourceip")}
	}
	if rng.IntN(4) > 0 {
		code, _ := strconv.Atoi(k8sValue(rng, "code"))
		d["responseStatus"] = map[string]any{"code": code}
	}
	if rng.IntN(4) > 0 {
		d["cluster_name"] = k8sValue(rng, "cluster")
	}
	return d
}

func attrNames() []string {
	names := make([]string, 0, len(narrowAttrs))
	for k := range narrowAttrs {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// randomEvent sets a random subset of the attributes; a few extensions
// get a number instead of a string, which no string matcher may match.
func randomEvent(rng *rand.Rand, i int) event.Event {
	e := event.New()
	e.SetID(fmt.Sprintf("ev-%d", i))
	e.SetTime(time.Unix(1_790_000_000+int64(i), 0))
	e.SetType("none")
	e.SetSource("none")
	for _, a := range attrNames() {
		if rng.IntN(4) == 0 {
			continue
		}
		vs := narrowAttrs[a]
		v := vs[rng.IntN(len(vs))]
		switch a {
		case "type":
			e.SetType(v)
		case "source":
			e.SetSource(v)
		case "subject":
			e.SetSubject(v)
		default:
			if rng.IntN(10) == 0 {
				e.SetExtension(a, rng.IntN(500))
			} else {
				e.SetExtension(a, v)
			}
		}
	}
	if err := e.SetData(event.ApplicationJSON, randomData(rng)); err != nil {
		panic(err)
	}
	return e
}

// randomMatcher is one list element of every kind the rule language has,
// usable and not.
func randomMatcher(rng *rand.Rand, vs []string) any {
	v := vs[rng.IntN(len(vs))]
	cut := rng.IntN(len(v) + 1)
	switch rng.IntN(10) {
	case 0, 1, 2:
		return v
	case 3, 4:
		return map[string]any{"prefix": v[:cut]}
	case 5:
		return map[string]any{"suffix": v[cut:]}
	case 6:
		return map[string]any{"anything-but": v}
	case 7:
		return map[string]any{"equals-ignore-case": strings.ToUpper(v)}
	case 8:
		return map[string]any{"exists": rng.IntN(2) == 0}
	default:
		return rng.IntN(500)
	}
}

// randomPattern ANDs one to three fields, sometimes an $or of such
// patterns, sometimes a data field.
func randomPattern(rng *rand.Rand, depth int) map[string]any {
	p := map[string]any{}
	names := attrNames()
	for range 1 + rng.IntN(3) {
		a := names[rng.IntN(len(names))]
		list := make([]any, 1+rng.IntN(3))
		for i := range list {
			list[i] = randomMatcher(rng, narrowAttrs[a])
		}
		p[a] = list
	}
	if depth == 0 && rng.IntN(3) == 0 {
		alts := make([]any, 2+rng.IntN(2))
		for i := range alts {
			alts[i] = randomPattern(rng, 1)
		}
		p["$or"] = alts
	}
	if rng.IntN(5) == 0 {
		p["data"] = map[string]any{"user": []any{"alice"}}
	}
	return p
}

func compileRule(t *testing.T, pattern map[string]any) *rules.Rule {
	t.Helper()
	doc, _ := json.Marshal(map[string]any{"name": "p", "pattern": pattern,
		"targets": []any{map[string]any{"id": "t", "log": map[string]any{}}}})
	rs, err := rules.ParseFile("p.json", doc)
	if err != nil {
		t.Fatalf("pattern %s: %v", doc, err)
	}
	return rs[0]
}

func ruleMatches(t *testing.T, rule *rules.Rule, raw []byte) bool {
	t.Helper()
	var e event.Event
	if err := cejson.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	ok, err := rule.Match(rules.NewEnv(&e))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestNarrowNeverExcludesAMatch is the differential: for random patterns
// over random events, the events the rule matches among the narrowed
// query's candidates are exactly those it matches in a full scan.
func TestNarrowNeverExcludesAMatch(t *testing.T) {
	const nEvents, nPatterns = 400, 300
	rng := rand.New(rand.NewPCG(14, 1))
	recs := make([]index.Record, nEvents)
	for i := range recs {
		e := randomEvent(rng, i)
		raw, err := cejson.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		if recs[i], err = index.FromMessage(uint64(i+1), bus.Subject("default", &e), raw, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	patterns := make([]map[string]any, nPatterns)
	for i := range patterns {
		patterns[i] = randomPattern(rng, 0)
	}
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			ctx := context.Background()
			if err := s.Put(ctx, recs); err != nil {
				t.Fatal(err)
			}
			narrowed := 0
			for _, p := range patterns {
				rule := compileRule(t, p)
				var want []uint64
				for _, r := range recs {
					if ruleMatches(t, rule, r.Event) {
						want = append(want, r.Seq)
					}
				}
				cands, err := s.Search(ctx, index.Narrow(index.Query{Limit: nEvents}, rule))
				if err != nil {
					t.Fatal(err)
				}
				var got []uint64
				for _, r := range cands {
					if ruleMatches(t, rule, r.Event) {
						got = append(got, r.Seq)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					pj, _ := json.Marshal(p)
					t.Fatalf("pattern %s: narrowed search matched %v, full scan %v (conditions %+v)", pj, got, want, rule.Necessary())
				}
				if len(cands) < nEvents {
					narrowed++
				}
			}
			// The property must not hold vacuously: most patterns narrow.
			if narrowed < nPatterns/4 {
				t.Errorf("only %d of %d patterns narrowed the candidates", narrowed, nPatterns)
			}
			t.Logf("%d of %d patterns narrowed the candidates", narrowed, nPatterns)
		})
	}
}

// TestNarrowKeepsFilledKubernetesColumns: a Kubernetes audit event with
// an empty principal (or kind) has the column filled from its data, yet
// the engine matches an exact "" on the attribute; narrowing must keep it.
func TestNarrowKeepsFilledKubernetesColumns(t *testing.T) {
	e := event.New()
	e.SetID("k-1")
	e.SetType("tke:K8sAudit:delete")
	e.SetSource("k8s")
	e.SetTime(t0)
	e.SetExtension("principal", "")
	e.SetExtension("kind", "")
	if err := e.SetData(event.ApplicationJSON, map[string]any{"user": map[string]any{"username": "alice"}}); err != nil {
		t.Fatal(err)
	}
	raw, err := cejson.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := index.FromMessage(1, bus.Subject("default", &e), raw, time.Time{})
	if err != nil || rec.Principal != "alice" || rec.Kind != "K8sAudit" {
		t.Fatalf("record %+v, %v: the columns must be filled from the data for this test to mean anything", rec, err)
	}
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			if err := s.Put(context.Background(), []index.Record{rec}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []map[string]any{{"principal": []any{""}}, {"kind": []any{""}},
				{"principal": []any{"", map[string]any{"prefix": "bo"}}}} {
				rule := compileRule(t, p)
				if !ruleMatches(t, rule, raw) {
					t.Fatalf("pattern %v does not match: the test is wrong", p)
				}
				got, err := s.Search(context.Background(), index.Narrow(index.Query{}, rule))
				if err != nil || len(got) != 1 {
					t.Errorf("pattern %v: %d candidates (%v), want the event", p, len(got), err)
				}
			}
		})
	}
}
