package rules

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestGroupLargeArrays holds both matching paths to the reference on
// arrays of 1,000 objects, with the one element that decides at the
// start, the middle and the end: state.within must find an element's
// values wherever it lies. A rule that reads the same paths but passes
// nowhere goes first (anything-but keeps it a candidate), so the rule that
// can pass searches behind where it left off.
func TestGroupLargeArrays(t *testing.T) {
	const n = 1000
	for _, shape := range groupShapes {
		never, r := mustRule(t, strings.Replace(shape.pattern, `"nomatch"]`, `{anything-but: ["y", "z", "nomatch"]}]`, 1), ""), mustRule(t, shape.pattern, "")
		never.Name = "never"
		rs := []*Rule{never, r}
		set, err := Compile(rs)
		if err != nil {
			t.Fatal(err)
		}
		items := n / shape.per
		for _, at := range []int{0, items / 2, items - 1} {
			for _, kind := range []string{"hit", "split"} {
				raw := eventJSON(t, tkeEvent(t, groupData(shape.item, n, shape.per, at, kind)))
				// A duplicate key makes the scanner give up, so the same
				// event also goes through the decoded (walkEnv) path.
				slow := bytes.Replace(raw, []byte(`"items":[`), []byte(`"items":0,"items":[`), 1)
				for path, ev := range map[string][]byte{"scanned": raw, "decoded": slow} {
					t.Run(fmt.Sprintf("%s/at=%d/%s/%s", shape.name, at, kind, path), func(t *testing.T) {
						if scanned := scans(set, ev); scanned != (path == "scanned") {
							t.Fatalf("scanned: %v", scanned)
						}
						matches, _, ok := checkAgainstReference(t, set, rs, ev)
						if want := map[string]int{"hit": 1, "split": 0}[kind]; !ok || matches != want {
							t.Fatalf("matched %d rules (reference read it: %v), want %d", matches, ok, want)
						}
					})
				}
			}
		}
	}
}

// scans reports whether Set.Match reads raw with the scanner alone.
func scans(set *Set, raw []byte) bool {
	x := set.byBus[DefaultBus]
	sc := scanner{buf: raw, st: newState(len(x.tree.nodes), 0)}
	return sc.event(x.tree.root) == nil
}

// TestElementOrder checks what state.within relies on, for the scanner and
// for walkEnv: each path's values are in element order, and the id range
// of an element holds the ranges of the elements inside it.
func TestElementOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	x := newBusIndex(nil)
	for _, p := range diffPaths {
		x.tree.add(p)
	}
	checked := 0
	for i := range 2000 {
		raw := diffEventJSON(rng, i)
		env, err := decodeEnv(raw)
		if err != nil {
			continue
		}
		fast, slow := newState(len(x.tree.nodes), 0), newState(len(x.tree.nodes), 0)
		sc := scanner{buf: raw, st: fast}
		if err := sc.event(x.tree.root); err != nil {
			fast = nil
		}
		for k, c := range x.tree.root.children {
			if v, ok := env[k]; ok {
				walkEnv(slow, c, v)
			}
		}
		for name, st := range map[string]*state{"scanned": fast, "decoded": slow} {
			if st != nil && len(st.elems) > 2 {
				checked++
				if err := elementOrder(st); err != nil {
					t.Fatalf("%s: %v\n%s", name, err, raw)
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d events with nested elements", checked)
	}
}

func elementOrder(st *state) error {
	for id, vals := range st.vals {
		for i := 1; i < len(vals); i++ {
			if vals[i].elem < vals[i-1].elem {
				return fmt.Errorf("node %d: value %d in element %d after element %d", id, i, vals[i].elem, vals[i-1].elem)
			}
		}
	}
	for e := 1; e < len(st.elems); e++ {
		end := st.elems[e].end
		if end <= int32(e) || int(end) > len(st.elems) {
			return fmt.Errorf("element %d: range ends at %d of %d", e, end, len(st.elems))
		}
		for d := int32(e) + 1; d < end; d++ {
			if st.elems[d].end > end {
				return fmt.Errorf("element %d inside %d ends after it (%d > %d)", d, e, st.elems[d].end, end)
			}
		}
	}
	return nil
}
