package main

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseEvents reads NDJSON files of 1,000 and 10,000 events: the
// time per event should stay flat as the file grows (positions are
// counted in one pass over the file).
func BenchmarkParseEvents(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		var src strings.Builder
		for i := range n {
			fmt.Fprintf(&src, `{"specversion":"1.0","id":"e%d","source":"test","type":"t","data":{"eventName":"DeleteCluster"}}`+"\n", i)
		}
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := parseEvents("f", []byte(src.String())); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}
