package sources

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// BatchError rejects a whole request, naming every bad record, so a sender
// fixes them all in one pass and nothing of the batch is stored.
type BatchError struct {
	Errs []*ingest.Error // each with Index set, in record order
}

// Error describes the first maxBatchErrors records in full and names the
// indexes of the rest, so no bad record goes unmentioned while the message
// stays bounded.
func (b *BatchError) Error() string {
	var msgs, more []string
	for _, e := range b.Errs {
		if len(msgs) == maxBatchErrors {
			more = append(more, strconv.Itoa(e.Index))
			continue
		}
		// ingest.Error says "event N"; here N counts the records sent.
		unplaced := *e
		unplaced.Index = -1
		msgs = append(msgs, fmt.Sprintf("record %d: %s", e.Index, unplaced.Error()))
	}
	out := fmt.Sprintf("%d bad record(s), nothing stored: %s", len(b.Errs), strings.Join(msgs, "; "))
	if len(more) > 0 {
		out += fmt.Sprintf("; and records %s", strings.Join(more, ", "))
	}
	return out
}

// Unwrap exposes every record's error, so errors.Is(err, ingest.ErrMalformed)
// holds when any record is malformed.
func (b *BatchError) Unwrap() []error {
	errs := make([]error, len(b.Errs))
	for i, e := range b.Errs {
		errs[i] = e
	}
	return errs
}

// maxBatchErrors caps the errors described in full in one answer.
const maxBatchErrors = 20

// Records splits a body into raw records: one JSON object, a JSON array of
// them, or NDJSON (one object per line). wrapper, if not "", names a key
// whose array holds the records when the body is an object with that key
// (CTS's {"traces": [...]}).
func Records(body []byte, wrapper string) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, &ingest.Error{Kind: ingest.ErrMalformed, Index: -1, Msg: "empty body: send a JSON object, a JSON array or NDJSON"}
	}
	if trimmed[0] == '[' {
		var recs []json.RawMessage
		if err := json.Unmarshal(trimmed, &recs); err != nil {
			return nil, &ingest.Error{Kind: ingest.ErrMalformed, Index: -1, Msg: fmt.Sprintf("JSON array: %v", err)}
		}
		return recs, nil
	}
	if wrapper != "" && trimmed[0] == '{' {
		// A query response ({"meta_data": ..., "traces": [...]}) holds
		// the records in an array beside paging metadata.
		var w map[string]json.RawMessage
		if json.Unmarshal(trimmed, &w) == nil {
			if inner := bytes.TrimSpace(w[wrapper]); len(inner) > 0 && inner[0] == '[' {
				return Records(inner, "")
			}
		}
	}
	return ndjson(trimmed)
}

// ndjson reads one or more JSON objects separated by white space.
func ndjson(body []byte) ([]json.RawMessage, error) {
	var recs []json.RawMessage
	dec := json.NewDecoder(bufio.NewReader(bytes.NewReader(body)))
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// A syntax error ends the stream: later records cannot be found.
			return nil, &BatchError{Errs: []*ingest.Error{{Kind: ingest.ErrMalformed, Index: i, Msg: fmt.Sprintf("not JSON (nothing after it can be read): %v", err)}}}
		}
		recs = append(recs, raw)
	}
	return recs, nil
}

// Convert applies parse to every record and builds the events, collecting
// every record's error: all events, or a *BatchError.
func Convert(recs []json.RawMessage, r *Redactor, parse func(json.RawMessage) ([]Envelope, error)) ([]event.Event, error) {
	var (
		events []event.Event
		bad    []*ingest.Error
	)
	for i, rec := range recs {
		evs, err := convertOne(rec, r, parse)
		if err != nil {
			bad = append(bad, indexed(i, err))
			continue
		}
		events = append(events, evs...)
	}
	if len(bad) > 0 {
		return nil, &BatchError{Errs: bad}
	}
	return events, nil
}

func convertOne(rec json.RawMessage, r *Redactor, parse func(json.RawMessage) ([]Envelope, error)) ([]event.Event, error) {
	if len(rec) == 0 || rec[0] != '{' {
		return nil, &ingest.Error{Kind: ingest.ErrMalformed, Index: -1, Msg: "a record must be a JSON object"}
	}
	envs, err := parse(rec)
	if err != nil {
		return nil, err
	}
	events := make([]event.Event, 0, len(envs))
	for _, env := range envs {
		e, err := Build(env, r)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}

// indexed places err at record i, keeping its kind when it has one.
func indexed(i int, err error) *ingest.Error {
	var ie *ingest.Error
	if errors.As(err, &ie) {
		c := *ie
		c.Index = i
		return &c
	}
	return &ingest.Error{Kind: ingest.ErrInvalidAttribute, Index: i, Msg: err.Error()}
}
