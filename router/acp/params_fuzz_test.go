package acp

import (
	"net/url"
	"testing"
)

// FuzzParse: any query string either is refused with a 400 that says
// what is wrong, or gives a query of one cluster within the API's limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "start_time=1&end_time=2&size=10&pageno=1&cluster=c",
		"start_time=1700000000000&end_time=1800000000000&size=500&pageno=3&cluster=c&scope=user&response_status=成功",
		"start_time=1&end_time=2&size=10&pageno=1&cluster=c&resource_type=a&resourcce_type=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, e := parse(v)
		if e != nil {
			if e.Status != 400 || e.Msg == "" {
				t.Fatalf("%q: error %+v", raw, e)
			}
			return
		}
		if req.size < 1 || req.size > MaxSize || req.pageno < 1 || req.q.Offset < 0 || req.q.Limit != req.size ||
			len(req.q.Equal["cluster"]) != 1 || req.q.Equal["cluster"][0] == "" {
			t.Fatalf("%q: request %+v", raw, req)
		}
		if !req.q.After.Before(req.q.Before) {
			t.Fatalf("%q: window %v to %v", raw, req.q.After, req.q.Before)
		}
	})
}
