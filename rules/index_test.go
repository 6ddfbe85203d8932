package rules

import (
	"testing"

	"github.com/auditbus/auditbus/rules/rulestest"
)

// TestIndexStaysFlat counts, over realistic rules whose data fields form
// groups (array-consistent object patterns), the rules the index makes
// candidates per event: about the one that matches, not a share of the
// rule count, so matching cost does not grow with it.
func TestIndexStaysFlat(t *testing.T) {
	const n, events = 10000, 100
	rs, err := ParseFile("generated.yaml", rulestest.Rules(n, 1))
	if err != nil {
		t.Fatal(err)
	}
	var enabled []*Rule
	groups := 0
	for _, r := range rs {
		if r.Enabled {
			enabled = append(enabled, r)
		}
		for _, c := range r.pattern.clauses {
			if c.group != nil {
				groups++
			}
		}
	}
	if groups < n/2 {
		t.Fatalf("only %d of %d rules have a group: the test would not exercise them", groups, n)
	}
	x := newBusIndex(enabled)
	for _, tc := range []struct {
		ratio float64
		max   float64
	}{{0, 0.1}, {1, 1.1}} {
		total := 0
		for _, e := range rulestest.Events(n, events, 1, tc.ratio) {
			st := x.pool.Get().(*state)
			st.reset()
			if err := x.read(e.Raw, st); err != nil {
				t.Fatal(err)
			}
			x.candidates(st)
			total += len(st.cands) + len(x.always)
			x.pool.Put(st)
		}
		if got := float64(total) / events; got > tc.max {
			t.Errorf("events matching %v rule(s): %.2f candidates per event over %d rules, want at most %v", tc.ratio, got, n, tc.max)
		}
	}
}
