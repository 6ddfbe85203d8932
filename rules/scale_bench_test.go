package rules_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/rules/rulestest"
)

// scaleSeed fixes the generated rules and events, so figures from
// different runs and matcher versions compare like with like.
const scaleSeed = 1

// scaleSizes are the rule counts of issue #4: matching must stay flat
// from 10 to 10,000 realistic rules; and of issue #13: 100,000.
var scaleSizes = []int{10, 1000, 10000, 100000}

// referenceSizes stop at 10,000 rules: the linear reference takes tens of
// milliseconds per event there already.
var referenceSizes = []int{10, 1000, 10000}

// scaleEvents is how many distinct events each benchmark cycles through:
// enough to spread over products and rules, few enough to stay in cache
// as a router's hot path would.
const scaleEvents = 100

// BenchmarkMatchScale measures Set.Match on ~2 KB CloudAudit events
// against 10, 1,000, 10,000 and 100,000 generated rules: events that match nothing
// (most of the traffic: zero allocations is the goal) and events that
// match exactly one rule.
func BenchmarkMatchScale(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			set := scaleSet(b, n)
			for _, kind := range []string{"nomatch", "match"} {
				evs, want := scaleBatch(n, kind)
				b.Run("event="+kind, func(b *testing.B) {
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						res, err := set.Match("default", evs[i])
						if err != nil || len(res.Rules) != want || len(res.Errors) != 0 {
							b.Fatalf("event %d: matched %d rules, want %d; errors %v %v", i, len(res.Rules), want, res.Errors, err)
						}
						if i++; i == len(evs) {
							i = 0
						}
					}
				})
			}
		})
	}
}

// BenchmarkMatchScaleReference is matching as the router did before the
// index (issue #4): decode the event, build its Env, run every rule's
// program. It is the baseline BenchmarkMatchScale is judged against.
func BenchmarkMatchScaleReference(b *testing.B) {
	for _, n := range referenceSizes {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			all := scaleSet(b, n).Rules()
			for _, kind := range []string{"nomatch", "match"} {
				evs, want := scaleBatch(n, kind)
				b.Run("event="+kind, func(b *testing.B) {
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						if got := referenceMatch(b, all, evs[i]); got != want {
							b.Fatalf("event %d: matched %d rules, want %d", i, got, want)
						}
						if i++; i == len(evs) {
							i = 0
						}
					}
				})
			}
		})
	}
}

// referenceMatch counts the rules of the default bus that raw matches, the
// linear way. Runtime errors fail the benchmark: generated rules have none.
func referenceMatch(b *testing.B, all []*rules.Rule, raw []byte) int {
	var e event.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		b.Fatal(err)
	}
	env := rules.NewEnv(&e)
	n := 0
	for _, r := range all {
		if !r.Enabled || r.Bus != "default" {
			continue
		}
		ok, err := r.Match(env)
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			n++
		}
	}
	return n
}

// scaleSets caches compiled sets across sub-benchmarks and -count runs:
// parsing and compiling 10,000 rules takes seconds, and is not what is
// being measured.
var scaleSets struct {
	sync.Mutex
	m map[int]*rules.Set
}

func scaleSet(b testing.TB, n int) *rules.Set {
	b.Helper()
	scaleSets.Lock()
	defer scaleSets.Unlock()
	if set, ok := scaleSets.m[n]; ok {
		return set
	}
	parsed, err := rules.ParseFile(fmt.Sprintf("generated-%d.yaml", n), rulestest.Rules(n, scaleSeed))
	if err != nil {
		b.Fatal(err)
	}
	set, err := rules.Compile(parsed)
	if err != nil {
		b.Fatal(err)
	}
	if scaleSets.m == nil {
		scaleSets.m = map[int]*rules.Set{}
	}
	scaleSets.m[n] = set
	return set
}

// scaleBatch returns the events of one kind for n rules and how many rules
// each matches.
func scaleBatch(n int, kind string) ([][]byte, int) {
	ratio, want := 0.0, 0
	if kind == "match" {
		ratio, want = 1, 1
	}
	evs := rulestest.Events(n, scaleEvents, scaleSeed, ratio)
	raws := make([][]byte, len(evs))
	for i, e := range evs {
		raws[i] = e.Raw
	}
	return raws, want
}
