package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// valueKinds is a set of JSON value kinds, for reasoning about which values a
// matcher can accept and an attribute can hold.
type valueKinds uint8

const (
	vkString valueKinds = 1 << iota
	vkNumber
	vkBool
	vkNull
	vkAny = vkString | vkNumber | vkBool | vkNull
)

func lintKindOf(v any) valueKinds {
	switch v.(type) {
	case string:
		return vkString
	case float64:
		return vkNumber
	case bool:
		return vkBool
	default:
		return vkNull
	}
}

// attrFacts is what an event auditbus accepted can hold in one CloudEvents
// attribute (router/ingest enforces it): context attributes are strings,
// extensions strings, booleans or integers, and specversion is "1.0".
type attrFacts struct {
	required bool
	kinds    valueKinds
	only     any // the one possible value, or nil
}

func attributeFacts(name string) attrFacts {
	switch name {
	case "specversion":
		return attrFacts{required: true, kinds: vkString, only: "1.0"}
	case "id", "source", "type":
		return attrFacts{required: true, kinds: vkString}
	case "subject", "datacontenttype", "dataschema", "time":
		return attrFacts{kinds: vkString}
	default:
		return attrFacts{kinds: vkString | vkNumber | vkBool}
	}
}

// attributeField reports whether lf addresses a field below a CloudEvents
// attribute other than data, naming the attribute.
func attributeField(lf *leaf) (string, bool) {
	return lf.path[0], len(lf.path) > 1 && lf.path[0] != "data"
}

// satisfiable reports whether one value of the attribute (or its absence)
// can satisfy every leaf of ls. It answers false only when it has proof:
// a leaf accepting a finite set of values none of which passes the other
// leaves, disjoint value kinds, or prefixes or suffixes that exclude each
// other.
func (a attrFacts) satisfiable(ls []*leaf) bool {
	if !a.required && everyLeaf(ls, allowsAbsence) {
		return true
	}
	if cands, finite := a.candidates(ls); finite {
		for _, v := range cands {
			if a.kinds&lintKindOf(v) != 0 && everyLeaf(ls, func(lf *leaf) bool { return lf.lintAccepts(v) }) {
				return true
			}
		}
		return false
	}
	k := a.kinds
	for _, lf := range ls {
		k &= lf.lintKinds()
	}
	return k != 0 && !affixesClash(ls, strings.HasPrefix, opPrefix) && !affixesClash(ls, strings.HasSuffix, opSuffix)
}

// candidates returns every present value the attribute could satisfy ls
// with, when that set is finite: its only value, or the exact values of
// the leaf that lists the fewest.
func (a attrFacts) candidates(ls []*leaf) ([]any, bool) {
	if a.only != nil {
		return []any{a.only}, true
	}
	var best []any
	found := false
	for _, lf := range ls {
		vals, ok := lf.lintExactValues()
		if ok && (!found || len(vals) < len(best)) {
			best, found = vals, true
		}
	}
	return best, found
}

// whyNot explains why lf alone can never match attribute name.
func (a attrFacts) whyNot(name string, lf *leaf) string {
	switch {
	case a.required && requiresAbsence(lf):
		return fmt.Sprintf("%s is a required CloudEvents attribute, present in every event", name)
	case a.only != nil:
		return fmt.Sprintf("%s is always %q (auditbus accepts CloudEvents 1.0 only)", name, a.only)
	case a.kinds == vkString:
		return fmt.Sprintf("%s is always a string", name)
	default:
		return fmt.Sprintf("%s is an extension attribute, always a string, boolean or integer", name)
	}
}

// affixesClash finds two leaves made only of prefix (or suffix) matchers
// that no single string can satisfy together: none of one leaf's affixes
// extends one of the other's.
func affixesClash(ls []*leaf, has func(s, affix string) bool, op opKind) bool {
	var sets [][]string
	for _, lf := range ls {
		var set []string
		for _, m := range lf.matchers {
			if m.op != op || m.but {
				set = nil
				break
			}
			set = append(set, m.text)
		}
		if set != nil {
			sets = append(sets, set)
		}
	}
	for i := range sets {
		for j := i + 1; j < len(sets); j++ {
			if !anyPairOf(sets[i], sets[j], func(x, y string) bool { return has(x, y) || has(y, x) }) {
				return true
			}
		}
	}
	return false
}

