package rules

import (
	"math"
	"strconv"
	"strings"
)

// source renders the pattern as expr text. The text is what the rule's
// program is compiled from and what Rule.Expr shows, so it favours plain
// expr operators and uses helper functions only where expr has no
// equivalent (path expansion over arrays, type tests, CIDR, case folding).
func (p *pattern) source() string { return p.sourceIn(rootScope) }

// scope is where a clause's text reads its paths from: ctx is the expr
// name of the object (the event, or a group's element), from the number
// of path keys ctx has already read, depth the group nesting.
type scope struct {
	ctx   string
	from  int
	depth int
}

var rootScope = scope{ctx: "$env"}

func (p *pattern) sourceIn(sc scope) string {
	if p == nil || len(p.clauses) == 0 {
		return "true"
	}
	parts := make([]string, len(p.clauses))
	for i, c := range p.clauses {
		parts[i] = c.sourceIn(sc)
	}
	return strings.Join(parts, " && ")
}

// source renders a clause read from the event itself: a leaf inside a
// group then sees the values of every element, which is what Explain
// shows beside the group's own verdict.
func (c clause) source() string { return c.sourceIn(rootScope) }

func (c clause) sourceIn(sc scope) string {
	switch {
	case c.leaf != nil:
		return c.leaf.source(sc)
	case c.group != nil:
		return c.group.source(sc)
	}
	alts := make([]string, len(c.or))
	for i, alt := range c.or {
		alts[i] = alt.sourceIn(sc)
		if len(alt.clauses) > 1 {
			alts[i] = "(" + alts[i] + ")"
		}
	}
	return "(" + strings.Join(alts, " || ") + ")"
}

// source tries the group's clauses on each object its path reaches, one at
// a time; objs yields one empty object when the path reaches none, so
// that {exists: false} clauses can still hold.
func (g *group) source(sc scope) string {
	inner := scope{ctx: "_g" + strconv.Itoa(sc.depth+1), from: len(g.path), depth: sc.depth + 1}
	return "any(" + callSource("objs", sc.ctx, g.path[sc.from:]) + ", let " + inner.ctx + " = #; " +
		g.pat.sourceIn(inner) + ")"
}

// countSources are expr texts counting, over the event, the objects the
// group tries and those on which its clauses all hold: for Explain.
func (g *group) countSources() (objects, passes string) {
	inner := scope{ctx: "_g1", from: len(g.path), depth: 1}
	list := callSource("objs", "$env", g.path)
	return "len(" + list + ")", "count(" + list + ", let _g1 = #; " + g.pat.sourceIn(inner) + ")"
}

// source ORs the leaf's matchers. Positive matchers share one any() over
// the field's values; anything-but and exists need the whole value set.
func (l *leaf) source(sc scope) string {
	values := callSource("at", sc.ctx, l.path[sc.from:])
	var preds, parts []string
	var exact []any
	for _, m := range l.matchers {
		switch {
		case m.op == opExists && m.exists:
			parts = append(parts, "len("+values+") > 0")
		case m.op == opExists:
			parts = append(parts, "len("+values+") == 0")
		case m.but:
			// Anything-but holds when the field exists and some value is not
			// excluded: like every matcher, an array matches if any element
			// does (DESIGN.md), so ["prod", "dev"] passes anything-but "prod".
			parts = append(parts, "any("+values+", !("+m.predicate()+"))")
		case m.op == opExact:
			exact = append(exact, m.values...)
		default:
			preds = append(preds, m.predicate())
		}
	}
	if len(exact) > 0 {
		preds = append([]string{matcher{op: opExact, values: exact}.predicate()}, preds...)
	}
	if len(preds) > 0 {
		parts = append([]string{"any(" + values + ", " + orParens(preds) + ")"}, parts...)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

func orParens(preds []string) string {
	if len(preds) == 1 {
		return preds[0]
	}
	wrapped := make([]string, len(preds))
	for i, p := range preds {
		wrapped[i] = "(" + p + ")"
	}
	return strings.Join(wrapped, " || ")
}

func callSource(fn, ctx string, path []string) string {
	var b strings.Builder
	b.WriteString(fn + "(" + ctx)
	for _, k := range path {
		b.WriteString(", ")
		b.WriteString(strconv.Quote(k))
	}
	b.WriteString(")")
	return b.String()
}

// predicate is the test one value (#) must pass. Type guards come first
// because expr raises errors, not false, on e.g. startsWith over a number.
func (m matcher) predicate() string {
	if len(m.texts) > 1 {
		preds := make([]string, len(m.texts))
		for i, t := range m.texts {
			one := m
			one.text, one.texts = t, nil
			preds[i] = one.predicate()
		}
		return orParens(preds)
	}
	switch m.op {
	case opPrefixFold:
		return "hasPrefixFold(#, " + strconv.Quote(m.text) + ")"
	case opSuffixFold:
		return "hasSuffixFold(#, " + strconv.Quote(m.text) + ")"
	case opPrefix:
		return "isString(#) && # startsWith " + strconv.Quote(m.text)
	case opSuffix:
		return "isString(#) && # endsWith " + strconv.Quote(m.text)
	case opEqualsIgnoreCase:
		return "equalFold(#, " + strconv.Quote(m.text) + ")"
	case opWildcard:
		re, _ := wildcardRegexp(m.text) // validated at parse
		return "isString(#) && # matches " + strconv.Quote(re)
	case opCIDR:
		return "inCIDR(#, " + strconv.Quote(m.text) + ")"
	case opNumeric:
		return numericPredicate(m.bounds)
	default:
		return exactPredicate(m.values)
	}
}

func numericPredicate(bs []bound) string {
	var b strings.Builder
	b.WriteString("isNumber(#)")
	for _, bd := range bs {
		op := bd.op
		if op == "=" {
			op = "=="
		}
		b.WriteString(" && # " + op + " " + literal(bd.value))
	}
	return b.String()
}

// exactPredicate relies on expr's equality, which compares numbers across
// int and float types and never equates a string with a number. An
// all-string list is guarded because expr turns it into a string-keyed map
// lookup that would fail on non-string values.
func exactPredicate(values []any) string {
	if len(values) == 1 {
		return "# == " + literal(values[0])
	}
	lits := make([]string, len(values))
	allStrings := true
	for i, v := range values {
		lits[i] = literal(v)
		_, ok := v.(string)
		allStrings = allStrings && ok
	}
	list := "# in [" + strings.Join(lits, ", ") + "]"
	if allStrings {
		return "isString(#) && " + list
	}
	return list
}

func literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return strconv.Quote(v.(string))
	}
}
