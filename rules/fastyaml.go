package rules

import (
	"bytes"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// yaml.v3 spends ~35 µs of CPU on a typical rule document, most of all
// loading costs at 100,000 rules. Rule files mostly use a small part of
// YAML: block mappings and sequences indented with spaces, one-line flow
// collections, one-line plain and quoted scalars, comments. fastDocument
// builds the yaml.v3 nodes of such a document itself, with yaml.v3's
// kinds, tags, styles, values and positions, and refuses anything else
// (anchors, aliases, tags, block scalars, multi-line scalars and flow
// collections, complex keys, tabs, control characters, escapes other
// than \\ \" \n \t, numbers other than plain decimals), which
// yaml.v3 then decodes as before. It never reports an error of its own:
// every error still comes from yaml.v3, with yaml.v3's message and line.
// Comments are dropped; nothing that loads rules reads them.

// fastLine is one line of a document: src[start:end], its indentation
// and the line's number in the file (0-based).
type fastLine struct {
	start, end, indent, line int
	ascii                    bool
}

// fastParser parses the lines of one document. A method that meets
// anything outside the subset sets failed and returns nil; the caller
// then throws the document's nodes away.
type fastParser struct {
	src    []byte
	lines  []fastLine
	i      int // the current line
	failed bool
	strs   interner
	nodes  *nodeArena
}

// nodeArena hands out the nodes of a chunk's documents from blocks, one
// allocation per nodeBlock nodes instead of one per node. A block stays
// alive while any node of it is referenced: nothing a loaded rule keeps
// may point into one (target settings are copied out, see cloneNode).
type nodeArena struct{ block []yaml.Node }

const nodeBlock = 256

// reset hands the current block out again, from its start: the nodes
// given out so far must all be dead.
func (a *nodeArena) reset() { a.block = a.block[:0] }

func (a *nodeArena) new(n yaml.Node) *yaml.Node {
	if len(a.block) == cap(a.block) {
		a.block = make([]yaml.Node, 0, nodeBlock)
	}
	a.block = append(a.block, n)
	return &a.block[len(a.block)-1]
}

// interner shares the text of short scalars among the documents of a
// chunk: keys and common values repeat in every rule, and a rule keeps
// many of them (paths, target kinds).
type interner map[string]string

// maxInterned bounds an interner, so that a chunk of unique values does
// not grow it without end.
const maxInterned = 4096

func (in interner) get(b []byte) string {
	if len(b) > 32 {
		return string(b)
	}
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < maxInterned {
		in[s] = s
	}
	return s
}

// fastDocument parses src (one document, which starts at 0-based line
// base of the file) into its document node, or reports false.
func fastDocument(src []byte, base int, strs interner, nodes *nodeArena) (*yaml.Node, bool) {
	p := &fastParser{src: src, strs: strs, nodes: nodes}
	explicit, ok := p.split(base)
	if !ok || len(p.lines) == 0 {
		return nil, false
	}
	first := p.lines[0]
	root := p.block(first.indent)
	if p.failed || root == nil || p.i != len(p.lines) {
		return nil, false
	}
	doc := p.nodes.new(yaml.Node{Kind: yaml.DocumentNode, Line: root.Line, Column: root.Column, Content: []*yaml.Node{root}})
	if explicit >= 0 {
		doc.Line, doc.Column = explicit+1, 1
	}
	return doc, true
}

// split cuts src into its content lines, leaving out blank and comment
// lines and an opening "---" line, whose line it returns (-1 if none).
// It refuses characters YAML treats specially or that would make the
// subset's reading of a line differ from YAML's.
func (p *fastParser) split(base int) (explicit int, ok bool) {
	explicit = -1
	if !utf8.Valid(p.src) {
		return -1, false
	}
	p.lines = make([]fastLine, 0, bytes.Count(p.src, []byte{'\n'})+1)
	for start, n := 0, base; start < len(p.src); n++ {
		end := bytes.IndexByte(p.src[start:], '\n')
		if end < 0 {
			end = len(p.src)
		} else {
			end += start
		}
		l := fastLine{start: start, end: end, line: n, ascii: true}
		start = end + 1
		for k := l.start; k < l.end; k++ {
			c := p.src[k]
			if c < 0x20 || c == 0x7f || c == '\t' {
				return -1, false
			}
			if c >= 0x80 {
				l.ascii = false
			}
		}
		if !l.ascii && !printable(p.src[l.start:l.end]) {
			return -1, false
		}
		for l.indent = 0; l.start+l.indent < l.end && p.src[l.start+l.indent] == ' '; l.indent++ {
		}
		text := p.src[l.start+l.indent : l.end]
		switch {
		case len(text) == 0 || text[0] == '#':
			continue
		case l.indent == 0 && (bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("..."))):
			if string(bytes.TrimRight(text, " ")) != "---" || len(p.lines) > 0 || explicit >= 0 {
				return -1, false
			}
			explicit = n
			continue
		case l.indent == 0 && text[0] == '%':
			return -1, false
		}
		p.lines = append(p.lines, l)
	}
	return explicit, true
}

