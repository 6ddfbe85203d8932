package console

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// rateWindow is how far back the ingest rate looks.
const rateWindow = time.Minute

// sampleEvery is how often Run samples the ingest counter.
const sampleEvery = 5 * time.Second

// ingestCounter is the counter the ingest rate is computed from.
const ingestCounter = "auditbus_ingest_events_total"

// Run samples the ingest counter every sampleEvery until ctx ends, so
// the overview's ingest rate covers the time since the server started,
// not only the time an overview was open. The server runs it on its own
// goroutine and cancels ctx on shutdown; Run returns then.
func (c *Console) Run(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	c.sampleLoop(ctx, t.C, c.ingestCount)
}

// ingestCount is the ingest counter's total; a server with metrics but no
// event ingested yet has none of its series, which counts as 0.
func (c *Console) ingestCount() (float64, bool) {
	g := c.api.Gatherer()
	n, ok := counterSum(g, ingestCounter)
	return n, ok || g != nil
}

// sampleLoop adds count's value to the rate sampler now and at each tick
// until ctx ends.
func (c *Console) sampleLoop(ctx context.Context, tick <-chan time.Time, count func() (float64, bool)) {
	for {
		if n, ok := count(); ok {
			c.rate.add(time.Now(), n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// rateSampler turns a counter into a rate from samples: the console's
// Run takes one every sampleEvery from the server's start, and each view
// of the overview one more, so the first view already has a rate. No
// rate until two samples are a second apart.
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
