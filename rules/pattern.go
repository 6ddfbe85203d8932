package rules

import (
	"fmt"
	"math"
	"regexp"

	"gopkg.in/yaml.v3"
)

// pattern is the validated form of a rule's EventBridge pattern: clauses
// are ANDed, in the order the author wrote them.
type pattern struct {
	clauses []clause
	pos     partPos // the mapping
}

// clause is one leaf, an $or of alternative sub-patterns, or a group.
type clause struct {
	leaf  *leaf
	or    []*pattern
	group *group
	pos   partPos // the $or key or the group's key
}

// leaf is one addressed field and its matchers, which are ORed. path is
// absolute, from the event, also inside a group.
type leaf struct {
	path     []string
	matchers []matcher
	pos      partPos // the field's key
}

// group is an object pattern with several clauses below a key: as in
// Event Ruler, its clauses must hold within one and the same object
// reached at path (one element, when arrays lie along the path), not
// across different elements of an array of objects. path is absolute.
type group struct {
	path []string
	pat  *pattern
}

type opKind uint8

const (
	opExact opKind = iota
	opPrefix
	opSuffix
	opEqualsIgnoreCase
	opWildcard
	opCIDR
	opNumeric
	opExists
	opPrefixFold // prefix with equals-ignore-case
	opSuffixFold // suffix with equals-ignore-case
)

// matcher is one element of a leaf list. With but set it is an
// anything-but: it holds for a value that does not satisfy the operator.
// String operators hold one text, or several under anything-but (a value
// is then excluded when it satisfies any of them); text is texts[0].
type matcher struct {
	values []any // opExact: string, float64, bool or nil
	text   string
	texts  []string
	bounds []bound
	op     opKind
	but    bool
	exists bool
}

type bound struct {
	op    string
	value float64
}

// maxPatternNodes stops alias-expanded patterns ("billion laughs") from
// costing unbounded time at load.
const maxPatternNodes = 10000

var attributeName = regexp.MustCompile(`^[a-z0-9]+$`)

var stringOps = map[string]opKind{
	"prefix":             opPrefix,
	"suffix":             opSuffix,
	"equals-ignore-case": opEqualsIgnoreCase,
	"wildcard":           opWildcard,
}

// patternParser turns the YAML pattern into a pattern, reporting problems
// through fail so that one bad leaf does not hide the others.
type patternParser struct {
	fail  func(n *yaml.Node, format string, args ...any)
	nodes int
}

func (p *patternParser) parse(n *yaml.Node) *pattern {
	n = deref(n)
	if isNull(n) {
		return &pattern{}
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, "pattern must be a mapping")
		return nil
	}
	return p.object(n, nil)
}

func (p *patternParser) object(n *yaml.Node, path []string) *pattern {
	pat := &pattern{pos: nodePos(n), clauses: make([]clause, 0, len(n.Content)/2)}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := deref(n.Content[i]), deref(n.Content[i+1])
		if first, dup := seen[key.Value]; dup && key.Kind == yaml.ScalarNode {
			// EventBridge reads a pattern as JSON, where a repeated key is
			// at best ambiguous; ANDing both would hide the mistake.
			p.fail(key, "duplicate key %q (first at %d:%d): merge the two into one", key.Value, first.Line, first.Column)
			continue
		}
		seen[key.Value] = key
		if p.nodes++; p.nodes > maxPatternNodes {
			if p.nodes == maxPatternNodes+1 {
				p.fail(key, "pattern has more than %d fields", maxPatternNodes)
			}
			return nil
		}
		if key.Kind != yaml.ScalarNode {
			p.fail(key, "pattern keys must be strings")
			continue
		}
		if key.Value == "$or" {
			if alts := p.or(val, path); alts != nil {
				pat.clauses = append(pat.clauses, clause{or: alts, pos: nodePos(key)})
			}
			continue
		}
		if path == nil && key.Value != "data" && !attributeName.MatchString(key.Value) {
			p.fail(key, "attribute %q: CloudEvents attribute names are lowercase letters and digits", key.Value)
			continue
		}
		pat.clauses = append(pat.clauses, p.field(key, val, append(path[:len(path):len(path)], key.Value))...)
	}
	return pat
}

// field returns the clauses of one pattern key. A nested mapping with one
// clause is flattened into the parent; with several it is a group, whose
// clauses must hold in one object.
func (p *patternParser) field(key, val *yaml.Node, path []string) []clause {
	switch val.Kind {
	case yaml.MappingNode:
		if len(val.Content) == 0 {
			p.fail(val, "field %q: empty object matches nothing", key.Value)
			return nil
		}
		sub := p.object(val, path)
		if sub == nil {
			return nil
		}
		if len(sub.clauses) > 1 {
			return []clause{{group: &group{path: path, pat: sub}, pos: nodePos(key)}}
		}
		return sub.clauses
	case yaml.SequenceNode:
		if l := p.leaf(val, path); l != nil {
			l.pos = nodePos(key)
			return []clause{{leaf: l}}
		}
		return nil
	default:
		p.fail(val, "field %q: value must be a list of matchers or a nested mapping", key.Value)
		return nil
	}
}

