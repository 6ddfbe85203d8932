package rules

import (
	"strings"
	"testing"
	"time"
)

func TestTargetDeliverySettings(t *testing.T) {
	for _, tc := range []struct {
		name, settings string
		want           Target
		err            string
	}{
		{"none", "", Target{}, ""},
		{"all", "retry: {max_attempts: 5, max_age: 2h}\n    concurrency: 3\n    rate: {per_second: 2.5, burst: 4}",
			Target{Retry: &Retry{MaxAttempts: 5, MaxAge: 2 * time.Hour}, Concurrency: 3, Rate: &Rate{PerSecond: 2.5, Burst: 4}}, ""},
		{"burst defaults to the rate rounded up", "rate: {per_second: 2.5}", Target{Rate: &Rate{PerSecond: 2.5, Burst: 3}}, ""},
		{"slow rate bursts one", "rate: {per_second: 0.1}", Target{Rate: &Rate{PerSecond: 0.1, Burst: 1}}, ""},
		{"concurrency zero", "concurrency: 0", Target{}, "concurrency must be an integer from 1 to 1000"},
		{"concurrency huge", "concurrency: 5000", Target{}, "concurrency must be an integer from 1 to 1000"},
		{"rate without per_second", "rate: {burst: 3}", Target{}, "rate needs per_second"},
		{"rate negative", "rate: {per_second: -1}", Target{}, "per_second must be a positive number"},
		{"rate unknown field", "rate: {per_second: 1, per_minute: 3}", Target{}, `unknown rate field "per_minute"`},
		{"rate not a mapping", "rate: 5", Target{}, "rate must be a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: r\ntargets:\n  - id: a\n    log: {}\n    " + tc.settings + "\n"
			set, err := ParseFile("t.yaml", []byte(src))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := set[0].Targets[0]
			if got.Concurrency != tc.want.Concurrency || !eqPtr(got.Retry, tc.want.Retry) || !eqPtr(got.Rate, tc.want.Rate) {
				t.Errorf("got retry=%+v concurrency=%d rate=%+v, want %+v", got.Retry, got.Concurrency, got.Rate, tc.want)
			}
		})
	}
}

func eqPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
