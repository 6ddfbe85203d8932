package index_test

import (
	"context"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// seqs checks that s holds exactly the stream sequences 1..n, once each.
func seqs(t *testing.T, s index.Store, n int) {
	t.Helper()
	seen := make(map[uint64]int)
	q := index.Query{Limit: 500}
	for _, r := range walk(t, s, q) {
		seen[r]++
	}
	for seq := uint64(1); seq <= uint64(n); seq++ {
		if seen[seq] != 1 {
			t.Fatalf("seq %d indexed %d times", seq, seen[seq])
		}
	}
	if len(seen) != n {
		t.Fatalf("%d sequences indexed, want %d", len(seen), n)
	}
}

// TestIndexerStopsAndReplicas stops an indexer in the middle of the
// stream (nothing acked past its last commit), then runs two indexers on
// the same consumer and store, as two replicas would, while more events
// arrive: every event ends up indexed exactly once.
func TestIndexerStopsAndReplicas(t *testing.T) {
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			b, s := newBus(t), st.Open(t)
			evs := indextest.Events(t, 3000, time.Now().Add(-2*time.Hour))
			b.publish(t, "default", evs[:2000])
			_, stop := run(t, b, s, index.WithBatchSize(100))
			deadline := time.Now().Add(time.Minute)
			for n, _ := s.Count(context.Background(), index.Query{}); n == 0 && time.Now().Before(deadline); n, _ = s.Count(context.Background(), index.Query{}) {
				time.Sleep(time.Millisecond)
			}
			stop()
			run(t, b, s, index.WithBatchSize(100))
			run(t, b, s, index.WithBatchSize(70))
			b.publish(t, "other", evs[2000:])
			waitCount(t, b, s, int64(len(evs)))
			seqs(t, s, len(evs))
		})
	}
}

// TestIndexerRebuildAndRetention: a rebuild asked for through the store
// gives the same answers; retention removes what is older than max age.
func TestIndexerRebuildAndRetention(t *testing.T) {
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			b, s := newBus(t), st.Open(t)
			now := time.Now()
			old := indextest.Events(t, 30, now.Add(-10*24*time.Hour))
			recent := indextest.Events(t, 60, now.Add(-time.Hour))[30:]
			b.publish(t, "default", append(old, recent...))
			_, stop := run(t, b, s, index.WithMaxAge(30*24*time.Hour))
			waitCount(t, b, s, 60)
			before, err := s.Search(context.Background(), index.Query{Limit: 100, Equal: map[index.Field][]string{index.FieldPrincipal: {"alice"}}})
			if err != nil {
				t.Fatal(err)
			}
			stop()
			if err := s.RequestRebuild(context.Background()); err != nil {
				t.Fatal(err)
			}
			_, stop = run(t, b, s, index.WithMaxAge(30*24*time.Hour))
			waitCount(t, b, s, 60)
			after, err := s.Search(context.Background(), index.Query{Limit: 100, Equal: map[index.Field][]string{index.FieldPrincipal: {"alice"}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(after) == 0 || len(after) != len(before) {
				t.Fatalf("rebuilt index answers %d records, before %d", len(after), len(before))
			}
			for i := range after {
				if after[i].Seq != before[i].Seq || string(after[i].Event) != string(before[i].Event) {
					t.Fatalf("record %d differs after the rebuild: seq %d, before %d", i, after[i].Seq, before[i].Seq)
				}
			}
			stop()
			// The default max age (7 days) drops the 10-day-old events at start.
			run(t, b, s)
			deadline := time.Now().Add(time.Minute)
			n, _ := s.Count(context.Background(), index.Query{})
			for ; n != 30 && time.Now().Before(deadline); n, _ = s.Count(context.Background(), index.Query{}) {
				time.Sleep(10 * time.Millisecond)
			}
			if oldLeft, _ := s.Count(context.Background(), index.Query{Before: now.Add(-7 * 24 * time.Hour)}); n != 30 || oldLeft != 0 {
				t.Fatalf("after retention %d records (%d older than 7 days), want the 30 recent", n, oldLeft)
			}
		})
	}
}
