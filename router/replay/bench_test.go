package replay_test

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/replay"
)

// cpuTime is the process's user and system CPU time so far (the
// embedded NATS server runs in it too).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReplay measures a what-if replay through 10 live rules of the
// same 10,000 CTS events from the stream and from a gzip archive, as
// events/s, CPU µs per event, and events/s as a ratio to ingesting them
// (bus.Publisher, batches of 500) in the same run.
func BenchmarkReplay(b *testing.B) {
	const n = 10_000
	rng := rand.New(rand.NewPCG(9, 9))
	f := newFixture(b, randomRules(rng, 10))
	start := time.Now().Add(-5 * time.Minute).Truncate(time.Millisecond)
	evs := ctsEvents(b, rng, n, start)
	pub := bus.NewPublisher(f.srv.JS)
	t0, c0 := time.Now(), cpuTime(b)
	for i := 0; i < n; i += 500 {
		if _, err := pub.Publish(context.Background(), "default", evs[i:i+500]); err != nil {
			b.Fatal(err)
		}
	}
	ingestRate := n / time.Since(t0).Seconds()
	ingestCPU := float64((cpuTime(b) - c0).Microseconds()) / n
	f.archive(b, "gzip")
	for _, src := range []struct{ name, tracker string }{{"stream", ""}, {"archive", "system"}} {
		b.Run(src.name, func(b *testing.B) {
			req := replay.Request{From: start, To: start.Add(time.Minute), Tracker: src.tracker}
			var events int64
			t0, c0 := time.Now(), cpuTime(b)
			for b.Loop() {
				st := f.run(b, req)
				if st.Progress.InRange != n {
					b.Fatalf("%d of %d events replayed", st.Progress.InRange, n)
				}
				events += st.Progress.InRange
			}
			rate := float64(events) / time.Since(t0).Seconds()
			b.ReportMetric(rate, "events/s")
			b.ReportMetric(float64((cpuTime(b)-c0).Microseconds())/float64(events), "cpu-µs/event")
			b.ReportMetric(rate/ingestRate, "x-ingest-rate")
			b.ReportMetric(ingestCPU, "ingest-cpu-µs/event")
		})
	}
}
