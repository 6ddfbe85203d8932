package cts

import (
	"net/url"
	"testing"
	"time"
)

// FuzzParse: any query string either is refused with a 400 CTS.xxxx error
// that says what is wrong, or gives a query within the API's limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "trace_type=system&limit=11&to=1479095278000&from=1478490478000&trace_name=createTracker&resource_type=tracker&service_type=CTS",
		"trace_type=data", "limit=0", "limit=201", "from=9&to=1", "trace_id=x&user=y", "next=abc", "trace_rating=warning", "limit=1&limit=2"} {
		f.Add(s)
	}
	now := time.UnixMilli(1_800_000_000_000)
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, e := parse(v, now)
		if e != nil {
			if e.Status != 400 || len(e.Code) != 8 || e.Msg == "" {
				t.Fatalf("%q: error %+v", raw, e)
			}
			return
		}
		if req.q.Limit < 1 || req.q.Limit > MaxLimit {
			t.Fatalf("%q: limit %d", raw, req.q.Limit)
		}
		if _, ok := req.q.Equal["id"]; !ok && !req.q.After.Before(req.q.Before) {
			t.Fatalf("%q: window %v to %v", raw, req.q.After, req.q.Before)
		}
		if req.traceType != TraceTypeSystem && req.traceType != TraceTypeData {
			t.Fatalf("%q: trace_type %q", raw, req.traceType)
		}
	})
}
