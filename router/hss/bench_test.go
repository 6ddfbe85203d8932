package hss_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/hss"
	"github.com/auditbus/auditbus/router/index"
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
	var last index.Record
	for start := 0; start < benchEvents; start += 5000 {
		recs := make([]index.Record, 5000)
		for i := range recs {
			n := start + i
			recs[i] = index.Record{Seq: uint64(n + 1), Bus: "default", Time: t0.Add(time.Duration(n) * time.Millisecond),
				ID: fmt.Sprintf("e-%d", n), Kind: "K8sAudit", Type: "cce:K8sAudit:get", Product: "cce", Action: "get",
				Cluster: fmt.Sprintf("c-%d", n%10), ClusterID: fmt.Sprintf("c-%d", n%10), Principal: "alice", Scope: "user",
				Event: []byte(`{"specversion":"1.0","data":{"auditID":"x","verb":"get"}}`)}
		}
		if err := s.Put(ctx, recs); err != nil {
			b.Fatal(err)
		}
		last = recs[len(recs)-1]
	}
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
