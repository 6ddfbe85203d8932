package rules

import (
	"strings"
	"testing"
)

// TestPatternErrors pins the load errors of pattern shapes EventBridge
// documents differently or refuses: each points at line:col.
func TestPatternErrors(t *testing.T) {
	cases := []struct{ name, pattern, want string }{
		{"duplicate key", "data:\n    eventName: [\"a\"]\n    eventName: [\"b\"]",
			`t.yaml:5:5: rule "r": duplicate key "eventName" (first at 4:5): merge the two into one`},
		{"duplicate attribute", "type: [\"a\"]\n  type: [{prefix: \"b\"}]",
			`t.yaml:4:3: rule "r": duplicate key "type" (first at 3:3): merge the two into one`},
		{"duplicate in an $or alternative", "$or:\n    - {region: [\"a\"], region: [\"b\"]}",
			`t.yaml:4:23: rule "r": duplicate key "region" (first at 4:8): merge the two into one`},
		{"prefix with another operator inside", `data: {a: [{prefix: {wildcard: "x*"}}]}`,
			`t.yaml:3:23: rule "r": prefix takes a string or {equals-ignore-case: "..."}`},
		{"equals-ignore-case inside prefix takes a string", `data: {a: [{suffix: {equals-ignore-case: 3}}]}`,
			`t.yaml:3:44: rule "r": suffix: equals-ignore-case takes a string`},
		{"anything-but prefix with equals-ignore-case", `data: {a: [{anything-but: {prefix: {equals-ignore-case: "x"}}}]}`,
			`t.yaml:3:38: rule "r": anything-but: prefix takes a string or a list of strings`},
		{"anything-but empty list of prefixes", `data: {a: [{anything-but: {prefix: []}}]}`,
			`t.yaml:3:38: rule "r": anything-but: prefix list is empty`},
		{"anything-but wildcard list with a bad wildcard", `data: {a: [{anything-but: {wildcard: ["a*", "b**"]}}]}`,
			`t.yaml:3:47: rule "r": wildcard: consecutive * are not allowed`},
		{"anything-but suffix list of numbers", `data: {a: [{anything-but: {suffix: ["a", 1]}}]}`,
			`t.yaml:3:44: rule "r": suffix takes a string`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: r\npattern:\n  " + tc.pattern + "\ntargets: [{id: out, log: {}}]\n"
			_, err := ParseFile("t.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant   %s", err, tc.want)
			}
		})
	}
}

// TestDescribeNewMatchers checks that lint messages write the new operator
// forms as an author would.
func TestDescribeNewMatchers(t *testing.T) {
	cases := map[string]string{
		`{prefix: {equals-ignore-case: "De"}}`:             `{prefix: {equals-ignore-case: "De"}}`,
		`{suffix: {equals-ignore-case: "x"}}`:              `{suffix: {equals-ignore-case: "x"}}`,
		`{anything-but: {prefix: ["a", "b"]}}`:             `{anything-but: {prefix: ["a", "b"]}}`,
		`{anything-but: {wildcard: "*a"}}`:                 `{anything-but: {wildcard: "*a"}}`,
		`{anything-but: {equals-ignore-case: ["x", "Y"]}}`: `{anything-but: {equals-ignore-case: ["x", "Y"]}}`,
	}
	for in, want := range cases {
		r := mustRule(t, "data: {a: ["+in+"]}", "")
		if got := describeMatcher(r.pattern.clauses[0].leaf.matchers[0]); got != want {
			t.Errorf("%s: described as %s, want %s", in, got, want)
		}
	}
}
