package rules

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"

	"github.com/auditbus/auditbus/rules/rulestest"
)

// TestNodeBound holds nodeBound to expr's own count: the text of every
// rule the tests know (the valid testdata files, generated and random
// rules) parses within a node budget of its bound. A bound that fell
// short could let a rule load that expr refuses when first matched.
func TestNodeBound(t *testing.T) {
	var rs []*Rule
	files, _ := filepath.Glob("testdata/*/*.yaml")
	more, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range append(files, more...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if parsed, err := ParseFile(f, src); err == nil {
			rs = append(rs, parsed...)
		}
	}
	generated, err := ParseFile("generated.yaml", rulestest.Rules(2000, 1))
	if err != nil {
		t.Fatal(err)
	}
	_, random := diffSet(t, rand.New(rand.NewPCG(7, 13)), 3000)
	rs = append(append(rs, generated...), random...)
	if len(rs) < 5000 {
		t.Fatalf("only %d rules to check", len(rs))
	}
	for _, r := range rs {
		bound := r.pattern.nodeBound() + condNodeBound(r.Condition) + 1
		c := conf.CreateNew()
		c.MaxNodes = uint(bound)
		if _, err := parser.ParseWithConfig(r.Expr(), c); err != nil {
			t.Errorf("rule %s (%s): bound %d: %v\n%s", r.Name, r.Pos, bound, err, r.Expr())
		}
	}
}

// TestLoadRefusesOversizedRule: a rule whose joined text exceeds expr's
// node budget is still refused when loaded, not when first matched.
func TestLoadRefusesOversizedRule(t *testing.T) {
	values := make([]string, 6000)
	for i := range values {
		values[i] = fmt.Sprintf("%q", fmt.Sprint("v", i))
	}
	huge := "type: [" + strings.Join(values, ", ") + "]"
	for _, tc := range []struct{ name, pattern, condition string }{
		{"pattern", huge + "\nsource: [" + strings.Join(values, ", ") + "]", ""},
		{"joined", huge, "data.n in [" + strings.Repeat("1, ", 4500) + "1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("big.yaml", []byte(ruleYAML("big", tc.pattern, tc.condition)))
			if err == nil || !strings.Contains(err.Error(), "compile pattern: ") {
				t.Fatalf("got %v, want a compile pattern error", err)
			}
		})
	}
}
