package dispatch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
)

// BenchmarkDeliveryThroughput measures events/s from the events stream to a
// loopback webhook through fan-out and the target queue, at 1 and 10
// targets per event (each target with concurrency 32).
func BenchmarkDeliveryThroughput(b *testing.B) {
	for _, targets := range []int{1, 10} {
		b.Run(fmt.Sprintf("targets=%d", targets), func(b *testing.B) {
			var got atomic.Int64
			hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got.Add(1) }))
			defer hook.Close()
			src := "name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n"
			for i := range targets {
				src += fmt.Sprintf("  - id: t%d\n    webhook: {url: %q, format: raw}\n    concurrency: 32\n", i, hook.URL)
			}
			e := startRouter(b, src)
			defer e.stop()
			pub := bus.NewPublisher(e.ns.JS)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i += 100 {
				var events []event.Event
				for j := i; j < min(i+100, b.N); j++ {
					ev := event.New()
					ev.SetID(fmt.Sprint("bench-", j))
					ev.SetSource("tke.cloud.tencent")
					ev.SetType("tke:CloudEvent:ApiCall")
					_ = ev.SetData(event.ApplicationJSON, map[string]any{"eventName": "DeleteCluster"})
					events = append(events, ev)
				}
				if _, err := pub.Publish(context.Background(), "default", events); err != nil {
					b.Fatal(err)
				}
			}
			for got.Load() < int64(b.N*targets) {
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}