func (p *patternParser) or(n *yaml.Node, path []string) []*pattern {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.fail(n, "$or must be a non-empty list of patterns")
		return nil
	}
	alts := make([]*pattern, 0, len(n.Content))
	for _, item := range n.Content {
		item = deref(item)
		if item.Kind != yaml.MappingNode || len(item.Content) == 0 {
			p.fail(item, "$or alternative must be a non-empty mapping")
			return nil
		}
		sub := p.object(item, path)
		if sub == nil {
			return nil
		}
		if len(path) > 0 && len(sub.clauses) > 1 {
			// The alternative's fields must hold in one object too.
			sub = &pattern{clauses: []clause{{group: &group{path: path, pat: sub}, pos: nodePos(item)}}, pos: sub.pos}
		}
		alts = append(alts, sub)
	}
	return alts
}

func (p *patternParser) leaf(n *yaml.Node, path []string) *leaf {
	if len(n.Content) == 0 {
		p.fail(n, "field %q: empty matcher list matches nothing", path[len(path)-1])
		return nil
	}
	l := &leaf{path: path, matchers: make([]matcher, 0, len(n.Content))}
	ok := true
	for _, item := range n.Content {
		m, good := p.matcher(deref(item))
		ok = ok && good
		l.matchers = append(l.matchers, m)
	}
	if !ok {
		return nil
	}
	return l
}

func (p *patternParser) matcher(n *yaml.Node) (matcher, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		v, ok := p.scalar(n)
		return matcher{op: opExact, values: []any{v}}, ok
	case yaml.MappingNode:
		return p.operator(n)
	default:
		p.fail(n, "matcher must be a value or an operator mapping such as {prefix: \"x\"}")
		return matcher{}, false
	}
}

func (p *patternParser) operator(n *yaml.Node) (matcher, bool) {
	if len(n.Content) != 2 {
		if len(n.Content) == 0 {
			p.fail(n, "empty operator mapping")
		} else {
			p.fail(n.Content[2], "matcher mixes operators %q and %q; use one per list element",
				n.Content[0].Value, n.Content[2].Value)
		}
		return matcher{}, false
	}
	key, val := deref(n.Content[0]), deref(n.Content[1])
	if op, ok := stringOps[key.Value]; ok {
		return p.stringOp(op, key, val)
	}
	switch key.Value {
	case "anything-but":
		return p.anythingBut(val)
	case "numeric":
		return p.numeric(val)
	case "exists":
		if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!bool" {
			p.fail(val, "exists takes true or false")
			return matcher{}, false
		}
		return matcher{op: opExists, exists: decodeBool(val)}, true
	case "cidr":
		return p.cidr(val)
	}
	p.fail(key, "unsupported pattern operator %q", key.Value)
	return matcher{}, false
}

func (p *patternParser) stringOp(op opKind, key, val *yaml.Node) (matcher, bool) {
	if val.Kind == yaml.MappingNode && (op == opPrefix || op == opSuffix) {
		// EventBridge's {prefix: {equals-ignore-case: "x"}}.
		if len(val.Content) != 2 || deref(val.Content[0]).Value != "equals-ignore-case" {
			p.fail(val, "%s takes a string or {equals-ignore-case: \"...\"}", key.Value)
			return matcher{}, false
		}
		inner := deref(val.Content[1])
		if inner.Kind != yaml.ScalarNode || inner.ShortTag() != "!!str" {
			p.fail(inner, "%s: equals-ignore-case takes a string", key.Value)
			return matcher{}, false
		}
		fold := map[opKind]opKind{opPrefix: opPrefixFold, opSuffix: opSuffixFold}[op]
		return matcher{op: fold, text: inner.Value, texts: []string{inner.Value}}, true
	}
	if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!str" {
		p.fail(val, "%s takes a string", key.Value)
		return matcher{}, false
	}
	if op == opWildcard {
		if _, err := wildcardRegexp(val.Value); err != nil {
			p.fail(val, "wildcard: %v", err)
			return matcher{}, false
		}
	}
	return matcher{op: op, text: val.Value, texts: []string{val.Value}}, true
}

// butStringOp reads anything-but's {prefix|suffix|equals-ignore-case|
// wildcard: "x"} or the same with a list of strings.
func (p *patternParser) butStringOp(key, val *yaml.Node) (matcher, bool) {
	op := stringOps[key.Value]
	if val.Kind != yaml.SequenceNode {
		m, ok := p.stringOp(op, key, val)
		if ok && (m.op == opPrefixFold || m.op == opSuffixFold) {
			p.fail(val, "anything-but: %s takes a string or a list of strings", key.Value)
			return matcher{}, false
		}
		m.but = true
		return m, ok
	}
	if len(val.Content) == 0 {
		p.fail(val, "anything-but: %s list is empty", key.Value)
		return matcher{}, false
	}
	m := matcher{op: op, but: true}
	for _, item := range val.Content {
		one, ok := p.stringOp(op, key, deref(item))
		if !ok {
			return matcher{}, false
		}
		m.texts = append(m.texts, one.text)
	}
	m.text = m.texts[0]
	return m, true
}

