package rules

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit: past it json.Unmarshal fails,
// NewEnv then exposes data as a string, and only the slow path agrees.
const maxDepth = 10000

// errSlow stops a scan that met something only a full decode interprets as
// NewEnv does (duplicate keys, data_base64, out-of-range numbers, ...).
var errSlow = errors.New("needs a full decode")

// scanner reads a structured CloudEvent and records the values of the paths
// in a field tree, skipping everything else without decoding it. It trusts
// the JSON the router itself wrote: inside skipped values it checks only
// what changes how NewEnv would see the event.
type scanner struct {
	buf   []byte
	i     int
	st    *state
	depth int
}

func (s *scanner) syntax(what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrNotEvent, what, s.i)
}

func (s *scanner) ws() {
	for s.i < len(s.buf) {
		switch s.buf[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.buf) {
		return s.buf[s.i]
	}
	return 0
}

// event scans the top-level object.
func (s *scanner) event(root *fieldNode) error {
	s.ws()
	if s.peek() != '{' {
		return s.syntax("want a JSON object")
	}
	if err := s.object(root, true); err != nil {
		return err
	}
	s.ws()
	if s.i != len(s.buf) {
		return s.syntax("data after the event object")
	}
	return nil
}

func (s *scanner) object(n *fieldNode, top bool) error {
	s.i++
	if s.depth++; s.depth > maxDepth {
		return errSlow
	}
	serial := s.st.nextSerial()
	s.ws()
	if s.peek() == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		if s.peek() != '"' {
			return s.syntax("want an object key")
		}
		keyStart := s.i
		key, err := s.str()
		if err != nil {
			return err
		}
		if top && bytes.IndexByte(s.buf[keyStart:s.i], '\\') >= 0 {
			return errSlow // sdk-go reads attribute names without unescaping them
		}
		s.ws()
		if s.peek() != ':' {
			return s.syntax("want ':' after an object key")
		}
		s.i++
		s.ws()
		if err := s.member(n, key, serial, top); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.syntax("want ',' or '}' in an object")
		}
	}
}

// member scans the value of one key, recording it if the tree names it.
func (s *scanner) member(n *fieldNode, key string, serial uint32, top bool) error {
	c := n.child(key)
	if top {
		return s.attribute(key, c, serial)
	}
	return s.field(c, serial)
}

// field scans a member's value at c, or skips it when no rule reads it.
func (s *scanner) field(c *fieldNode, serial uint32) error {
	if c == nil {
		return s.skip()
	}
	if s.st.seen[c.id] == serial {
		return errSlow // a duplicate key: the decoder keeps the last value
	}
	s.st.seen[c.id] = serial
	if !c.raw {
		return s.value(c)
	}
	start := s.i
	if err := s.value(c); err != nil {
		return err
	}
	s.st.spans[c.id] = span{start, s.i}
	s.st.spanned = append(s.st.spanned, c.id)
	return nil
}

// value scans one value at node n.
func (s *scanner) value(n *fieldNode) error {
	switch c := s.peek(); {
	case c == '"':
		v, err := s.str()
		if err == nil && n.leaf {
			s.st.add(n, value{kind: kString, str: v})
		}
		return err
	case c == '{':
		if n.leaf || n.group {
			s.st.add(n, value{kind: kObject})
		}
		if n.children == nil {
			return s.skip()
		}
		return s.object(n, false)
	case c == '[':
		return s.array(n)
	case c == 't' || c == 'f' || c == 'n':
		v, err := s.literal()
		if err == nil && n.leaf {
			s.st.add(n, v)
		}
		return err
	default:
		f, err := s.number()
		if err == nil && n.leaf {
			s.st.add(n, value{kind: kNumber, num: f})
		}
		return err
	}
}

// array records every element at n: patterns expand arrays.
func (s *scanner) array(n *fieldNode) error {
	s.i++
	if s.depth++; s.depth > maxDepth {
		return errSlow
	}
	s.ws()
	if s.peek() == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		prev := s.st.enter()
		err := s.value(n)
		s.st.leave(prev)
		if err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.syntax("want ',' or ']' in an array")
		}
	}
}

