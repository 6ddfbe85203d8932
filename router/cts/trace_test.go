package cts_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestTraceOfEachSource: a CTS trace, a Tencent record and a Kubernetes
// event, stored and indexed, answered as traces (testdata/traces.golden.json,
// the mapping router/README.md shows).
func TestTraceOfEachSource(t *testing.T) {
	evs := indextest.Events(t, 3, time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC))
	var out []cts.Trace
	for i := range evs {
		raw, err := cejson.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		rec, err := index.FromMessage(uint64(i+1), bus.Subject("default", &evs[i]), raw, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cts.ToTrace(rec))
	}
	got, _ := json.MarshalIndent(out, "", "  ")
	golden := filepath.Join("testdata", "traces.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got)+"\n" {
		t.Errorf("traces:\n%s\nwant (%s):\n%s", got, golden, want)
	}
}

// TestTraceSkipsFieldsOfUnexpectedType: a stored field of the wrong type
// (or data that is not an object) costs that field only; the rest of the
// trace is still read from the event.
func TestTraceSkipsFieldsOfUnexpectedType(t *testing.T) {
	rec := index.Record{ID: "t1", Type: "ECS:CloudTrace:ApiCall", Kind: "ApiCall", Principal: "alice"}
	rec.Event = []byte(`{"specversion":"1.0","data":{"trace_type":5,"endpoint":"ecs.example","user":{"name":"bob","domain":{"id":"d1"}},"code":"200"}}`)
	got := cts.ToTrace(rec)
	if got.TraceType != "ApiCall" || got.Endpoint != "ecs.example" || got.User.Name != "bob" || got.User.Domain.ID != "d1" || got.Code != "200" {
		t.Errorf("wrong-typed trace_type: %+v", got)
	}
	rec.Event = []byte(`{"specversion":"1.0","data":"not an object"}`)
	if got := cts.ToTrace(rec); got.TraceID != "t1" || got.User.Name != "alice" || got.TraceType != "ApiCall" {
		t.Errorf("data as a string: %+v", got)
	}
}
