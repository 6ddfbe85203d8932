package hss

import (
	"net/url"
	"testing"
)

// FuzzParse: any query string either is refused with a 400 HSS.0001
// error that says what is wrong, or gives a query of one cluster within
// the API's limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "cluster_id=c&start_time=1&end_time=2", "cluster_id=c&start_time=1&end_time=2&limit=200&offset=9&verb=get",
		"cluster_id=c&start_time=1&end_time=2&line_num=5-6", "cluster_id=c&start_time=3&end_time=2", "cluster_id=c&start_time=1&end_time=2&limit=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, e := parse(v)
		if e != nil {
			if e.Status != 400 || e.Code != CodeParam || e.Msg == "" {
				t.Fatalf("%q: error %+v", raw, e)
			}
			return
		}
		if q.Limit < 1 || q.Limit > MaxLimit || q.Offset < 0 || len(q.Equal["clusterid"]) != 1 || q.Equal["clusterid"][0] == "" {
			t.Fatalf("%q: query %+v", raw, q)
		}
		if !q.After.Before(q.Before) {
			t.Fatalf("%q: window %v to %v", raw, q.After, q.Before)
		}
	})
}