func (s *scanner) literal() (value, error) {
	rest := s.buf[s.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("true")):
		s.i += 4
		return value{kind: kBool, b: true}, nil
	case bytes.HasPrefix(rest, []byte("false")):
		s.i += 5
		return value{kind: kBool}, nil
	case bytes.HasPrefix(rest, []byte("null")):
		s.i += 4
		return value{kind: kNull}, nil
	}
	return value{}, s.syntax("invalid literal")
}

// number parses a number as encoding/json does into an any: a float64,
// and an error (so the slow path) when it does not fit.
func (s *scanner) number() (float64, error) {
	start := s.i
	for s.i < len(s.buf) {
		c := s.buf[s.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		s.i++
	}
	if s.i == start {
		return 0, s.syntax("want a value")
	}
	f, err := strconv.ParseFloat(bytesString(s.buf[start:s.i]), 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, errSlow
	}
	if err != nil {
		return 0, s.syntax("invalid number")
	}
	return f, nil
}

// str reads a string at s.i (on its opening quote). Strings without escapes
// or invalid UTF-8 are returned in place; others are decoded into scratch.
func (s *scanner) str() (string, error) {
	start := s.i + 1
	for j := start; j < len(s.buf); j++ {
		if c := s.buf[j]; strSpecial[c] {
			if c == '"' {
				s.i = j + 1
				return bytesString(s.buf[start:j]), nil
			}
			return s.strSlow(start)
		}
	}
	return "", s.syntax("unterminated string")
}

// strSpecial marks the bytes that end a string's fast path: the closing
// quote, escapes, control characters and non-ASCII (which needs a UTF-8
// check).
var strSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf
	}
	return t
}()

func (s *scanner) strSlow(start int) (string, error) {
	if err := s.skipString(); err != nil {
		return "", err
	}
	raw := s.buf[start : s.i-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		for _, c := range raw {
			if c < 0x20 {
				return "", errSlow // invalid JSON: json.Unmarshal would fail
			}
		}
		return bytesString(raw), nil
	}
	from := len(s.st.scratch)
	var ok bool
	s.st.scratch, ok = unquote(s.st.scratch, raw)
	if !ok {
		return "", errSlow
	}
	return bytesString(s.st.scratch[from:]), nil
}

// skipString moves past the string at s.i.
func (s *scanner) skipString() error {
	j := s.i + 1
	for {
		k := bytes.IndexByte(s.buf[j:], '"')
		if k < 0 {
			return s.syntax("unterminated string")
		}
		j += k
		backslashes := 0
		for b := j - 1; b > s.i && s.buf[b] == '\\'; b-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			s.i = j + 1
			return nil
		}
		j++
	}
}

// skip moves past one value without recording anything. Inside containers
// it only tracks strings, nesting and numbers (whose range decides whether
// json.Unmarshal accepts the payload).
func (s *scanner) skip() error {
	switch c := s.peek(); {
	case c == '"':
		return s.skipString()
	case c == 't' || c == 'f' || c == 'n':
		_, err := s.literal()
		return err
	case c != '{' && c != '[':
		return s.skipNumber()
	}
	depth := 0
	for s.i < len(s.buf) {
		switch c := s.buf[s.i]; {
		case c == '"':
			if err := s.skipString(); err != nil {
				return err
			}
		case c == '{' || c == '[':
			if depth++; s.depth+depth > maxDepth {
				return errSlow
			}
			s.i++
		case c == '}' || c == ']':
			s.i++
			if depth--; depth == 0 {
				return nil
			}
		case c == '-' || (c >= '0' && c <= '9'):
			if err := s.skipNumber(); err != nil {
				return err
			}
		default:
			s.i++
		}
	}
	return s.syntax("unterminated value")
}

// skipNumber moves past a number, parsing it only when it could be out of
// float64's range: that needs an exponent or hundreds of digits.
func (s *scanner) skipNumber() error {
	start := s.i
	long := false
	for s.i < len(s.buf) {
		c := s.buf[s.i]
		if c == 'e' || c == 'E' {
			long = true
		} else if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' {
			break
		}
		s.i++
	}
	if !long && s.i-start < 300 && s.i > start {
		return nil
	}
	s.i = start
	_, err := s.number()
	return err
}
