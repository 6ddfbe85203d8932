package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// readEventFile reads structured CloudEvents from path ("-" for stdin): one
// JSON object, a JSON array, or NDJSON / concatenated objects. Each event
// is checked with the same strict rules as the server, so a bad file fails
// here naming the element, before anything is sent.
func readEventFile(path string, stdin io.Reader) ([]event.Event, error) {
	src, err := readSource(path, stdin)
	if err != nil {
		return nil, err
	}
	events, _, err := parseEvents(path, src)
	return events, err
}

// parseEvents decodes the events of src, read from path, and says where
// each starts as path:line:column (1-based, the column in bytes). An error
// names the place the same way, and the event by its 1-based number.
func parseEvents(path string, src []byte) ([]event.Event, []string, error) {
	vals, err := splitJSON(src)
	if err != nil {
		return nil, nil, positioned(path, src, err)
	}
	events := make([]event.Event, 0, len(vals))
	at := valuePositions(path, src, vals)
	for i, v := range vals {
		e, err := ingest.DecodeStructured(v.raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: event %d: %w", at[i], i+1, err)
		}
		events = append(events, e)
	}
	return events, at, nil
}

// valuePositions is path:line:column of each value. The values are in
// file order, so lines are counted once over the file, not from its start
// for each value (which made a large file's cost quadratic).
func valuePositions(path string, src []byte, vals []jsonValue) []string {
	at := make([]string, len(vals))
	line, lineStart, counted := 1, int64(0), int64(0)
	for i, v := range vals {
		for nl := bytes.IndexByte(src[counted:v.offset], '\n'); nl >= 0; nl = bytes.IndexByte(src[counted:v.offset], '\n') {
			line++
			counted += int64(nl) + 1
			lineStart = counted
		}
		counted = v.offset
		at[i] = fmt.Sprintf("%s:%d:%d", path, line, 1+v.offset-lineStart)
	}
	return at
}

// jsonValue is one object of an input file and the byte offset it starts at.
type jsonValue struct {
	raw    json.RawMessage
	offset int64
}

// errorAt is a problem at a byte offset of the input.
type errorAt struct {
	offset int64
	err    error
}

func (e *errorAt) Error() string { return e.err.Error() }
func (e *errorAt) Unwrap() error { return e.err }

// positioned turns an *errorAt into path:line:column; other errors get
// the path only.
func positioned(path string, src []byte, err error) error {
	var at *errorAt
	if !errors.As(err, &at) {
		return fmt.Errorf("%s: %w", path, err)
	}
	line, col := textPosition(src, at.offset)
	return fmt.Errorf("%s:%d:%d: %w", path, line, col, at.err)
}

// splitJSON returns the objects of a JSON object, array or stream of
// objects, each as raw bytes with its offset; its errors are *errorAt.
func splitJSON(src []byte) ([]jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	var out []jsonValue
	for i := 1; ; i++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxAt(err, dec.InputOffset(), fmt.Sprintf("value %d", i))
		}
		start := dec.InputOffset() - int64(len(raw))
		switch raw[0] {
		case '[':
			elems, err := splitArray(raw, start)
			if err != nil {
				return nil, err
			}
			out = append(out, elems...)
		case '{':
			out = append(out, jsonValue{raw, start})
		default:
			return nil, &errorAt{start, fmt.Errorf("value %d: want a JSON object or array of objects, got %.20s", i, raw)}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no events in input")
	}
	return out, nil
}

// splitArray returns the elements of the array raw, which starts at base
// and is valid JSON (the Decoder that read it checked it whole).
func splitArray(raw []byte, base int64) ([]jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the '['
		return nil, &errorAt{base, err}
	}
	var out []jsonValue
	for dec.More() {
		var elem json.RawMessage
		if err := dec.Decode(&elem); err != nil {
			return nil, &errorAt{base + dec.InputOffset(), err}
		}
		out = append(out, jsonValue{elem, base + dec.InputOffset() - int64(len(elem))})
	}
	return out, nil
}

// syntaxAt places a decoding error: at a syntax error's own offset, else
// at the decoder's.
func syntaxAt(err error, decoderAt int64, what string) error {
	at := decoderAt
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		at = syn.Offset - 1 // Offset counts the byte at fault
	}
	return &errorAt{at, fmt.Errorf("%s: %w", what, err)}
}

// textPosition is the 1-based line and column (in bytes) of offset.
func textPosition(src []byte, offset int64) (line, col int) {
	offset = max(0, min(offset, int64(len(src))))
	before := src[:offset]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = 1 + len(before) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}
