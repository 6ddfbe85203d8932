package rules

// The scalars of the YAML subset fastDocument reads (fastyaml.go): plain
// ones whose tag is certain without yaml.v3's resolver, and quoted ones
// that close on their line with at most the escapes \\ \" \n \t (any other
// escape sends the document to yaml.v3).

import (
	"bytes"
	"strings"

	"gopkg.in/yaml.v3"
)

// plainEnd is where a plain scalar starting at at ends: before ": ", a
// final ":", " #" or the end of the line, and in a flow collection also
// before any of ",[]{}".
func plainEnd(line []byte, at int, flow bool) int {
	k := at
	for ; k < len(line); k++ {
		switch c := line[k]; {
		case c == ':' && (k+1 == len(line) || line[k+1] == ' '):
			return k
		case c == '#' && k > at && line[k-1] == ' ':
			return k
		case flow && strings.IndexByte(",[]{}:#", c) >= 0:
			return k
		}
	}
	return k
}

// plain builds the plain scalar line[at:end], trailing spaces trimmed,
// refusing one that YAML would read other than as the text it is.
func (p *fastParser) plain(l fastLine, at, end int) *yaml.Node {
	b := bytes.TrimRight(p.src[at:end], " ")
	if len(b) == 0 || strings.IndexByte("-?:,[]{}#&*!|>'\"%@`", b[0]) >= 0 {
		return nil
	}
	v := p.strs.get(b)
	tag, ok := plainTag(v)
	if !ok {
		return nil
	}
	return p.nodes.new(yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v, Line: l.line + 1, Column: p.column(l, at)})
}

// plainTag is yaml.v3's tag for the plain scalar v, for the values whose
// tag is certain without yaml.v3's own resolver: plain decimal integers
// and fractions, the spellings of true, false and null, and text that
// cannot be any of those.
func plainTag(v string) (string, bool) {
	switch v {
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool", true
	case "~", "null", "Null", "NULL":
		return "!!null", true
	case "<<":
		return "", false
	}
	if c := v[0]; c != '+' && c != '-' && c != '.' && (c < '0' || c > '9') {
		return "!!str", true
	}
	digits, frac := v, ""
	if i := strings.IndexByte(v, '.'); i >= 0 {
		digits, frac = v[:i], v[i+1:]
		if frac == "" || strings.Trim(frac, "0123456789") != "" {
			return "", false
		}
	}
	digits = strings.TrimPrefix(digits, "-")
	if digits == "" || len(digits) > 18 || strings.Trim(digits, "0123456789") != "" || len(digits) > 1 && digits[0] == '0' {
		return "", false
	}
	if frac != "" {
		return "!!float", true
	}
	return "!!int", true
}

// quoted parses a quoted scalar that closes on its line, returning it and
// the offset past its closing quote.
func (p *fastParser) quoted(l fastLine, at int) (*yaml.Node, int) {
	line := p.src[:l.end]
	q := line[at]
	style := yaml.SingleQuotedStyle
	if q == '"' {
		style = yaml.DoubleQuotedStyle
	}
	if k := bytes.IndexByte(line[at+1:], q); k >= 0 && bytes.IndexByte(line[at+1:at+1+k], '\\') < 0 &&
		(at+2+k == len(line) || line[at+2+k] != '\'') {
		return p.nodes.new(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: p.strs.get(line[at+1 : at+1+k]),
			Line: l.line + 1, Column: p.column(l, at)}), at + 2 + k
	}
	var b strings.Builder
	for k := at + 1; k < len(line); k++ {
		c := line[k]
		switch {
		case c == q && q == '\'' && k+1 < len(line) && line[k+1] == '\'':
			b.WriteByte('\'')
			k++
		case c == q:
			return p.nodes.new(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: b.String(),
				Line: l.line + 1, Column: p.column(l, at)}), k + 1
		case c == '\\' && q == '"':
			if k+1 >= len(line) {
				return nil, 0
			}
			k++
			e := strings.IndexByte(`\"nt`, line[k])
			if e < 0 {
				return nil, 0
			}
			b.WriteByte("\\\"\n\t"[e])
		default:
			b.WriteByte(c)
		}
	}
	return nil, 0
}
