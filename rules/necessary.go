package rules

import "slices"

// Necessary is a condition on one CloudEvents attribute that every event
// a rule's pattern matches meets: the attribute is a string equal to one
// of Exact or starting with one of Prefixes. It is what a store can
// narrow a search by before the rule engine decides each candidate.
type Necessary struct {
	Attribute string
	Exact     []string
	Prefixes  []string
}

// Necessary returns conditions, to be ANDed, that every event the rule's
// pattern matches meets (the condition, if any, only narrows further).
// Only what is certain is returned: a pattern field whose matchers are
// all positive exact strings or prefixes on a top-level attribute gives
// one; an $or gives one per attribute that every alternative constrains
// (their union). Anything else (numbers, anything-but, suffixes, case
// folding, wildcards, exists, data fields, a prefix "") is left out, so
// the conditions may be weaker than the pattern but never stricter. A
// rule not built by ParseFile, or a pattern with nothing usable, gives
// none.
func (r *Rule) Necessary() []Necessary {
	if r == nil || r.pattern == nil {
		return nil
	}
	return necessary(r.pattern)
}

func necessary(p *pattern) []Necessary {
	var out []Necessary
	for _, c := range p.clauses {
		switch {
		case c.leaf != nil:
			if n, ok := leafNecessary(c.leaf); ok {
				out = append(out, n)
			}
		case c.or != nil:
			out = append(out, orNecessary(c.or)...)
		}
		// A group sits below an attribute (data, in practice): no
		// attribute-level condition follows from it.
	}
	return out
}

// leafNecessary reads a top-level leaf whose matchers (ORed) are all
// positive string exacts or non-empty prefixes.
func leafNecessary(l *leaf) (Necessary, bool) {
	if len(l.path) != 1 || l.path[0] == "data" {
		return Necessary{}, false
	}
	n := Necessary{Attribute: l.path[0]}
	for _, m := range l.matchers {
		switch {
		case m.but:
			return Necessary{}, false
		case m.op == opExact:
			for _, v := range m.values {
				s, ok := v.(string)
				if !ok {
					return Necessary{}, false
				}
				n.Exact = append(n.Exact, s)
			}
		case m.op == opPrefix && m.text != "":
			n.Prefixes = append(n.Prefixes, m.text)
		default:
			return Necessary{}, false
		}
	}
	return n, len(n.Exact)+len(n.Prefixes) > 0
}

// orNecessary keeps, for each attribute every alternative has a condition
// on, the union of the alternatives' conditions on it. An alternative
// with several conditions on the attribute contributes its first (any
// one of them is necessary for it).
func orNecessary(alts []*pattern) []Necessary {
	per := make([][]Necessary, len(alts))
	for i, alt := range alts {
		per[i] = necessary(alt)
	}
	var out []Necessary
	for _, n := range per[0] {
		if slices.ContainsFunc(out, func(o Necessary) bool { return o.Attribute == n.Attribute }) {
			continue
		}
		u := Necessary{Attribute: n.Attribute}
		all := true
		for _, conds := range per {
			i := slices.IndexFunc(conds, func(o Necessary) bool { return o.Attribute == n.Attribute })
			if i < 0 {
				all = false
				break
			}
			u.Exact = append(u.Exact, conds[i].Exact...)
			u.Prefixes = append(u.Prefixes, conds[i].Prefixes...)
		}
		if all {
			out = append(out, u)
		}
	}
	return out
}
