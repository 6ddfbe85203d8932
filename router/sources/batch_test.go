package sources

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRecordsShapes(t *testing.T) {
	tests := []struct {
		name, body, wrapper string
		want                int
	}{
		{"object", `{"a":1}`, "", 1},
		{"array", `[{"a":1},{"a":2}]`, "", 2},
		{"ndjson", "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", "", 3},
		{"wrapper alone", `{"traces":[{"a":1},{"a":2}]}`, "traces", 2},
		{"wrapper beside paging metadata", `{"meta_data":{"count":2,"marker":"x"},"traces":[{"a":1},{"a":2}]}`, "traces", 2},
		{"wrapper key not an array is a record", `{"traces":"x"}`, "traces", 1},
	}
	for _, tt := range tests {
		recs, err := Records([]byte(tt.body), tt.wrapper)
		if err != nil || len(recs) != tt.want {
			t.Errorf("%s: %d records, %v; want %d", tt.name, len(recs), err, tt.want)
		}
	}
	for _, bad := range []string{"", "  ", "{", `[{"a":1},`, "{} x"} {
		if _, err := Records([]byte(bad), ""); err == nil {
			t.Errorf("Records(%q) accepted", bad)
		}
	}
}

func TestBatchErrorNamesEveryBadRecord(t *testing.T) {
	var recs []json.RawMessage
	for range 25 {
		recs = append(recs, json.RawMessage(`{"service_type":"ECS"}`))
	}
	_, err := Convert(recs, NewRedactor(nil), parseCTS)
	var be *BatchError
	if !errors.As(err, &be) || len(be.Errs) != 25 {
		t.Fatalf("err = %v, want a BatchError with 25 records", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "25 bad record(s)") || !strings.Contains(msg, "record 19: ") || strings.Contains(msg, "record 20: ") ||
		!strings.HasSuffix(msg, "; and records 20, 21, 22, 23, 24") {
		t.Errorf("message %q", msg)
	}
}
