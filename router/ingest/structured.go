package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
)

// member is one key/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// DecodeStructured decodes one event in the CloudEvents JSON format.
func DecodeStructured(b []byte) (event.Event, error) {
	if e, ok := decodeStructuredFast(b); ok {
		return e, nil
	}
	return decodeStructuredStrict(b)
}

func decodeStructuredStrict(b []byte) (event.Event, error) {
	dec, err := newJSONDecoder(b)
	if err != nil {
		return event.Event{}, err
	}
	ms, err := readObject(dec)
	if err != nil {
		return event.Event{}, err
	}
	if err := expectEnd(dec); err != nil {
		return event.Event{}, err
	}
	return eventFromMembers(ms, false)
}

// DecodeBatch decodes a JSON array of structured events. It returns all of
// them or an error naming the first bad element's index; an empty array
// gives an empty, non-nil slice.
func DecodeBatch(b []byte) ([]event.Event, error) {
	if events, ok := decodeBatchFast(b); ok {
		return events, nil
	}
	return decodeBatchStrict(b)
}

func decodeBatchStrict(b []byte) ([]event.Event, error) {
	dec, err := newJSONDecoder(b)
	if err != nil {
		return nil, err
	}
	if err := expectArrayStart(dec); err != nil {
		return nil, err
	}
	events := []event.Event{}
	for i := 0; dec.More(); i++ {
		e, err := readEvent(dec)
		if err != nil {
			return nil, atIndex(err, i)
		}
		events = append(events, e)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, syntaxError(err)
	}
	if err := expectEnd(dec); err != nil {
		return nil, err
	}
	return events, nil
}

func readEvent(dec *json.Decoder) (event.Event, error) {
	ms, err := readObject(dec)
	if err != nil {
		return event.Event{}, err
	}
	return eventFromMembers(ms, false)
}

// newJSONDecoder checks UTF-8 up front because encoding/json silently
// replaces invalid sequences with U+FFFD, which would alter audit data.
func newJSONDecoder(b []byte) (*json.Decoder, error) {
	if !utf8.Valid(b) {
		return nil, malformed("body is not valid UTF-8 (first bad byte at offset %d)", firstInvalidUTF8(b))
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, malformed("empty body; expected JSON")
	}
	return json.NewDecoder(bytes.NewReader(b)), nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

func expectArrayStart(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	if tok != json.Delim('[') {
		return malformed("a batch must be a JSON array of events, got %s", tokenKind(tok))
	}
	return nil
}

// readObject reads one JSON object member by member; a map-based decode
// would silently keep the last of two duplicate keys, and which value a
// producer meant is not ours to guess.
func readObject(dec *json.Decoder) ([]member, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	if tok != json.Delim('{') {
		return nil, malformed("an event must be a JSON object, got %s", tokenKind(tok))
	}
	var ms []member
	seen := make(map[string]struct{}, 12)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		name := tok.(string) // inside an object the decoder only yields string keys
		if _, dup := seen[name]; dup {
			return nil, newError(ErrMalformed, name, "appears twice in the same event object")
		}
		seen[name] = struct{}{}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxError(err)
		}
		ms = append(ms, member{name: name, value: raw})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, syntaxError(err)
	}
	return ms, nil
}

func expectEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return malformed("unexpected data after the JSON value at byte offset %d", dec.InputOffset())
	}
	return nil
}

func syntaxError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return malformed("not valid JSON at byte offset %d: %v", se.Offset, se)
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return malformed("not valid JSON: the body ends in the middle of a value")
	}
	return malformed("not valid JSON: %v", err)
}

func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "a JSON array"
		}
		return "a JSON object"
	case string:
		return "a JSON string"
	case bool:
		return "a JSON boolean"
	case nil:
		return "JSON null"
	}
	return "a JSON number"
}

// eventFromMembers applies the JSON format's rules to one event object.
// A null value means the attribute is not set (JSON format, section 2.4),
// so a null required attribute is reported as missing. valid says ms are
// the members of a body already checked to be valid UTF-8 JSON (the fast
// path), so data need not be checked again.
func eventFromMembers(ms []member, valid bool) (event.Event, error) {
	var data, data64 json.RawMessage
	context := make(map[string]json.RawMessage, len(contextOrder))
	var exts []member
	for _, m := range ms {
		null := jsonKind(m.value) == "null"
		switch {
		case m.name == "data":
			data = nonNull(m.value, null)
		case m.name == "data_base64":
			data64 = nonNull(m.value, null)
		default:
			if err := checkName(m.name); err != nil {
				return event.Event{}, err
			}
			if null {
				continue
			}
			if isContextAttribute(m.name) {
				context[m.name] = m.value
			} else {
				exts = append(exts, m)
			}
		}
	}
	ctx, err := newContext(jsonAttrSource(context))
	if err != nil {
		return event.Event{}, err
	}
	for _, m := range exts {
		if err := setJSONExtension(ctx, m); err != nil {
			return event.Event{}, err
		}
	}
	e := event.Event{Context: ctx}
	if err := setJSONData(&e, ctx, data, data64); err != nil {
		return event.Event{}, err
	}
	// data_base64's bytes are the client's, never checked before.
	return e, validate(&e, valid && data != nil)
}

func nonNull(raw json.RawMessage, null bool) json.RawMessage {
	if null {
		return nil
	}
	return raw
}

func jsonAttrSource(context map[string]json.RawMessage) attrSource {
	return func(name string) (string, bool, error) {
		raw, ok := context[name]
		if !ok {
			return "", false, nil
		}
		if raw[0] != '"' {
			return "", false, notAString(name, raw)
		}
		s, err := stringValue(raw)
		if err != nil {
			return "", false, malformed("attribute %q: %v", name, err)
		}
		return s, true, nil
	}
}

func notAString(name string, raw json.RawMessage) error {
	if name == "time" && jsonKind(raw) == "number" {
		return invalid(name, "is the JSON number %s; it must be an RFC 3339 string such as \"2024-05-01T12:00:00Z\". Tencent CloudAudit records with epoch-millisecond times go to POST /v1/sources/cloudaudit instead", Quote(string(raw)))
	}
	return invalid(name, "must be a JSON string, got a JSON %s", jsonKind(raw))
}

// setJSONExtension maps JSON values onto CloudEvents types: string,
// boolean, and integer (JSON numbers written as integers in int32 range).
// Everything else has no CloudEvents type and is rejected.
func setJSONExtension(ctx *event.EventContextV1, m member) error {
	var v any
	switch kind := jsonKind(m.value); kind {
	case "string":
		s, err := stringValue(m.value)
		if err != nil {
			return malformed("attribute %q: %v", m.name, err)
		}
		v = s
	case "boolean":
		v = m.value[0] == 't'
	case "number":
		n, err := strconv.ParseInt(string(m.value), 10, 32)
		if err != nil {
			return invalid(m.name, "%s is not an integer in the 32-bit range CloudEvents allows; send other numbers as strings", Quote(string(m.value)))
		}
		v = int32(n)
	default:
		return invalid(m.name, "is a JSON %s; extension values must be a string, boolean or integer", kind)
	}
	return setExtension(ctx, m.name, v)
}

func setJSONData(e *event.Event, ctx *event.EventContextV1, data, data64 json.RawMessage) error {
	switch {
	case data != nil && data64 != nil:
		return invalid("data_base64", "data and data_base64 are both set; an event carries one or the other")
	case data64 != nil:
		return setBase64Data(e, ctx, data64)
	case data != nil:
		return setStructuredData(e, ctx, data)
	}
	return nil
}