func (p *patternParser) cidr(val *yaml.Node) (matcher, bool) {
	if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!str" {
		p.fail(val, "cidr takes a string such as \"10.0.0.0/8\"")
		return matcher{}, false
	}
	prefix, err := parseCIDR(val.Value)
	if err != nil {
		p.fail(val, "cidr: %v", err)
		return matcher{}, false
	}
	return matcher{op: opCIDR, text: prefix.Masked().String()}, true
}

func (p *patternParser) anythingBut(val *yaml.Node) (matcher, bool) {
	switch val.Kind {
	case yaml.ScalarNode:
		v, ok := p.scalar(val)
		return matcher{op: opExact, but: true, values: []any{v}}, ok
	case yaml.SequenceNode:
		if len(val.Content) == 0 {
			p.fail(val, "anything-but list is empty")
			return matcher{}, false
		}
		m := matcher{op: opExact, but: true}
		for _, item := range val.Content {
			item = deref(item)
			if item.Kind != yaml.ScalarNode {
				p.fail(item, "anything-but list takes plain values")
				return matcher{}, false
			}
			v, ok := p.scalar(item)
			if !ok {
				return matcher{}, false
			}
			m.values = append(m.values, v)
		}
		return m, true
	case yaml.MappingNode:
		if len(val.Content) != 2 {
			return p.operator(val) // an empty or mixed mapping: reported there
		}
		key := deref(val.Content[0])
		if _, ok := stringOps[key.Value]; !ok {
			p.fail(key, "unsupported pattern operator %q inside anything-but", key.Value)
			return matcher{}, false
		}
		return p.butStringOp(key, deref(val.Content[1]))
	}
	p.fail(val, "anything-but takes a value, a list of values or a {prefix|suffix|equals-ignore-case|wildcard} mapping")
	return matcher{}, false
}

var numericOps = map[string]bool{"<": true, "<=": true, "=": true, ">": true, ">=": true}

func (p *patternParser) numeric(val *yaml.Node) (matcher, bool) {
	if val.Kind != yaml.SequenceNode || (len(val.Content) != 2 && len(val.Content) != 4) {
		p.fail(val, "numeric takes one or two [operator, number] pairs, e.g. [\">\", 0, \"<=\", 5]")
		return matcher{}, false
	}
	m := matcher{op: opNumeric}
	for i := 0; i < len(val.Content); i += 2 {
		opNode, numNode := deref(val.Content[i]), deref(val.Content[i+1])
		if opNode.Kind != yaml.ScalarNode || !numericOps[opNode.Value] {
			p.fail(opNode, "numeric operator must be one of <, <=, =, >, >=")
			return matcher{}, false
		}
		f, ok := numberValue(numNode)
		if !ok {
			p.fail(numNode, "numeric bound must be a finite number")
			return matcher{}, false
		}
		m.bounds = append(m.bounds, bound{op: opNode.Value, value: f})
	}
	if err := checkRange(m.bounds); err != nil {
		p.fail(val, "numeric: %v", err)
		return matcher{}, false
	}
	return m, true
}

// checkRange rejects ranges that can never match, which are always author
// mistakes.
func checkRange(bs []bound) error {
	if len(bs) == 1 {
		return nil
	}
	lo, hi := bs[0], bs[1]
	if lo.op[0] != '>' || hi.op[0] != '<' {
		return fmt.Errorf("a two-bound range is a lower bound (> or >=) followed by an upper bound (< or <=)")
	}
	if lo.value > hi.value || (lo.value == hi.value && (lo.op == ">" || hi.op == "<")) {
		return fmt.Errorf("empty range %s %v, %s %v", lo.op, lo.value, hi.op, hi.value)
	}
	return nil
}

// scalar converts a YAML scalar to the value an event's JSON would hold:
// every number becomes float64 so that 0, 0.0 and 0e0 compare equal.
func (p *patternParser) scalar(n *yaml.Node) (any, bool) {
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!bool":
		return decodeBool(n), true
	case "!!int", "!!float":
		f, ok := numberValue(n)
		if !ok {
			p.fail(n, "number %q is not a finite number", n.Value)
		}
		return f, ok
	default:
		return n.Value, true
	}
}

// partPos locates a pattern part for Lint: a line and column of the rule
// file, which a loaded rule set holds many of, so kept small.
type partPos struct{ line, col int32 }

func nodePos(n *yaml.Node) partPos { return partPos{int32(n.Line), int32(n.Column)} }

// position is p as a Position with no file name (Lint's warnings carry
// the rule's own).
func (p partPos) position() Position { return Position{Line: int(p.line), Col: int(p.col)} }

func numberValue(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		return 0, false
	}
	var f float64
	if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func decodeBool(n *yaml.Node) bool {
	var b bool
	return n.Decode(&b) == nil && b
}
