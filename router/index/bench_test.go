package index_test

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
	"github.com/auditbus/auditbus/rules"
)

// benchRecords are n records of realistic events of all three sources,
// as the indexer builds them, one second apart ending now.
func benchRecords(b *testing.B, n int) []index.Record {
	b.Helper()
	// 300 distinct events, repeated with fresh sequences and times.
	evs := indextest.Events(b, 300, time.Now())
	base := make([]index.Record, len(evs))
	for i := range evs {
		raw, err := cejson.Marshal(&evs[i])
		if err != nil {
			b.Fatal(err)
		}
		if base[i], err = index.FromMessage(0, bus.Subject("default", &evs[i]), raw, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now().Add(-time.Duration(n) * time.Second)
	recs := make([]index.Record, n)
	for i := range recs {
		recs[i] = base[i%len(base)]
		recs[i].Seq, recs[i].Time = uint64(i+1), start.Add(time.Duration(i)*time.Second)
	}
	return recs
}

func put(b *testing.B, s index.Store, recs []index.Record) {
	b.Helper()
	for start := 0; start < len(recs); start += index.DefaultBatchSize {
		if err := s.Put(context.Background(), recs[start:min(start+index.DefaultBatchSize, len(recs))]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPut is indexing throughput: b.N records written in the
// indexer's batches (500 per transaction). Compare events/s of the
// stores in one run:
//
//	go test ./router/index -run '^$' -bench Put -benchtime 50000x
func BenchmarkPut(b *testing.B) {
	for _, st := range indextest.Stores {
		b.Run(st.Name, func(b *testing.B) {
			s := st.Open(b)
			recs := benchRecords(b, b.N)
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			put(b, s, recs)
			reportPut(b, start, cpu)
		})
	}
}

// reportPut reports events/s and the CPU time per event (µs), the figure
// a shared machine disturbs least.
func reportPut(b *testing.B, start time.Time, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/event")
}

// queryEvents is how many events BenchmarkQuery indexes:
//
//	go test ./router/index -run '^$' -bench Query -benchtime 200x -cpu 1 -query-events=1000000
var queryEvents = flag.Int("query-events", 100_000, "BenchmarkQuery: events to index")

// BenchmarkQuery is query latency (ns/op) with -query-events events
// indexed (default 100,000), written straight through the Store in the
// indexer's batches: the first page (50, the API's default) of one
// principal's events (a quarter of them), a page of hers half-way down the
// index through the cursor, and a count over a time range of a fifth of
// the events.
func BenchmarkQuery(b *testing.B) {
	n := *queryEvents
	for _, st := range indextest.Stores {
		b.Run(st.Name, func(b *testing.B) {
			s := st.Open(b)
			start, mid := fill(b, s, n)
			alice := map[index.Field][]string{index.FieldPrincipal: {indextest.Principals[0]}}
			ctx := context.Background()
			cursor := &index.Cursor{Time: mid, Seq: uint64(n / 2)}
			from, to := start.Add(time.Duration(n/2)*time.Second), start.Add(time.Duration(n/2+n/5)*time.Second)
			for _, q := range []struct {
				name string
				run  func() error
			}{
				{"first-page-principal", func() error { _, err := s.Search(ctx, index.Query{Equal: alice, Limit: 50}); return err }},
				{"deep-page-principal", func() error {
					_, err := s.Search(ctx, index.Query{Equal: alice, From: cursor, Limit: 50})
					return err
				}},
				{"count-time-range", func() error {
					c, err := s.Count(ctx, index.Query{After: from, Before: to})
					if err == nil && c != int64(n/5-1) {
						err = fmt.Errorf("count %d, want %d", c, n/5-1)
					}
					return err
				}},
			} {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if err := q.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// fill writes n records of benchRecords' kind straight through s, in the
// indexer's batches, without holding them all in memory; it returns the
// first record's time and the time of record n/2.
func fill(b *testing.B, s index.Store, n int) (start, mid time.Time) {
	b.Helper()
	base := benchRecords(b, 300)
	start = time.Now().Add(-time.Duration(n) * time.Second).Truncate(time.Second)
	batch := make([]index.Record, 0, index.DefaultBatchSize)
	for i := range n {
		r := base[i%len(base)]
		r.Seq, r.Time = uint64(i+1), start.Add(time.Duration(i)*time.Second)
		if batch = append(batch, r); len(batch) == cap(batch) || i == n-1 {
			if err := s.Put(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return start, start.Add(time.Duration(n/2-1) * time.Second)
}

// BenchmarkSize reports the SQLite index's bytes per event at 20,000
// events (the file after a checkpoint).
func BenchmarkSize(b *testing.B) {
	const n = 20_000
	dir := b.TempDir()
	s, err := index.OpenSQLite(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	put(b, s, benchRecords(b, n))
	s.Close()
	for b.Loop() {
	}
	info, err := statIndex(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(info)/n, "bytes/event")
}

// BenchmarkPatternSearch is the narrowing's effect on a pattern search
// over 100,000 indexed events: the first 50 matches of a pattern, read in
// pages of 500 and decided by the rule engine, with the query narrowed by
// the pattern (index.Narrow) and without (a scan of everything in order),
// for a pattern matching one event in twelve and one matching none (the
// scan stops at 10,000 events, as the search endpoint's default):
//
//	go test ./router/index -run '^$' -bench PatternSearch -benchtime 20x
func BenchmarkPatternSearch(b *testing.B) {
	const n = 100_000
	s, err := index.OpenSQLite(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	put(b, s, benchRecords(b, n))
	for _, p := range []struct{ name, pattern string }{
		{"one-in-twelve", `{"principal": ["alice"], "resourcetype": ["eip"]}`},
		{"none", `{"principal": ["mallory"], "type": [{"prefix": "VPC:"}]}`},
	} {
		rule := benchRule(b, p.pattern)
		for _, mode := range []struct {
			name string
			q    index.Query
		}{{"scan", index.Query{}}, {"narrowed", index.Narrow(index.Query{}, rule)}} {
			b.Run(p.name+"/"+mode.name, func(b *testing.B) {
				for b.Loop() {
					scanned := firstMatches(b, s, mode.q, rule, 50, 10_000)
					b.ReportMetric(float64(scanned), "scanned/op")
				}
			})
		}
	}
}

func benchRule(b *testing.B, pattern string) *rules.Rule {
	b.Helper()
	rs, err := rules.ParseFile("bench.json", []byte(`{"name": "b", "pattern": `+pattern+`, "targets": [{"id": "t", "log": {}}]}`))
	if err != nil {
		b.Fatal(err)
	}
	return rs[0]
}

// firstMatches pages through q as the search endpoint does until want
// events matched or max were examined, and returns how many it examined.
func firstMatches(b *testing.B, s index.Store, q index.Query, rule *rules.Rule, want, max int) int {
	scanned, matched := 0, 0
	for scanned < max {
		q.Limit = min(500, max-scanned)
		recs, err := s.Search(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			scanned++
			var e event.Event
			if err := cejson.Unmarshal(r.Event, &e); err != nil {
				b.Fatal(err)
			}
			if ok, _ := rule.Match(rules.NewEnv(&e)); ok {
				if matched++; matched == want {
					return scanned
				}
			}
		}
		if len(recs) < q.Limit {
			return scanned
		}
		last := recs[len(recs)-1]
		q.From = &index.Cursor{Time: last.Time, Seq: last.Seq}
	}
	return scanned
}

// BenchmarkSQLiteTuning is the SQLite write path before and after tuning
// (see tunedSQLite): events/s writing b.N records in the indexer's
// batches, into an empty index. Run both in one run, a few times over,
// as the machine may be shared:
//
//	go test ./router/index -run '^$' -bench SQLiteTuning -benchtime 200000x -count 2
func BenchmarkSQLiteTuning(b *testing.B) {
	for _, v := range []struct {
		name string
		open func(context.Context, string) (index.Store, error)
	}{{"baseline", index.OpenSQLiteBaseline}, {"pragmas", index.OpenSQLitePragmasOnly}, {"tuned", index.OpenSQLite}} {
		b.Run(v.name, func(b *testing.B) {
			s, err := v.open(context.Background(), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			recs := benchRecords(b, b.N)
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			put(b, s, recs)
			reportPut(b, start, cpu)
		})
	}
}
