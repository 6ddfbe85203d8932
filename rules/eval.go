package rules

import (
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"
)

// cclause is a pattern clause bound to one Set's field tree: a leaf reads
// the values of node; an $or clause holds its alternatives.
type cclause struct {
	node     int32
	matchers []cmatcher
	or       [][]cclause
}

// cmatcher is a matcher ready to test values without allocating. Its
// semantics are those of matcher.predicate's expr text; the differential
// test holds the two to the same answers.
type cmatcher struct {
	op     opKind
	but    bool
	exists bool
	strs   []string
	nums   []float64
	bools  [2]bool // bools[0]: false is listed, bools[1]: true is listed
	null   bool
	text   string
	glob   glob
	re     *regexp.Regexp // the wildcard's expr regexp, for invalid UTF-8
	cidr   netip.Prefix
	bounds []bound
}

func compileMatcher(m matcher) cmatcher {
	c := cmatcher{op: m.op, but: m.but, exists: m.exists, text: m.text, bounds: m.bounds}
	for _, v := range m.values {
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
	switch m.op {
	case opWildcard:
		c.glob, _ = parseGlob(m.text) // validated at parse
		re, _ := wildcardRegexp(m.text)
		c.re = regexp.MustCompile(re)
	case opCIDR:
		c.cidr, _ = netip.ParsePrefix(m.text) // validated at parse
	}
	return c
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// holds reports whether the matcher accepts a field with these values:
// exists looks at presence; anything-but needs one value it does not
// exclude; every other matcher needs one value it accepts.
func (m *cmatcher) holds(vals []value) bool {
	if m.op == opExists {
		return (len(vals) > 0) == m.exists
	}
	for i := range vals {
		if m.test(&vals[i]) != m.but {
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
		return v.kind == kNumber && inBounds(v.num, m.bounds)
	}
	if v.kind != kString {
		return false
	}
	switch m.op {
	case opPrefix:
		return strings.HasPrefix(v.str, m.text)
	case opSuffix:
		return strings.HasSuffix(v.str, m.text)
	case opEqualsIgnoreCase:
		return strings.EqualFold(v.str, m.text)
	case opWildcard:
		if !utf8.ValidString(v.str) {
			// The glob compares bytes; the reference regexp reads each
			// invalid byte as U+FFFD. Only the slow path yields such values.
			return m.re.MatchString(v.str)
		}
		return m.glob.match(v.str)
	case opCIDR:
		addr, err := netip.ParseAddr(v.str)
		return err == nil && m.cidr.Contains(addr.Unmap())
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

// evalClauses reports whether every clause holds: the rule's pattern.
func evalClauses(cs []cclause, vals [][]value) bool {
	for i := range cs {
		if !evalClause(&cs[i], vals) {
			return false
		}
	}
	return true
}

func evalClause(c *cclause, vals [][]value) bool {
	if c.or != nil {
		for _, alt := range c.or {
			if evalClauses(alt, vals) {
				return true
			}
		}
		return false
	}
	v := vals[c.node]
	for i := range c.matchers {
		if c.matchers[i].holds(v) {
			return true
		}
	}
	return false
}
