package ingest

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
)

// The fast path of DecodeStructured and DecodeBatch. encoding/json's
// token-by-token Decoder, which the strict reader needs to see every key
// in order (duplicates!), cost about 50 µs and 300 allocations per event:
// the largest part of ingest. Here the whole body is first checked to be
// valid UTF-8 and valid JSON, and then a small scanner, which may trust
// that, splits objects into their members. Whatever the fast path does
// not like (not an array of objects, a duplicate key, an invalid event)
// it leaves to the strict reader, so every error a client sees is the
// strict reader's, word for word.

// decodeBatchFast decodes a valid JSON array of valid events; ok is false
// for anything else.
func decodeBatchFast(b []byte) (events []event.Event, ok bool) {
	if !utf8.Valid(b) || !json.Valid(b) {
		return nil, false
	}
	s := scanner{b: b}
	s.space()
	if s.b[s.i] != '[' {
		return nil, false
	}
	s.i++
	events = []event.Event{}
	for {
		s.space()
		switch s.b[s.i] {
		case ']':
			return events, true
		case ',':
			s.i++
			s.space()
		}
		ms, ok := s.object()
		if !ok {
			return nil, false
		}
		e, err := eventFromMembers(ms, true)
		if err != nil {
			return nil, false
		}
		events = append(events, e)
	}
}

// decodeStructuredFast decodes one valid event; ok is false for anything
// else.
func decodeStructuredFast(b []byte) (e event.Event, ok bool) {
	if !utf8.Valid(b) || !json.Valid(b) {
		return event.Event{}, false
	}
	s := scanner{b: b}
	s.space()
	ms, ok := s.object()
	if !ok {
		return event.Event{}, false
	}
	e, err := eventFromMembers(ms, true)
	return e, err == nil
}

// scanner walks a document already known to be valid JSON, so it needs no
// bounds checks beyond what validity guarantees.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object reads the object at s.i member by member, values raw and as
// written; false if it is not an object or names a key twice.
func (s *scanner) object() ([]member, bool) {
	if s.b[s.i] != '{' {
		return nil, false
	}
	s.i++
	ms := make([]member, 0, 16)
	var seen map[string]struct{}
	for {
		s.space()
		switch s.b[s.i] {
		case '}':
			s.i++
			return ms, true
		case ',':
			s.i++
			s.space()
		}
		start := s.i
		escaped := s.str()
		var name string
		if escaped {
			if err := json.Unmarshal(s.b[start:s.i], &name); err != nil {
				return nil, false
			}
		} else {
			name = string(s.b[start+1 : s.i-1])
		}
		if seen == nil && len(ms) == 16 { // past a few keys, a map: no quadratic scan of a hostile body
			seen = make(map[string]struct{}, 32)
			for _, m := range ms {
				seen[m.name] = struct{}{}
			}
		}
		if seen != nil {
			if _, dup := seen[name]; dup {
				return nil, false
			}
			seen[name] = struct{}{}
		} else {
			for _, m := range ms {
				if m.name == name {
					return nil, false
				}
			}
		}
		s.space()
		s.i++ // ':'
		s.space()
		vstart := s.i
		s.value()
		ms = append(ms, member{name: name, value: json.RawMessage(s.b[vstart:s.i:s.i])})
	}
}

// str skips the string at s.i and reports whether it holds an escape.
func (s *scanner) str() (escaped bool) {
	i := s.i + 1
	for {
		switch s.b[i] {
		case '\\':
			escaped = true
			i += 2
		case '"':
			s.i = i + 1
			return escaped
		default:
			i++
		}
	}
}

// value skips the value at s.i.
func (s *scanner) value() {
	switch s.b[s.i] {
	case '"':
		s.str()
	case '{', '[':
		depth := 0
		for {
			switch s.b[s.i] {
			case '"':
				s.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return
			}
		}
	default: // number, true, false, null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}
