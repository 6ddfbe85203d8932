package rules_test

import (
	"testing"

	"github.com/auditbus/auditbus/rules/rulestest"
)

// TestGeneratedEventsMatchTheirRule checks the benchmark data itself: an
// event built for a rule matches exactly that rule and one built for none
// matches nothing. Otherwise BenchmarkMatchScale would measure the wrong
// thing, whichever matcher runs.
func TestGeneratedEventsMatchTheirRule(t *testing.T) {
	const n = 1000
	set := scaleSet(t, n)
	if set.Len() != n {
		t.Fatalf("%d rules compiled, want %d", set.Len(), n)
	}
	var matching int
	for i, e := range rulestest.Events(n, 400, scaleSeed, 0.5) {
		res, err := set.Match("default", e.Raw)
		if err != nil || len(res.Errors) > 0 {
			t.Fatalf("event %d: %v %v", i, err, res.Errors)
		}
		var got []string
		for _, r := range res.Rules {
			got = append(got, r.Name)
		}
		switch {
		case e.WantRule == "" && len(got) > 0:
			t.Errorf("event %d: want no match, matched %v", i, got)
		case e.WantRule != "" && (len(got) != 1 || got[0] != e.WantRule):
			t.Errorf("event %d: want %s only, matched %v", i, e.WantRule, got)
		}
		if e.WantRule != "" {
			matching++
		}
	}
	if matching != 200 {
		t.Errorf("%d events built to match, want 200", matching)
	}
}