// printable reports whether every non-ASCII rune of b is one yaml.v3
// reads as ordinary text.
func printable(b []byte) bool {
	for _, r := range string(b) {
		if r >= 0x80 && (r < 0xa0 || r == 0xfeff || r == 0x2028 || r == 0x2029 || r >= 0xfffe && r <= 0xffff) {
			return false
		}
	}
	return true
}

func (p *fastParser) fail() *yaml.Node {
	p.failed = true
	return nil
}

// column is yaml.v3's column (1-based, in runes) of byte off of line l.
func (p *fastParser) column(l fastLine, off int) int {
	if l.ascii {
		return off - l.start + 1
	}
	return utf8.RuneCount(p.src[l.start:off]) + 1
}

// block parses the block node whose first line is the current one,
// indented by indent (which may be past the line's own indentation, for
// the node after "- ").
func (p *fastParser) block(indent int) *yaml.Node {
	if p.i >= len(p.lines) {
		return p.fail()
	}
	l := p.lines[p.i]
	at := l.start + indent
	if isDash(p.src[at:l.end]) {
		return p.sequence(indent)
	}
	return p.mapping(indent)
}

func isDash(text []byte) bool {
	return len(text) > 0 && text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}

// sequence parses "- item" lines at indent.
func (p *fastParser) sequence(indent int) *yaml.Node {
	l := p.lines[p.i]
	n := p.nodes.new(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: l.line + 1, Column: p.column(l, l.start+indent)})
	for !p.failed && p.i < len(p.lines) {
		l = p.lines[p.i]
		if l.indent != indent && !(len(n.Content) == 0) {
			break
		}
		at := l.start + indent
		if !isDash(p.src[at:l.end]) {
			break
		}
		rest := at + 1
		for rest < l.end && p.src[rest] == ' ' {
			rest++
		}
		var item *yaml.Node
		if rest == l.end || p.src[rest] == '#' {
			p.i++
			if p.i >= len(p.lines) || p.lines[p.i].indent <= indent {
				return p.fail() // an empty item is null: left to yaml.v3
			}
			item = p.block(p.lines[p.i].indent)
		} else {
			item = p.inlineOrBlock(l, rest)
		}
		n.Content = append(n.Content, item)
		if p.i < len(p.lines) && p.lines[p.i].indent > indent {
			return p.fail()
		}
	}
	return n
}

// inlineOrBlock parses what follows "- " at byte at of line l: a mapping
// whose first key is there, or a node that ends on this line.
func (p *fastParser) inlineOrBlock(l fastLine, at int) *yaml.Node {
	if isDash(p.src[at:l.end]) {
		return p.sequence(at - l.start)
	}
	if _, colon := p.key(l, at); colon > 0 {
		return p.mapping(at - l.start)
	}
	v := p.inline(l, at)
	p.i++
	return v
}

// mapping parses "key: value" entries at indent.
func (p *fastParser) mapping(indent int) *yaml.Node {
	l := p.lines[p.i]
	n := p.nodes.new(yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: l.line + 1, Column: p.column(l, l.start+indent)})
	for first := true; !p.failed && p.i < len(p.lines); first = false {
		l = p.lines[p.i]
		if !first && l.indent != indent {
			break
		}
		at := l.start + indent
		if isDash(p.src[at:l.end]) {
			if first {
				return p.fail()
			}
			break
		}
		key, colon := p.key(l, at)
		if key == nil {
			return p.fail()
		}
		n.Content = append(n.Content, key, p.value(l, colon+1, indent))
		if p.i < len(p.lines) && p.lines[p.i].indent > indent {
			return p.fail()
		}
	}
	return n
}

