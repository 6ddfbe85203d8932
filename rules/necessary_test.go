package rules

import (
	"reflect"
	"testing"
)

func TestNecessary(t *testing.T) {
	for _, tt := range []struct {
		name, pattern string
		want          []Necessary
	}{
		{"exact strings", `type: ["a", "b"]`, []Necessary{{Attribute: "type", Exact: []string{"a", "b"}}}},
		{"exact and prefix", `source: ["x", {prefix: "cts/"}]`, []Necessary{{Attribute: "source", Exact: []string{"x"}, Prefixes: []string{"cts/"}}}},
		{"several attributes", "principal: [alice]\nsubject: [{prefix: ns/}]",
			[]Necessary{{Attribute: "principal", Exact: []string{"alice"}}, {Attribute: "subject", Prefixes: []string{"ns/"}}}},
		{"a number drops the field", `code: ["403", 403]`, nil},
		{"null drops the field", `region: ["r", null]`, nil},
		{"anything-but", `type: [{anything-but: a}]`, nil},
		{"suffix", `type: [{suffix: a}]`, nil},
		{"ignore case", `type: [{equals-ignore-case: a}]`, nil},
		{"prefix ignore case", `type: [{prefix: {equals-ignore-case: a}}]`, nil},
		{"wildcard", `type: [{wildcard: "a*"}]`, nil},
		{"exists", `principal: [{exists: true}]`, nil},
		{"empty prefix", `type: [{prefix: ""}, a]`, nil},
		{"data field", "data:\n  user: [alice]", nil},
		{"data group", "data:\n  user: [alice]\n  verb: [delete]", nil},
		{"one bad field leaves the others", "type: [a]\nsource: [{suffix: x}]", []Necessary{{Attribute: "type", Exact: []string{"a"}}}},
		{"or on one attribute", "$or:\n  - type: [a]\n  - type: [{prefix: b}]\n    source: [s]",
			[]Necessary{{Attribute: "type", Exact: []string{"a"}, Prefixes: []string{"b"}}}},
		{"or with an unconstrained alternative", "$or:\n  - type: [a]\n  - source: [s]", nil},
		{"or beside a field", "principal: [p]\n$or:\n  - type: [a]\n  - type: [b]",
			[]Necessary{{Attribute: "principal", Exact: []string{"p"}}, {Attribute: "type", Exact: []string{"a", "b"}}}},
		{"or in data", "data:\n  $or:\n    - user: [a]\n    - verb: [b]", nil},
		{"no pattern", "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRule(t, tt.pattern, "").Necessary()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Necessary() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
