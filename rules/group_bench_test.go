package rules

import (
	"fmt"
	"testing"
)

// groupShapes are group rules over large arrays. item builds one array
// item: "plain" fails the group, "hit" passes it, "split" has the fields
// the group wants but in different elements. per is how many objects one
// item holds, so that ns/item counts objects.
var groupShapes = []struct {
	name, pattern string
	per           int
	item          func(kind string) any
}{
	{"flat", `data: {items: {a: ["x"], b: ["nomatch"]}}`, 1, func(kind string) any {
		switch kind {
		case "hit":
			return map[string]any{"a": "x", "b": "nomatch"}
		case "split":
			return map[string]any{"b": "nomatch"}
		}
		return map[string]any{"a": "x", "b": "y"}
	}},
	{"nested-group", `data: {items: {a: ["x"], sub: {c: [1], d: ["nomatch"]}}}`, 1, func(kind string) any {
		sub := []any{map[string]any{"c": 1, "d": "y"}}
		switch kind {
		case "hit":
			sub = append(sub, map[string]any{"c": 1, "d": "nomatch"})
		case "split":
			sub = append(sub, map[string]any{"c": 2, "d": "nomatch"})
		}
		return map[string]any{"a": "x", "sub": sub}
	}},
	{"arrays-of-arrays", `data: {items: {a: ["x"], b: ["nomatch"]}}`, 10, func(kind string) any {
		inner := make([]any, 10)
		for i := range inner {
			inner[i] = map[string]any{"a": "x", "b": []any{"y", "z"}}
		}
		switch kind {
		case "hit":
			inner[7] = map[string]any{"a": "x", "b": []any{"y", "nomatch"}}
		case "split":
			inner[7] = map[string]any{"a": "y", "b": []any{"y", "nomatch"}}
		}
		return inner
	}},
}

// groupData is the data of an event with n objects, the item at index at
// (if any) of the given kind and the others plain.
func groupData(item func(string) any, n, per, at int, kind string) map[string]any {
	items := make([]any, n/per)
	for i := range items {
		k := "plain"
		if i == at {
			k = kind
		}
		items[i] = item(k)
	}
	return map[string]any{"items": items}
}

// BenchmarkGroupArraySize matches one group rule against arrays of 100,
// 1,000 and 10,000 objects that all fail it, so each is tried. ns/item
// must stay flat: a group tries each object once, and each object's
// fields are found without scanning the rest of the array.
//
// The baseline is the flat shape's events under one field of the group
// alone, no group: the cost of reading the array, against which the
// group's own cost shows.
func BenchmarkGroupArraySize(b *testing.B) {
	shapes := append(groupShapes[:len(groupShapes):len(groupShapes)], groupShapes[0])
	shapes[len(shapes)-1].name, shapes[len(shapes)-1].pattern = "baseline", `data: {items: {b: ["nomatch"]}}`
	for _, shape := range shapes {
		set := compileOne(b, shape.pattern)
		for _, n := range []int{100, 1000, 10000} {
			raw := eventJSON(b, tkeEvent(b, groupData(shape.item, n, shape.per, -1, "")))
			b.Run(fmt.Sprintf("%s/items=%d", shape.name, n), func(b *testing.B) {
				for b.Loop() {
					res, err := set.Match(DefaultBus, raw)
					if err != nil || len(res.Rules) != 0 || len(res.Errors) != 0 {
						b.Fatalf("matched %d, errors %v %v", len(res.Rules), res.Errors, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/item")
			})
		}
	}
}

func compileOne(t testing.TB, pattern string) *Set {
	t.Helper()
	set, err := Compile([]*Rule{mustRule(t, pattern, "")})
	if err != nil {
		t.Fatal(err)
	}
	return set
}
