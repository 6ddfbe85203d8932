package auth

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

func sigN(n int) [32]byte {
	var s [32]byte
	s[0], s[1], s[2] = byte(n), byte(n>>8), byte(n>>16)
	return s
}

// TestReplayCache: steps against one cache of capacity 2, in order.
func TestReplayCache(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewReplayCache(2)
	steps := []struct {
		name    string
		sig     int
		expires time.Duration // after t0
		now     time.Duration // after t0
		want    error
		wantLen int
	}{
		{"first use accepted", 1, 30 * time.Minute, 0, nil, 1},
		{"same signature refused", 1, 30 * time.Minute, time.Minute, ErrReplayed, 1},
		{"another accepted", 2, 10 * time.Minute, time.Minute, nil, 2},
		{"full of unexpired: refused, not forgotten", 3, 30 * time.Minute, 2 * time.Minute, ErrReplayCacheFull, 2},
		{"refused one was not recorded", 1, 30 * time.Minute, 3 * time.Minute, ErrReplayed, 2},
		{"the earliest expiry is evicted first, not the oldest entry", 3, 40 * time.Minute, 10 * time.Minute, nil, 2},
		{"full again (1 and 3 held)", 2, 40 * time.Minute, 10 * time.Minute, ErrReplayCacheFull, 2},
		{"the survivor is still refused", 1, 30 * time.Minute, 29 * time.Minute, ErrReplayed, 2},
		{"everything expired: evicted on the next call", 4, 50 * time.Minute, 45 * time.Minute, nil, 1},
	}
	for _, s := range steps {
		err := c.Remember("AK", sigN(s.sig), t0.Add(s.expires), t0.Add(s.now))
		if !errors.Is(err, s.want) || c.Len() != s.wantLen {
			t.Fatalf("%s: Remember = %v with %d held; want %v with %d", s.name, err, c.Len(), s.want, s.wantLen)
		}
	}
}

// TestReplayCacheConcurrent: of many goroutines remembering the same
// signature exactly one succeeds; distinct signatures all succeed.
func TestReplayCacheConcurrent(t *testing.T) {
	now := time.Now()
	c := NewReplayCache(0)
	const workers = 16
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			errs[i] = c.Remember("AK", sigN(0), now.Add(time.Minute), now)
			for j := 1; j <= 100; j++ {
				if err := c.Remember("AK", sigN(i*1000+j), now.Add(time.Minute), now); err != nil {
					t.Errorf("distinct signature refused: %v", err)
				}
			}
		})
	}
	wg.Wait()
	accepted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			accepted++
		case !errors.Is(err, ErrReplayed):
			t.Errorf("unexpected error %v", err)
		}
	}
	if accepted != 1 || c.Len() != 1+workers*100 {
		t.Fatalf("%d goroutines accepted the same signature, %d held; want 1 and %d", accepted, c.Len(), 1+workers*100)
	}
}

// BenchmarkReplayCacheFull fills a default cache (ns/op over
// DefaultReplayCapacity calls) and reports the memory it holds per entry.
func BenchmarkReplayCacheFull(b *testing.B) {
	now := time.Now()
	var before, after runtime.MemStats
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		c := NewReplayCache(0)
		for i := range DefaultReplayCapacity {
			c.Remember("AK", sigN(i), now.Add(time.Duration(i%900)*time.Second), now)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/DefaultReplayCapacity, "bytes/entry")
		runtime.KeepAlive(c)
		b.StartTimer()
	}
}

// TestReplayCapacityPerKey: a key that fills its share of the cache is
// refused, and another key's signatures are still remembered (found in
// review: one cache for all let any key holder lock out every other).
func TestReplayCapacityPerKey(t *testing.T) {
	c := NewReplayCache(2)
	now := time.Unix(1_700_000_000, 0)
	for i := range 2 {
		if err := c.Remember("FLOODER", sigN(i), now.Add(time.Minute), now); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Remember("FLOODER", sigN(2), now.Add(time.Minute), now); !errors.Is(err, ErrReplayCacheFull) {
		t.Errorf("third signature of a full key: %v, want ErrReplayCacheFull", err)
	}
	if err := c.Remember("OPS", sigN(3), now.Add(time.Minute), now); err != nil {
		t.Errorf("another key while the first is full: %v", err)
	}
	if err := c.Remember("FLOODER", sigN(4), now.Add(2*time.Minute), now.Add(time.Minute)); err != nil {
		t.Errorf("after the key's signatures expired: %v", err)
	}
	if n := c.Len(); n != 1 { // every signature of the first minute expired
		t.Errorf("Len %d after eviction, want 1", n)
	}
}
