package acp_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"github.com/auditbus/auditbus/router/acp"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// benchEvents is how many Kubernetes records the benchmark indexes: ten
// clusters, so a cluster's query matches a tenth of them.
const benchEvents = 200_000

// BenchmarkListAudits: a first page, and a page halfway through a
// cluster's matches, on SQLite.
func BenchmarkListAudits(b *testing.B) {
	s := indextest.Stores[0].Open(b)
	ctx := context.Background()
	last := indextest.FillK8s(b, s, benchEvents, t0)
	v := url.Values{"cluster": {"c-3"}, "start_time": {strconv.FormatInt(t0.UnixMilli(), 10)},
		"end_time": {strconv.FormatInt(last.Time.UnixMilli(), 10)}, "size": {"20"}}
	for _, page := range []int{1, benchEvents / 10 / 2 / 20} {
		b.Run(fmt.Sprintf("pageno-%d", page), func(b *testing.B) {
			v.Set("pageno", strconv.Itoa(page))
			for b.Loop() {
				if _, err := acp.ListAudits(ctx, s, nil, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
