package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkIngest measures HTTP ingest up to JetStream's acknowledgement:
// one event per request from one client, from concurrent clients, and
// batches of 100. events/s is the figure to compare.
func BenchmarkIngest(b *testing.B) {
	srv, _ := newAPI(b, true)
	var seq atomic.Int64
	next := func() string { return auditEvent(b, fmt.Sprint("bench-", seq.Add(1))) }
	post := func(b *testing.B, contentType, body string) {
		resp, err := http.Post(srv.URL+"/v1/events", contentType, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.Run("structured", func(b *testing.B) {
		for b.Loop() {
			post(b, "application/cloudevents+json", next())
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("structured-parallel", func(b *testing.B) {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				post(b, "application/cloudevents+json", next())
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("batch-100", func(b *testing.B) {
		for b.Loop() {
			events := make([]string, 100)
			for i := range events {
				events[i] = next()
			}
			post(b, "application/cloudevents-batch+json", "["+strings.Join(events, ",")+"]")
		}
		b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
	})
}
