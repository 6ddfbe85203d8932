package router_test

import (
	"context"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/pgtest"
)

// BenchmarkIngestWithIndex is ingest (POST /v1/events in batches of 100,
// four requests in flight, no rules, fsync every 2 minutes so the disk
// does not hide the difference) with the audit index off, on SQLite and on
// PostgreSQL; with an index it also reports how fast the index caught up
// (indexed-events/s, from the first request until the index holds every
// event), and the process's CPU time per event until then (cpu-µs/event:
// ingest, and indexing when on), the figure a shared machine disturbs
// least; where ingest is CPU-bound, off/on of it is the ingest capacity
// left with the index running. Compare one run:
//
//	go test ./router -run '^$' -bench IngestWithIndex -benchtime 20000x
func BenchmarkIngestWithIndex(b *testing.B) {
	for _, v := range []struct {
		name string
		cfg  func(b *testing.B, c *router.Config)
	}{
		{"index=off", func(_ *testing.B, c *router.Config) { c.IndexOff = true }},
		{"index=sqlite", func(*testing.B, *router.Config) {}},
		{"index=postgres", func(b *testing.B, c *router.Config) { c.IndexURL = pgtest.Shared(b).NewDatabase(b) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			cfg := router.Config{Listen: "127.0.0.1:0", DataDir: b.TempDir(), NATSListen: "-", NATSSyncInterval: 2 * time.Minute,
				ShutdownGrace: time.Second, RulesReloadInterval: -1, Log: zerolog.Nop(), Stdout: io.Discard}
			v.cfg(b, &cfg)
			s, err := router.Start(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Stop(context.Background()) })
			benchIngestIndexed(b, s, !cfg.IndexOff)
		})
	}
}

func benchIngestIndexed(b *testing.B, s *router.Server, indexed bool) {
	base := "http://" + s.Addr()
	c := benchClient(4)
	ev := newBenchEvent(b)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for {
				first := int(next.Add(100)) - 100
				if first >= b.N {
					return
				}
				if err := postBatch(c, base+"/v1/events", ev.batch(run, first, min(first+100, b.N), time.Now())); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	ingest := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/ingest.Seconds(), "events/s")
	if !indexed {
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/event")
		return
	}
	for {
		n, err := s.Index().Count(context.Background(), index.Query{})
		if err != nil {
			b.Fatal(err)
		}
		if n >= int64(b.N) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "indexed-events/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/event")
}

// BenchmarkIndexCatchUp is the audit index on its own: b.N events
// ingested with the index off, then a server on the same data dir with
// the index on, timed from its start until the index holds every event.
// cpu-µs/event is then the indexer's CPU per event alone (fetching,
// deriving the record, the store's writes, acks), indexed-events/s its
// rate catching up. Compare one run:
//
//	go test ./router -run '^$' -bench IndexCatchUp -benchtime 20000x
func BenchmarkIndexCatchUp(b *testing.B) {
	for _, v := range []struct {
		name string
		url  func(b *testing.B) string
	}{
		{"index=sqlite", func(*testing.B) string { return "" }},
		{"index=postgres", func(b *testing.B) string { return pgtest.Shared(b).NewDatabase(b) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			cfg := router.Config{Listen: "127.0.0.1:0", DataDir: b.TempDir(), NATSListen: "-", NATSSyncInterval: 2 * time.Minute,
				ShutdownGrace: time.Second, RulesReloadInterval: -1, Log: zerolog.Nop(), Stdout: io.Discard, IndexOff: true}
			s, err := router.Start(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			ingestAll(b, s)
			s.Stop(context.Background())
			cfg.IndexOff, cfg.IndexURL = false, v.url(b)
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			if s, err = router.Start(context.Background(), cfg); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Stop(context.Background()) })
			for {
				n, err := s.Index().Count(context.Background(), index.Query{})
				if err != nil {
					b.Fatal(err)
				}
				if n >= int64(b.N) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "indexed-events/s")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/event")
		})
	}
}

// ingestAll posts b.N events to s in batches of 100.
func ingestAll(b *testing.B, s *router.Server) {
	c, ev := benchClient(1), newBenchEvent(b)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for first := 0; first < b.N; first += 100 {
		if err := postBatch(c, "http://"+s.Addr()+"/v1/events", ev.batch(run, first, min(first+100, b.N), time.Now())); err != nil {
			b.Fatal(err)
		}
	}
}
