package hss_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/auditbus/auditbus/router/hss"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// benchEvents is how many Kubernetes records the benchmarks index: ten
// clusters, so a cluster's query matches a tenth of them.
const benchEvents = 200_000

// BenchmarkListClusterAuditLogs: a first page, a page deep into the
// matches by offset, and the same depth by line_num, on SQLite.
func BenchmarkListClusterAuditLogs(b *testing.B) {
	s := indextest.Stores[0].Open(b)
	ctx := context.Background()
	last := indextest.FillK8s(b, s, benchEvents, t0)
	window := url.Values{"cluster_id": {"c-3"}, "start_time": {"0"}, "end_time": {strconv.FormatInt(last.Time.UnixMilli(), 10)}, "limit": {"20"}}
	deep := benchEvents / 10 / 2 // halfway through the cluster's matches
	resp, err := hss.ListClusterAuditLogs(ctx, s, nil, with(window, "offset", strconv.Itoa(deep-1), "limit", "1"))
	if err != nil {
		b.Fatal(err)
	}
	line := resp.DataList[0].LineNum
	for _, c := range []struct {
		name string
		v    url.Values
	}{{"first-page", window}, {"offset-deep", with(window, "offset", strconv.Itoa(deep))}, {"line_num-deep", with(window, "line_num", line)}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := hss.ListClusterAuditLogs(ctx, s, nil, c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vals := range v {
		out[k] = vals
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}
