package index

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The index reads the few fields it needs straight from a stored event's
// bytes (extract.go). These helpers are that reading: validJSON decides
// what encoding/json would accept, the others walk text validJSON
// accepted without checking it again.

// maxDepth is encoding/json's nesting limit: a document nested deeper is
// invalid to it, so it is to validJSON too.
const maxDepth = 10000

// validJSON reports whether b is one JSON value with optional white space
// around it, as json.Valid does (FuzzValidJSON compares them), in one
// pass without a per-byte state machine.
func validJSON(b []byte) bool {
	end, ok := scanValue(b, skipWS(b, 0), 0)
	return ok && skipWS(b, end) == len(b)
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// scanValue checks the value at b[i] and returns where it ends.
func scanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '{', c == '[':
		return scanContainer(b, i, depth+1)
	case c == '"':
		return scanString(b, i)
	case c == '-', c >= '0' && c <= '9':
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return i, false
}

// scanContainer checks the object or array at b[i].
func scanContainer(b []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	obj, closer := b[i] == '{', byte(']')
	if obj {
		closer = '}'
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, true
	}
	for {
		var ok bool
		if obj {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			if i, ok = scanString(b, i); !ok {
				return i, false
			}
			if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
				return i, false
			}
			i = skipWS(b, i+1)
		}
		if i, ok = scanValue(b, i, depth); !ok {
			return i, false
		}
		if i = skipWS(b, i); i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case closer:
			return i + 1, true
		default:
			return i, false
		}
	}
}

func scanString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i++; i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return i, false
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, true
}

func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// skipValue returns where the value at b[i] ends; b is valid JSON.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t' {
		i++
	}
	return i
}

// skipString returns where the string at b[i] ends; b is valid JSON.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i++
		}
	}
	return i
}

// members calls fn with the key (quoted, as written) and value of each
// member of the valid JSON object at obj[0], in order.
func members(obj []byte, fn func(key, val []byte)) {
	i := skipWS(obj, 1)
	for i < len(obj) && obj[i] == '"' {
		k := skipString(obj, i)
		v := skipWS(obj, skipWS(obj, k)+1)
		end := skipValue(obj, v)
		fn(obj[i:k], obj[v:end])
		if i = skipWS(obj, end); i < len(obj) && obj[i] == ',' {
			i = skipWS(obj, i+1)
		}
	}
}

// plainString is the text of a quoted JSON string without escapes and in
// valid UTF-8, which every decoder reads as written; ok is false for any
// other string.
func plainString(tok []byte) (s []byte, ok bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return nil, false
	}
	s = tok[1 : len(tok)-1]
	return s, bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s)
}

// plainText is plainString of a string.
func plainText(tok string) (s string, ok bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return "", false
	}
	s = tok[1 : len(tok)-1]
	return s, strings.IndexByte(s, '\\') < 0 && utf8.ValidString(s)
}

// jsonString decodes the valid JSON string tok as encoding/json does
// (escapes, and invalid UTF-8 replaced by U+FFFD).
func jsonString(tok []byte) string {
	if s, ok := plainString(tok); ok {
		return string(s)
	}
	var s string
	_ = json.Unmarshal(tok, &s) // tok is a valid string: no error
	return s
}

// foldedKey is key (a quoted, valid JSON string) folded the way
// encoding/json matches an object key to a struct field, case and
// Unicode simple folding aside: two keys match the same field when their
// folded forms are equal. folded is the buffer it appends to.
func foldedKey(folded, key []byte) []byte {
	raw, ok := plainString(key)
	if !ok {
		raw = []byte(jsonString(key))
	}
	for i := 0; i < len(raw); {
		if c := raw[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			folded = append(folded, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		folded = utf8.AppendRune(folded, smallestFold(r))
		i += n
	}
	return folded
}

// smallestFold is the smallest rune of r's simple folding orbit.
func smallestFold(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
