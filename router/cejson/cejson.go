package cejson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Marshal encodes e in structured JSON, data byte for byte as e holds it
// (but for white space around a JSON value written as one).
// Errors are sdk-go's (an event without a context, an extension it cannot
// write), wrapped.
func Marshal(e *event.Event) ([]byte, error) {
	var b bytes.Buffer
	if !asJSONValue(e) {
		if err := event.WriteJson(e, &b); err != nil {
			return nil, fmt.Errorf("encode event %q: %w", e.ID(), err)
		}
		return b.Bytes(), nil
	}
	// WriteJson without data, then data as a raw member before the closing
	// brace: WriteJson always writes specversion first, so a comma is right.
	bare := *e
	bare.DataEncoded = nil
	if err := event.WriteJson(&bare, &b); err != nil {
		return nil, fmt.Errorf("encode event %q: %w", e.ID(), err)
	}
	out := bytes.TrimRight(b.Bytes(), " \n")
	out = append(out[:len(out)-1], `,"data":`...)
	// JSON cannot say where a member's value starts or ends beyond the
	// value itself, so white space around it would not read back anyway.
	out = append(out, bytes.TrimSpace(e.DataEncoded)...)
	return append(out, '}'), nil
}

// Unmarshal decodes a structured JSON event into e. A document sdk-go
// refuses only because its data is a JSON value under a +json type is read
// here; any other error is sdk-go's, unchanged.
func Unmarshal(b []byte, e *event.Event) error {
	err := e.UnmarshalJSON(b)
	if err == nil {
		return nil
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(b, &members) != nil {
		return err
	}
	data, ok := members["data"]
	if !ok {
		return err
	}
	delete(members, "data")
	rest, merr := json.Marshal(members)
	if merr != nil {
		return err
	}
	var r event.Event
	if r.UnmarshalJSON(rest) != nil || !plusJSON(r.DataContentType()) || !valueKind(data) {
		return err
	}
	r.DataEncoded, r.DataBase64 = []byte(data), false
	*e = r
	return nil
}

// asJSONValue reports whether e's data is written as a raw JSON value where
// sdk-go would write a string: JSON bytes, other than a string or null,
// under a +json type sdk-go does not know.
func asJSONValue(e *event.Event) bool {
	return !e.DataBase64 && valueKind(e.DataEncoded) && plusJSON(e.DataContentType()) && json.Valid(e.DataEncoded)
}

// StoredAsValue reports whether JSON data under a +json type is stored as
// a JSON value: objects, arrays, numbers and booleans are; a string or
// null is not (see the package documentation).
func StoredAsValue(data []byte) bool { return valueKind(data) }

// valueKind is true for JSON text that is neither a string nor null:
// objects, arrays, numbers and booleans.
func valueKind(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] != '"' && b[0] != 'n'
}

// plusJSON reports a */*+json media type that sdk-go does not write as
// JSON (its list: application/json, text/json and the two CloudEvents
// types, compared as it does, lowercased before any parameters).
func plusJSON(contentType string) bool {
	base, _, _ := strings.Cut(contentType, ";")
	if !strings.HasSuffix(strings.ToLower(strings.TrimSpace(base)), "+json") {
		return false // the common case, application/json, without parsing
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasSuffix(mt, "+json") {
		return false
	}
	sdk, _, _ := strings.Cut(contentType, ";")
	switch strings.TrimSpace(strings.ToLower(sdk)) {
	case event.ApplicationCloudEventsJSON, event.ApplicationCloudEventsBatchJSON:
		return false
	}
	return true
}
