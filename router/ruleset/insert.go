package ruleset

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/rules"
)

// insertFields adds fields to the top of mapping root in doc, leaving the
// rest of the text as it was, so the stored document is the one submitted
// and every error position can be mapped back to it: back turns a position
// in the result into one in doc (a position inside the added text becomes
// the insertion point). Values must be plain names (nameRe).
func insertFields(doc []byte, root *yaml.Node, fields []field) ([]byte, func(rules.Position) rules.Position) {
	same := func(p rules.Position) rules.Position { return p }
	if len(fields) == 0 {
		return doc, same
	}
	if root.Style&yaml.FlowStyle != 0 {
		if out, back, ok := insertFlow(doc, root, fields); ok {
			return out, back
		}
		return doc, same
	}
	return insertBlock(doc, root, fields)
}

// insertBlock puts one "key: value" line per field before the first key of
// a block mapping, at its indentation.
func insertBlock(doc []byte, root *yaml.Node, fields []field) ([]byte, func(rules.Position) rules.Position) {
	first := root.Content[0]
	line, col := first.Line, first.Column
	off, ok := offset(doc, line, col)
	if !ok {
		return doc, func(p rules.Position) rules.Position { return p }
	}
	var text strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&text, "%s: %s\n%s", f.key, strconv.Quote(f.value), strings.Repeat(" ", col-1))
	}
	n := len(fields)
	back := func(p rules.Position) rules.Position {
		switch {
		case p.Line >= line+n:
			p.Line -= n
		case p.Line > line || p.Line == line && p.Col >= col:
			p.Line, p.Col = line, col
		}
		return p
	}
	return splice(doc, off, text.String()), back
}

// insertFlow puts `"key": "value", ` right after the opening brace of a
// flow mapping (a JSON object).
func insertFlow(doc []byte, root *yaml.Node, fields []field) ([]byte, func(rules.Position) rules.Position, bool) {
	start, ok := offset(doc, root.Line, root.Column)
	if !ok {
		return nil, nil, false
	}
	rel := bytes.IndexByte(doc[start:], '{')
	if rel < 0 {
		return nil, nil, false
	}
	brace := start + rel
	line, col := position(doc, brace)
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = strconv.Quote(f.key) + ": " + strconv.Quote(f.value)
	}
	text := strings.Join(parts, ", ")
	if len(root.Content) > 0 {
		text += ", "
	}
	k := len(text)
	back := func(p rules.Position) rules.Position {
		if p.Line == line && p.Col > col {
			if p.Col > col+k {
				p.Col -= k
			} else {
				p.Col = col
			}
		}
		return p
	}
	return splice(doc, brace+1, text), back, true
}

func splice(doc []byte, off int, text string) []byte {
	out := make([]byte, 0, len(doc)+len(text))
	out = append(out, doc[:off]...)
	out = append(out, text...)
	return append(out, doc[off:]...)
}

// offset is the byte offset of 1-based line and column, columns counting
// characters as the YAML parser does.
func offset(doc []byte, line, col int) (int, bool) {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(doc[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	for c := 1; c < col; c++ {
		if off >= len(doc) || doc[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(doc[off:])
		off += size
	}
	return off, true
}

// position is the 1-based line and column of a byte offset.
func position(doc []byte, off int) (line, col int) {
	before := doc[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[lineStart:]) + 1
}