func anyPairOf(xs, ys []string, ok func(x, y string) bool) bool {
	for _, x := range xs {
		for _, y := range ys {
			if ok(x, y) {
				return true
			}
		}
	}
	return false
}

func everyLeaf(ls []*leaf, ok func(*leaf) bool) bool {
	for _, lf := range ls {
		if !ok(lf) {
			return false
		}
	}
	return true
}

// allowsAbsence: a missing field matches only {exists: false}.
func allowsAbsence(lf *leaf) bool {
	for _, m := range lf.matchers {
		if m.op == opExists && !m.exists {
			return true
		}
	}
	return false
}

// requiresPresence: every matcher but {exists: false} needs a value.
func requiresPresence(lf *leaf) bool { return !allowsAbsence(lf) }

// requiresAbsence: the leaf holds only when the field is missing.
func requiresAbsence(lf *leaf) bool {
	for _, m := range lf.matchers {
		if m.op != opExists || m.exists {
			return false
		}
	}
	return true
}

// lintExactValues lists the values the leaf accepts when the field is
// present, if it is a finite list (plain values, perhaps with
// {exists: false}, which accepts no present value).
func (lf *leaf) lintExactValues() ([]any, bool) {
	var vals []any
	for _, m := range lf.matchers {
		switch {
		case m.op == opExact && !m.but:
			vals = append(vals, m.values...)
		case m.op == opExists && !m.exists:
		default:
			return nil, false
		}
	}
	return vals, true
}

// lintKinds is the set of value kinds some matcher of the leaf can accept.
func (lf *leaf) lintKinds() valueKinds {
	var k valueKinds
	for _, m := range lf.matchers {
		k |= m.lintKinds()
	}
	return k
}

func (m matcher) lintKinds() valueKinds {
	switch {
	case m.but:
		return vkAny // anything-but never excludes a value of another kind
	case m.op == opExists && m.exists:
		return vkAny
	case m.op == opExists:
		return 0
	case m.op == opNumeric:
		return vkNumber
	case m.op == opExact:
		var k valueKinds
		for _, v := range m.values {
			k |= lintKindOf(v)
		}
		return k
	default:
		return vkString
	}
}

// lintAccepts reports whether a field holding the single value v satisfies the
// leaf. v is a pattern value: string, float64, bool or nil.
func (lf *leaf) lintAccepts(v any) bool {
	for _, m := range lf.matchers {
		if m.lintAccepts(v) {
			return true
		}
	}
	return false
}

// lintAccepts asks the matcher engine itself, so that Lint and matching
// can never disagree on what a value satisfies.
func (m matcher) lintAccepts(v any) bool {
	c := compileMatcher(m)
	return c.holds([]value{envValue(v)})
}

// describeMatcher renders a matcher as the YAML an author writes.
func describeMatcher(m matcher) string {
	var s string
	switch m.op {
	case opExact:
		vals := make([]string, len(m.values))
		for i, v := range m.values {
			vals[i] = lintYAMLValue(v)
		}
		s = strings.Join(vals, ", ")
		if m.but && len(vals) > 1 {
			s = "[" + s + "]"
		}
	case opNumeric:
		parts := make([]string, 0, 2*len(m.bounds))
		for _, b := range m.bounds {
			parts = append(parts, strconv.Quote(b.op), lintYAMLValue(b.value))
		}
		s = "{numeric: [" + strings.Join(parts, ", ") + "]}"
	case opExists:
		s = fmt.Sprintf("{exists: %v}", m.exists)
	case opPrefixFold, opSuffixFold:
		s = fmt.Sprintf("{%s: {equals-ignore-case: %q}}", map[opKind]string{opPrefixFold: "prefix", opSuffixFold: "suffix"}[m.op], m.text)
	default:
		s = fmt.Sprintf("{%s: %q}", lintOpName(m.op), m.text)
		if len(m.texts) > 1 {
			quoted := make([]string, len(m.texts))
			for i, t := range m.texts {
				quoted[i] = strconv.Quote(t)
			}
			s = fmt.Sprintf("{%s: [%s]}", lintOpName(m.op), strings.Join(quoted, ", "))
		}
	}
	if m.but {
		return "{anything-but: " + s + "}"
	}
	return s
}

func lintOpName(op opKind) string {
	if op == opCIDR {
		return "cidr"
	}
	for name, k := range stringOps {
		if k == op {
			return name
		}
	}
	return "operator"
}

func lintYAMLValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}
