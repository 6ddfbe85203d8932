package dispatch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
)

// BenchmarkDeliveryThroughput measures events/s from the events stream to a
// loopback webhook through fan-out and delivery, at 1 and 10 targets per
// event (each target with concurrency 32), and per delivery: wall time,
// process CPU (the router, the embedded nats-server and the receiver: all
// in this process) and allocations.
func BenchmarkDeliveryThroughput(b *testing.B) {
	for _, targets := range []int{1, 10} {
		for _, format := range []string{"raw", "cloudevents"} {
			b.Run(fmt.Sprintf("targets=%d/format=%s", targets, format), func(b *testing.B) {
				benchDelivery(b, targets, format, 32, 0)
			})
		}
	}
}

// BenchmarkSaturatedTarget: one target slower than the events arrive (4
// slots, 1ms a request: at most 4,000 a second), healthy. It reports the
// writes to the deliveries stream per event (0 when every delivery went
// at once from the fan-out; 1 per queued delivery; parked ones more).
func BenchmarkSaturatedTarget(b *testing.B) {
	benchDelivery(b, 1, "raw", 4, time.Millisecond)
}

func benchDelivery(b *testing.B, targets int, format string, concurrency int, delay time.Duration) {
	var got atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		time.Sleep(delay)
		got.Add(1)
	}))
	defer hook.Close()
	src := "name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n"
	for i := range targets {
		src += fmt.Sprintf("  - id: t%d\n    webhook: {url: %q, format: %s}\n    concurrency: %d\n", i, hook.URL, format, concurrency)
	}
	e := startRouter(b, src)
	defer e.stop()
	pub := bus.NewPublisher(e.ns.JS)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
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
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	deliveries := float64(b.N * targets)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/deliveries, "ns/delivery")
	b.ReportMetric(float64(cpu.Nanoseconds())/deliveries, "cpu-ns/delivery")
	if st, err := e.ns.JS.Stream(context.Background(), bus.DeliveriesStream); err == nil {
		if info, err := st.Info(context.Background()); err == nil {
			b.ReportMetric(float64(info.State.LastSeq)/float64(b.N), "delivery-writes/event")
		}
	}
}

// cpuTime is the CPU time (user and system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
