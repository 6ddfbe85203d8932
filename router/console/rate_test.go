package console

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestRateSampler: the rate is the counter's rise over the last minute of
// samples; none from one sample, and a counter that went back (a restart)
// starts afresh.
func TestRateSampler(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	type step struct {
		after time.Duration
		count float64
		rate  float64
		ok    bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"one sample", []step{{0, 10, 0, false}}},
		{"within a second", []step{{0, 10, 0, false}, {500 * time.Millisecond, 20, 0, false}}},
		{"steady", []step{{0, 0, 0, false}, {5 * time.Second, 50, 10, true}, {10 * time.Second, 100, 10, true}}},
		{"old samples drop", []step{{0, 0, 0, false}, {30 * time.Second, 600, 20, true}, {90 * time.Second, 600, 0, true}}},
		{"counter reset", []step{{0, 100, 0, false}, {5 * time.Second, 3, 0, false}, {10 * time.Second, 13, 2, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s rateSampler
			for i, st := range tt.steps {
				rate, ok := s.add(t0.Add(st.after), st.count)
				if ok != st.ok || math.Abs(rate-st.rate) > 1e-9 {
					t.Errorf("step %d: %v, %t; want %v, %t", i, rate, ok, st.rate, st.ok)
				}
			}
		})
	}
}

// TestCounters: counterSum adds every series, counterBy keys them by two
// labels; a metric that is not there is reported so.
func TestCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "auditbus_rule_matches_total"}, []string{"bus", "rule"})
	reg.MustRegister(c)
	c.WithLabelValues("default", "a").Add(3)
	c.WithLabelValues("prod", "a").Add(4)
	if sum, ok := counterSum(reg, "auditbus_rule_matches_total"); !ok || sum != 7 {
		t.Errorf("sum %v, %t", sum, ok)
	}
	if _, ok := counterSum(reg, "auditbus_nothing_total"); ok {
		t.Error("a missing metric is found")
	}
	by := counterBy(reg, "auditbus_rule_matches_total", "bus", "rule")
	if by[[2]string{"prod", "a"}] != 4 || by[[2]string{"default", "a"}] != 3 || len(by) != 2 {
		t.Errorf("by labels %v", by)
	}
}

// TestSampleLoop: the console's sampler takes a sample at once and one
// per tick, and returns when its context ends.
func TestSampleLoop(t *testing.T) {
	var c Console
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	counted := make(chan struct{})
	n := 0.0
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.sampleLoop(ctx, tick, func() (float64, bool) {
			n += 10
			counted <- struct{}{}
			return n, true
		})
	}()
	<-counted // the sample at start
	tick <- time.Now()
	<-counted
	cancel()
	<-done
	c.rate.mu.Lock()
	got := len(c.rate.samples)
	c.rate.mu.Unlock()
	if got != 2 {
		t.Errorf("%d samples after the start and one tick, want 2", got)
	}
}
