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
	raws, err := splitJSON(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	events := make([]event.Event, 0, len(raws))
	for i, raw := range raws {
		e, err := ingest.DecodeStructured(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: event %d: %w", path, i, err)
		}
		events = append(events, e)
	}
	return events, nil
}

// splitJSON returns the objects of a JSON object, array or stream of
// objects, each as raw bytes.
func splitJSON(src []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	var out []json.RawMessage
	for i := 0; ; i++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		switch raw[0] {
		case '[':
			var elems []json.RawMessage
			if err := json.Unmarshal(raw, &elems); err != nil {
				return nil, fmt.Errorf("value %d: %w", i, err)
			}
			out = append(out, elems...)
		case '{':
			out = append(out, raw)
		default:
			return nil, fmt.Errorf("value %d: want a JSON object or array of objects, got %.20s", i, raw)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no events in input")
	}
	return out, nil
}
