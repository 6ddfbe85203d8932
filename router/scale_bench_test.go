package router_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
)

// The scale benchmarks of issue #13. Run them once each:
//
//	go test ./router -run '^$' -bench 'ManyTargets|E2ESpread' -benchtime 1x
//	go test ./router -run '^$' -bench 'E2ESpread' -benchtime 20000x

// startRules runs a whole auditbus on a rule file of src.
func startRules(b *testing.B, src string) *router.Server {
	rules := filepath.Join(b.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := router.Start(context.Background(), router.Config{
		Listen: "127.0.0.1:0", DataDir: b.TempDir(), NATSListen: "-", Rules: []string{rules},
		ShutdownGrace: time.Second, RulesReloadInterval: -1, Log: zerolog.Nop(), Stdout: io.Discard,
		AllowPrivateTargets: true,
	})
	if err != nil {
		b.Fatalf("start: %v", err)
	}
	b.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

// BenchmarkManyTargets starts auditbus (embedded server defaults) with
// pairs (rule, target) pairs, ten targets per rule, and reports the time
// until it routes (ready-s), the cores it uses idle over the next 5 s
// (idle-cores; auditbus and the embedded server, one process) and its
// resident memory then (rss-MB).
func BenchmarkManyTargets(b *testing.B) {
	for _, pairs := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			hook := newBenchHook(b)
			var src strings.Builder
			for i := range pairs / 10 {
				fmt.Fprintf(&src, "---\nname: r%d\npattern:\n  data:\n    eventName: [E%d]\ntargets:\n", i, i)
				for j := range 10 {
					fmt.Fprintf(&src, "  - id: t%d\n    webhook: {url: %q}\n", j, hook.URL)
				}
			}
			for range b.N {
				t0 := time.Now()
				startRules(b, src.String())
				ready := time.Since(t0)
				cpu0 := cpuTime()
				time.Sleep(5 * time.Second)
				b.ReportMetric(ready.Seconds(), "ready-s")
				b.ReportMetric((cpuTime()-cpu0).Seconds()/5, "idle-cores")
				b.ReportMetric(rssMB(b), "rss-MB")
			}
		})
	}
}

// rssMB is this process's resident memory.
func rssMB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkE2ESpread is BenchmarkE2EThroughput with each event going to
// one of `targets` rules of one target each (round robin), to compare
// events/s spread over 1,000 targets with the same load over 10.
func BenchmarkE2ESpread(b *testing.B) {
	const batchSize, senders = 100, 4
	for _, targets := range []int{10, 1000} {
		b.Run(fmt.Sprintf("targets=%d", targets), func(b *testing.B) {
			hook := newBenchHook(b)
			var src strings.Builder
			for i := range targets {
				fmt.Fprintf(&src, "---\nname: r%d\npattern:\n  id: [{suffix: \"-k%d\"}]\ntargets:\n  - id: t\n    webhook: {url: %q, timeout: 10s}\n", i, i, hook.URL)
			}
			s := startRules(b, src.String())
			url := "http://" + s.Addr() + "/v1/events"
			c := benchClient(senders)
			ev := newBenchEvent(b)
			body := func(run string, first, last int) []byte {
				var buf bytes.Buffer
				buf.WriteByte('[')
				for i := first; i < last; i++ {
					if i > first {
						buf.WriteByte(',')
					}
					buf.Write(ev.appendEvent(nil, fmt.Sprintf("%s-%d-k%d", run, i, i%targets), time.Now()))
				}
				buf.WriteByte(']')
				return buf.Bytes()
			}
			for first := 0; first < targets; first += batchSize {
				if err := postBatch(c, url, body("warm", first, min(first+batchSize, targets))); err != nil {
					b.Fatal(err)
				}
			}
			hook.waitDeliveries(b, int64(targets), time.Minute)
			hook.got.Store(0)
			run := strconv.FormatInt(time.Now().UnixNano(), 36)
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range senders {
				wg.Go(func() {
					for {
						first := int(next.Add(batchSize)) - batchSize
						if first >= b.N {
							return
						}
						if err := postBatch(c, url, body(run, first, min(first+batchSize, b.N))); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			end := hook.waitDeliveries(b, int64(b.N), 2*time.Minute)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/end.Sub(start).Seconds(), "events/s")
			reportCPU(b, cpu0, end.Sub(start), b.N)
		})
	}
}
