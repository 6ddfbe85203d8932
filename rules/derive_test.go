package rules

import (
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// TestWithTargets: the copy matches and explains as the rule does, runs
// the inputs inputOf names, and leaves the rule as it was.
func TestWithTargets(t *testing.T) {
	rs, err := ParseFile("r.yaml", []byte(`name: r
pattern:
  source: ["HC.CCE"]
condition: 'principal != "robot"'
targets:
  - id: a
    log: {}
    input: '"by " + principal'
`))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	d := r.WithTargets([]Target{{ID: "a-1", Kind: "log"}, {ID: "b", Kind: "log"}}, map[string]string{"a-1": "a", "b": "missing"})
	e := event.New()
	e.SetID("1")
	e.SetSource("HC.CCE")
	e.SetType("t")
	for _, who := range []string{"alice", "robot"} {
		e.SetExtension("principal", who)
		env := NewEnv(&e)
		want, _ := r.Match(env)
		got, err := d.Match(env)
		if err != nil || got != want || d.Explain(env).Matched != want {
			t.Fatalf("%s: copy matched %v (%v), rule %v", who, got, err, want)
		}
	}
	env := NewEnv(&e)
	if v, err := d.Input("a-1", env); err != nil || v != "by robot" {
		t.Errorf("input a-1: %v %v", v, err)
	}
	if d.HasInput("b") || d.HasInput("a") {
		t.Error("inputs the copy should not have")
	}
	if len(r.Targets) != 1 || r.Targets[0].ID != "a" || !r.HasInput("a") {
		t.Error("WithTargets changed the rule")
	}
	if d.Expr() != r.Expr() {
		t.Errorf("expr %q, want %q", d.Expr(), r.Expr())
	}
}
