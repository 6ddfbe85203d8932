package ruleset_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/ruleset"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/rules/rulestest"
	"github.com/auditbus/auditbus/sinks"
)

// BenchmarkLoadFiles starts a Manager on one file of generated rules, as
// serve does (sinks check each target), until the set is installed: the
// time to load, and the heap the Manager and the installed Set keep per
// rule (issue #13: at most 4 KB per rule, 100,000 rules in at most 3 s).
// wall-s/op is from Start to the set installed; cpu-s/op is the CPU the
// process spent on it (garbage collection included), which on a shared
// machine says more than wall time; 1,000 and 10,000 rules show whether
// loading stays linear (cpu-µs/rule).
func BenchmarkLoadFiles(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		path := filepath.Join(b.TempDir(), "rules.yaml")
		if err := os.WriteFile(path, rulestest.Rules(n, 1), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			var perRule float64
			var cpu, wall time.Duration
			for b.Loop() {
				before := heapInUse()
				start, began := cpuTime(), time.Now()
				m, in := startManager(b, path)
				b.StopTimer()
				cpu += cpuTime() - start
				wall += time.Since(began)
				if in.last == nil || in.last.Len() != n {
					b.Fatalf("installed %v, want %d rules", in.last, n)
				}
				perRule = float64(heapInUse()-before) / float64(n)
				runtime.KeepAlive(in.last)
				m.Stop()
				b.StartTimer()
			}
			b.ReportMetric(perRule, "B/rule")
			b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/op")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/rule")
		})
	}
}

func startManager(tb testing.TB, path string) (*ruleset.Manager, *installed) {
	tb.Helper()
	m := ruleset.New(ruleset.WithFiles(path), ruleset.WithPollInterval(0),
		ruleset.WithParseOptions(rules.WithTargetCheck(sinks.Check)))
	in := &installed{}
	if err := m.Start(context.Background(), nil, in.apply); err != nil {
		tb.Fatal(err)
	}
	return m, in
}

// heapInUse is the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
