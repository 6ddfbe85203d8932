package rules

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// cclause is a pattern clause bound to one Set's field tree: a leaf reads
// the values of node; an $or clause holds its alternatives in or; a group
// (group set) tries its clauses, or[0], on each object at node.
type cclause struct {
	matchers []cmatcher
	or       [][]cclause
	node     int32
	group    bool
}

// sub is a group's clauses.
func (c *cclause) sub() []cclause { return c.or[0] }

// cmatcher is a matcher ready to test values without allocating. Its
// semantics are those of matcher.predicate's expr text; the differential
// test holds the two to the same answers. What only wildcard, cidr and
// numeric matchers need lies behind more, which keeps the common exact and
// prefix matchers small: a loaded rule set holds hundreds of thousands.
type cmatcher struct {
	op     opKind
	but    bool
	exists bool
	null   bool
	bools  [2]bool // bools[0]: false is listed, bools[1]: true is listed
	strs   []string
	nums   []float64
	texts  []string // the operator's strings (one, or anything-but's list)
	more   *cmatcherMore
}

type cmatcherMore struct {
	globs  []glob
	res    []*regexp.Regexp // the wildcards' expr regexps, for invalid UTF-8
	cidr   netip.Prefix
	bounds []bound
}

func compileMatcher(m matcher) cmatcher {
	c := cmatcher{op: m.op, but: m.but, exists: m.exists, texts: m.texts}
	addExact(&c, m.values)
	switch m.op {
	case opWildcard:
		c.more = &cmatcherMore{}
		for _, t := range m.texts {
			g, _ := parseGlob(t) // validated at parse
			re, _ := wildcardRegexp(t)
			c.more.globs, c.more.res = append(c.more.globs, g), append(c.more.res, regexp.MustCompile(re))
		}
	case opCIDR:
		c.more = &cmatcherMore{}
		c.more.cidr, _ = netip.ParsePrefix(m.text) // validated at parse
	case opNumeric:
		c.more = &cmatcherMore{bounds: m.bounds}
	}
	return c
}

// compileMatchers compiles a leaf's matchers, folding its positive exact
// values into one matcher: they are ORed either way, as in the expr text.
func compileMatchers(ms []matcher) []cmatcher {
	n := 0
	for _, m := range ms {
		if m.op != opExact || m.but {
			n++
		}
	}
	if n < len(ms) {
		n++
	}
	out := make([]cmatcher, 0, n)
	exact := -1
	for _, m := range ms {
		if m.op != opExact || m.but {
			out = append(out, compileMatcher(m))
			continue
		}
		if exact < 0 {
			exact = len(out)
			out = append(out, cmatcher{op: opExact})
		}
		addExact(&out[exact], m.values)
	}
	if exact >= 0 {
		out[exact].strs, out[exact].nums = slices.Clone(out[exact].strs), slices.Clone(out[exact].nums)
	}
	return out
}

func addExact(c *cmatcher, values []any) {
	for _, v := range values {
		switch x := v.(type) {
		case string:
			c.strs = append(c.strs, x)
		case float64:
			c.nums = append(c.nums, x)
		case bool:
			c.bools[boolIndex(x)] = true
		case nil:
			c.null = true
		}
	}
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// holds reports whether the matcher accepts a field with these values
// (those inside the clause's element, see state.within): exists looks at
// presence; anything-but needs one value it does not exclude; every other
// matcher needs one value it accepts.
func (m *cmatcher) holds(vals []value) bool {
	if m.op == opExists {
		for i := range vals {
			if vals[i].kind != kObject {
				return m.exists
			}
		}
		return !m.exists
	}
	for i := range vals {
		v := &vals[i]
		if v.kind != kObject && m.test(v) != m.but {
			return true
		}
	}
	return false
}

func (m *cmatcher) test(v *value) bool {
	switch m.op {
	case opExact:
		return m.exact(v)
	case opNumeric:
		return v.kind == kNumber && inBounds(v.num, m.more.bounds)
	}
	if v.kind != kString {
		return false
	}
	switch m.op {
	case opCIDR:
		addr, ok := parseIP(v.str)
		return ok && m.more.cidr.Contains(addr.Unmap())
	case opWildcard:
		for i := range m.more.globs {
			if m.wildcard(i, v.str) {
				return true
			}
		}
		return false
	}
	for _, t := range m.texts {
		if textTest(m.op, v.str, t) {
			return true
		}
	}
	return false
}

func (m *cmatcher) wildcard(i int, s string) bool {
	if !utf8.ValidString(s) {
		// The glob compares bytes; the reference regexp reads each invalid
		// byte as U+FFFD. Only the slow path yields such values.
		return m.more.res[i].MatchString(s)
	}
	return m.more.globs[i].match(s)
}

func textTest(op opKind, s, t string) bool {
	switch op {
	case opPrefix:
		return strings.HasPrefix(s, t)
	case opSuffix:
		return strings.HasSuffix(s, t)
	case opEqualsIgnoreCase:
		return strings.EqualFold(s, t)
	case opPrefixFold:
		return prefixFold(s, t)
	case opSuffixFold:
		return suffixFold(s, t)
	}
	return false
}

func (m *cmatcher) exact(v *value) bool {
	switch v.kind {
	case kString:
		for _, s := range m.strs {
			if s == v.str {
				return true
			}
		}
	case kNumber:
		for _, n := range m.nums {
			if n == v.num {
				return true
			}
		}
	case kBool:
		return m.bools[boolIndex(v.b)]
	case kNull:
		return m.null
	}
	return false
}

func inBounds(f float64, bs []bound) bool {
	for _, b := range bs {
		var ok bool
		switch b.op {
		case "<":
			ok = f < b.value
		case "<=":
			ok = f <= b.value
		case "=":
			ok = f == b.value
		case ">":
			ok = f > b.value
		case ">=":
			ok = f >= b.value
		}
		if !ok {
			return false
		}
	}
	return true
}

// evalClauses reports whether every clause holds within element ctx (0:
// the whole event): the rule's pattern.
func evalClauses(cs []cclause, st *state, ctx int32) bool {
	for i := range cs {
		if !evalClause(&cs[i], st, ctx) {
			return false
		}
	}
	return true
}

func evalClause(c *cclause, st *state, ctx int32) bool {
	switch {
	case c.group:
		return evalGroup(c, st, ctx)
	case c.or != nil:
		for _, alt := range c.or {
			if evalClauses(alt, st, ctx) {
				return true
			}
		}
		return false
	}
	v := st.within(c.node, ctx)
	for i := range c.matchers {
		if c.matchers[i].holds(v) {
			return true
		}
	}
	return false
}

// evalGroup tries the group's clauses on each object at its path inside
// ctx, as the expr text's objs() does; with no such object, on an empty one.
func evalGroup(c *cclause, st *state, ctx int32) bool {
	found := false
	for _, v := range st.within(c.node, ctx) {
		if v.kind != kObject {
			continue
		}
		found = true
		if evalClauses(c.sub(), st, v.elem) {
			return true
		}
	}
	return !found && evalClauses(c.sub(), st, -1)
}
