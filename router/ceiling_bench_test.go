package router_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// The raw JetStream ceiling the end-to-end figures are compared with, and
// the ratio of the two measured in one run (issue #13: at least 0.30 at one
// target). The ceiling is stored and consumed exactly as the pipeline's
// events are, with nothing else: the same events (size, message id,
// subject), published by auditbus's own bus.Publisher in requests of
// AUDITBUS_BENCH_BATCH events from AUDITBUS_BENCH_SENDERS goroutines
// (closed loop), onto the events stream of an embedded server with the
// same fsync setting (AUDITBUS_BENCH_SYNC) over an in-process connection,
// and consumed by a pull consumer that acks each one. No HTTP, no
// matching, no fan-out, no deliveries. Both are warmed up first.
//
//	go test ./router -run '^$' -bench 'CeilingRatio|JetStreamCeiling' -benchtime 10000x -count 3

// ceilingWarm is how many events each ceiling run sends before it counts.
const ceilingWarm = 500

// ceiling stores n events (after ceilingWarm unmeasured ones) and waits
// until the consumer acked them all; it returns the wall time of the
// measured part and the process's CPU time in it.
func ceiling(b *testing.B, n, batch, senders int, sync time.Duration, atomicBatches bool) (time.Duration, time.Duration) {
	dir := b.TempDir()
	internal, err := bus.LoadInternalUser(dir)
	if err != nil {
		b.Fatal(err)
	}
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: dir, InProcessOnly: true, Internal: internal.Public(), SyncInterval: sync})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := nats.Connect("", nats.InProcessServer(ns), internal.Option())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	stream, err := bus.EnsureStream(ctx, js, bus.StreamConfig{AtomicPublish: atomicBatches})
	if err != nil {
		b.Fatal(err)
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "ceiling", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 10000})
	if err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		got.Add(1)
	}, jetstream.PullMaxMessages(500))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	pub := bus.NewPublisher(js)
	pub.BatchAtomically(atomicBatches)
	events := ceilingEvents(b, ceilingWarm+n)

	publish(b, pub, events[:ceilingWarm], batch, senders)
	waitCount(b, &got, ceilingWarm)
	start, cpu0 := time.Now(), cpuTime()
	publish(b, pub, events[ceilingWarm:], batch, senders)
	waitCount(b, &got, int64(ceilingWarm+n))
	return time.Since(start), cpuTime() - cpu0
}

// ceilingEvents are n events as the pipeline's API decodes them from what
// the benchmarks send, built before anything is measured.
func ceilingEvents(b *testing.B, n int) []event.Event {
	ev := newBenchEvent(b)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	events := make([]event.Event, n)
	for i := range events {
		if err := json.Unmarshal(ev.appendEvent(nil, run+"-"+strconv.Itoa(i), time.Now()), &events[i]); err != nil {
			b.Fatal(err)
		}
	}
	return events
}

// publish stores events with pub, batch events per Publish call from
// senders goroutines, each calling again once its last call returned.
func publish(b *testing.B, pub *bus.Publisher, events []event.Event, batch, senders int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for range senders {
		wg.Go(func() {
			for {
				from := int(next.Add(int64(batch))) - batch
				if from >= len(events) || failed.Load() != nil {
					return
				}
				if _, err := pub.Publish(context.Background(), "default", events[from:min(from+batch, len(events))]); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
}

// waitCount waits until got reaches n, failing the benchmark after 2
// minutes so that a run always ends.
func waitCount(b *testing.B, got *atomic.Int64, n int64) {
	deadline := time.Now().Add(2 * time.Minute)
	for got.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("consumed %d of %d within 2m", got.Load(), n)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// BenchmarkJetStreamCeiling is the ceiling alone, with the events of a
// request published as atomic batches (as auditbus does on the embedded
// server) and one by one (as it does on an external server, and did
// before), so the two compare within one run. b.N is the number of events.
func BenchmarkJetStreamCeiling(b *testing.B) {
	batch := benchEnv(b, "AUDITBUS_BENCH_BATCH", 100)
	senders := benchEnv(b, "AUDITBUS_BENCH_SENDERS", 4)
	for _, mode := range []struct {
		name   string
		atomic bool
	}{{"publish=atomic", true}, {"publish=each", false}} {
		b.Run(mode.name, func(b *testing.B) {
			b.ResetTimer()
			wall, cpu := ceiling(b, b.N, batch, senders, benchSync(b), mode.atomic)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/wall.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
		})
	}
}

// BenchmarkE2ECeilingRatio measures, in one run, the ceiling, then the
// whole pipeline at one target (BenchmarkE2EThroughput's), then the
// ceiling again, each on a fresh server with the same events, batching
// and fsync setting (and atomic batches when, as auditbus does, it
// fsyncs every write), and reports the pipeline's events/s over the mean of
// the two ceilings (ratio), how far the second ceiling drifted from the
// first (ceiling-drift, 1 when the machine was steady), and the ceiling's
// CPU time per event over the pipeline's (cpu-ratio, the steadier figure
// on a shared machine). b.N is the number of events of each part.
func BenchmarkE2ECeilingRatio(b *testing.B) {
	batch := benchEnv(b, "AUDITBUS_BENCH_BATCH", 100)
	senders := benchEnv(b, "AUDITBUS_BENCH_SENDERS", 4)
	sync := benchSync(b)
	b.ResetTimer()
	c1, cpu1 := ceiling(b, b.N, batch, senders, sync, sync == 0)
	r := newE2ERunChild(b, 1, senders)
	cpu0, hook0 := cpuTime(), r.child.cpu(b)
	e2e := r.throughput(b, b.N, batch, senders)
	cpuE2E := cpuTime() - cpu0 + r.child.cpu(b) - hook0 // the receiver's too, as when it ran in this process
	r.stop()
	c2, cpu2 := ceiling(b, b.N, batch, senders, sync, sync == 0)
	b.StopTimer()
	rate := func(d time.Duration) float64 { return float64(b.N) / d.Seconds() }
	ceil := (rate(c1) + rate(c2)) / 2
	b.ReportMetric(ceil, "ceiling-events/s")
	b.ReportMetric(rate(e2e), "events/s")
	b.ReportMetric(rate(e2e)/ceil, "ratio")
	b.ReportMetric(rate(c2)/rate(c1), "ceiling-drift")
	// CPU time per event is far steadier on a shared machine than wall
	// time: the ceiling's over the pipeline's is the same ratio by CPU.
	b.ReportMetric(float64(cpu1+cpu2)/2/float64(cpuE2E), "cpu-ratio")
}