// value parses the value of a key whose colon ends at byte after: on the
// same line, or the block below (a sequence may start at the key's own
// indentation).
func (p *fastParser) value(l fastLine, after, indent int) *yaml.Node {
	at := after
	for at < l.end && p.src[at] == ' ' {
		at++
	}
	if at < l.end && p.src[at] != '#' {
		if at == after {
			return p.fail()
		}
		v := p.inline(l, at)
		p.i++
		return v
	}
	p.i++
	if p.i >= len(p.lines) {
		return p.fail()
	}
	next := p.lines[p.i]
	switch {
	case next.indent > indent:
		return p.block(next.indent)
	case next.indent == indent && isDash(p.src[next.start+indent:next.end]):
		return p.sequence(indent)
	}
	return p.fail() // an empty value is null: left to yaml.v3
}

// key parses a mapping key at byte at of line l and returns it with the
// offset of its colon, or nil and -1 when there is no key there.
func (p *fastParser) key(l fastLine, at int) (*yaml.Node, int) {
	line := p.src[:l.end]
	var k *yaml.Node
	end := at
	switch c := line[at]; c {
	case '"', '\'':
		k, end = p.quoted(l, at)
		if k == nil {
			return nil, -1
		}
	default:
		end = plainEnd(line, at, false)
		if end <= at || end >= len(line) || line[end] != ':' {
			return nil, -1
		}
		k = p.plain(l, at, end)
		if k == nil {
			return nil, -1
		}
	}
	if end >= len(line) || line[end] != ':' || end+1 < len(line) && line[end+1] != ' ' {
		return nil, -1
	}
	return k, end
}

// inline parses a node that starts at byte at of line l and ends on it,
// followed only by spaces or a comment.
func (p *fastParser) inline(l fastLine, at int) *yaml.Node {
	line := p.src[:l.end]
	var n *yaml.Node
	var end int
	switch line[at] {
	case '[', '{':
		n, end = p.flow(l, at)
	case '"', '\'':
		n, end = p.quoted(l, at)
	default:
		end = plainEnd(line, at, false)
		if end < len(line) && line[end] == ':' {
			return p.fail() // "a: b: c", or a key where a value belongs
		}
		n = p.plain(l, at, end)
	}
	if n == nil || !p.lineEnds(line, end) {
		return p.fail()
	}
	return n
}

// lineEnds reports whether line holds only spaces or a comment from end.
func (p *fastParser) lineEnds(line []byte, end int) bool {
	k := end
	for k < len(line) && line[k] == ' ' {
		k++
	}
	return k == len(line) || line[k] == '#' && line[k-1] == ' '
}

// flow parses a flow sequence or mapping that closes on the same line,
// returning it and the offset past its closing bracket.
func (p *fastParser) flow(l fastLine, at int) (*yaml.Node, int) {
	line := p.src[:l.end]
	n := p.nodes.new(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Line: l.line + 1, Column: p.column(l, at)})
	closer := byte(']')
	if line[at] == '{' {
		n.Kind, n.Tag, closer = yaml.MappingNode, "!!map", '}'
	}
	k := skipSpaces(line, at+1)
	if k < len(line) && line[k] == closer {
		return n, k + 1
	}
	for k < len(line) {
		if n.Kind == yaml.MappingNode {
			key, end := p.flowNode(l, k)
			if key == nil || key.Kind != yaml.ScalarNode || end >= len(line) || line[end] != ':' ||
				end+1 >= len(line) || line[end+1] != ' ' {
				return nil, 0
			}
			n.Content = append(n.Content, key)
			k = skipSpaces(line, end+1)
		}
		v, end := p.flowNode(l, k)
		if v == nil {
			return nil, 0
		}
		n.Content = append(n.Content, v)
		k = skipSpaces(line, end)
		switch {
		case k < len(line) && line[k] == closer:
			return n, k + 1
		case k < len(line) && line[k] == ',':
			k = skipSpaces(line, k+1)
			if k < len(line) && (line[k] == ']' || line[k] == '}' || line[k] == ',') {
				return nil, 0
			}
		default:
			return nil, 0
		}
	}
	return nil, 0
}

func skipSpaces(line []byte, k int) int {
	for k < len(line) && line[k] == ' ' {
		k++
	}
	return k
}

// flowNode parses one entry of a flow collection at byte at.
func (p *fastParser) flowNode(l fastLine, at int) (*yaml.Node, int) {
	line := p.src[:l.end]
	if at >= len(line) {
		return nil, 0
	}
	switch line[at] {
	case '[', '{':
		return p.flow(l, at)
	case '"', '\'':
		return p.quoted(l, at)
	}
	end := plainEnd(line, at, true)
	if end < len(line) && line[end] == ':' && (end+1 >= len(line) || line[end+1] != ' ') {
		return nil, 0
	}
	return p.plain(l, at, end), end
}
