package console

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// rateWindow is how far back the ingest rate looks.
const rateWindow = time.Minute

// rateSampler turns a counter into a rate from the samples the overview
// takes as it is viewed (it polls every few seconds): no goroutine of its
// own, and no rate until two samples are a second apart.
type rateSampler struct {
	mu      sync.Mutex
	samples []sample
}

type sample struct {
	at    time.Time
	count float64
}

// add records count at now and returns the rate per second over the
// window, ok false while there is no earlier sample to compare.
func (s *rateSampler) add(now time.Time, count float64) (perSecond float64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := s.samples[:0]
	for _, x := range s.samples {
		if now.Sub(x.at) <= rateWindow && x.count <= count {
			keep = append(keep, x)
		}
	}
	s.samples = append(keep, sample{now, count})
	first := s.samples[0]
	dt := now.Sub(first.at).Seconds()
	if dt < 1 {
		return 0, false
	}
	return (count - first.count) / dt, true
}

// counterSum is the sum of every series of the counter name in g; false
// when g has no such metric.
func counterSum(g prometheus.Gatherer, name string) (float64, bool) {
	if g == nil {
		return 0, false
	}
	mfs, err := g.Gather()
	if err != nil {
		return 0, false
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
		return sum, true
	}
	return 0, false
}

// counterBy is the counter name's values in g keyed by the values of
// labels a and b ("bus", "rule").
func counterBy(g prometheus.Gatherer, name, a, b string) map[[2]string]float64 {
	out := map[[2]string]float64{}
	if g == nil {
		return out
	}
	mfs, err := g.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var k [2]string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case a:
					k[0] = l.GetValue()
				case b:
					k[1] = l.GetValue()
				}
			}
			out[k] += m.GetCounter().GetValue()
		}
	}
	return out
}
