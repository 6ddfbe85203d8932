package dispatch

import (
	"testing"
	"time"
)

func TestRetryDelayBounds(t *testing.T) {
	const base, cap = time.Second, 5 * time.Minute
	for _, tc := range []struct {
		name       string
		attempt    uint64
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{"first retry within base", 1, 0, 0, base},
		{"doubles", 4, 0, 0, 8 * base},
		{"capped", 20, 0, 0, cap},
		{"huge attempt does not overflow", 1 << 40, 0, 0, cap},
		{"retry-after is a floor", 1, 30 * time.Second, 30 * time.Second, 30 * time.Second},
		{"retry-after above the cap is cut", 1, time.Hour, cap, cap},
		{"attempt zero (no metadata) stays within the cap", 0, 0, 0, cap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 200 {
				if d := retryDelay(tc.attempt, base, cap, tc.retryAfter); d < tc.lo || d > tc.hi {
					t.Fatalf("retryDelay(%d, retry-after %s) = %s, want in [%s, %s]", tc.attempt, tc.retryAfter, d, tc.lo, tc.hi)
				}
			}
		})
	}
}

func TestRetryDelayIsJittered(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[retryDelay(5, time.Second, time.Minute, 0)] = true
	}
	if len(seen) < 10 {
		t.Errorf("50 delays took only %d values; want full jitter", len(seen))
	}
}
