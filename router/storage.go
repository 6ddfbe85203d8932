package router

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// storeNearFraction is the share of the storage limit past which the log
// warns that JetStream storage is nearly full.
const storeNearFraction = 0.9

// refusalHold is how long a storage refusal keeps /readyz not ready when
// auditbus cannot read the limit (an external server's own max store):
// after it, readiness lets requests try again, and the next refusal starts
// it over.
const refusalHold = 10 * time.Second

// storeWatch remembers whether storage was last seen near its limit, so
// the warning is logged once per crossing, not on every check.
type storeWatch struct {
	near atomic.Bool
}

// startStoreWatch logs the storage limit and serves the storage metrics.
// Usage is read when /metrics is scraped or /readyz asked: no goroutine.
func (s *Server) startStoreWatch(ctx context.Context) {
	s.reg.MustRegister(storeCollector{s})
	used, limit, err := s.storeUsage(ctx)
	if err != nil {
		s.cfg.Log.Warn().Err(err).Msg("JetStream storage use unknown")
		return
	}
	s.cfg.Log.Info().Int64("used_bytes", used).Int64("limit_bytes", limit).Msg("JetStream storage")
}

// storeUsage returns the bytes JetStream stores for auditbus's account and
// the limit they may reach: the smaller of the account's limit and, on the
// embedded server, the server's max store; limit 0 when neither is known.
func (s *Server) storeUsage(ctx context.Context) (used, limit int64, err error) {
	ai, err := s.js.AccountInfo(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("JetStream account info: %w", err)
	}
	used = int64(ai.Store)
	if ai.Limits.MaxStore > 0 {
		limit = ai.Limits.MaxStore
	}
	if s.ns != nil {
		if c := s.ns.JetStreamConfig(); c != nil && c.MaxStore > 0 && (limit == 0 || c.MaxStore < limit) {
			limit = c.MaxStore
		}
	}
	s.noteUsage(used, limit)
	return used, limit, nil
}

// noteUsage logs when storage use crosses storeNearFraction of the limit.
func (s *Server) noteUsage(used, limit int64) {
	near := limit > 0 && float64(used) >= storeNearFraction*float64(limit)
	if s.store.near.Swap(near) == near {
		return
	}
	if near {
		s.cfg.Log.Warn().Int64("used_bytes", used).Int64("limit_bytes", limit).
			Msg("JetStream storage is nearly full: free space, shorten --stream-max-age or raise --nats-max-store before events are refused")
		return
	}
	s.cfg.Log.Info().Int64("used_bytes", used).Int64("limit_bytes", limit).Msg("JetStream storage is below 90% of its limit again")
}

// storageReady is the storage part of /readyz: not ready while the
// embedded server's disk is full, while usage is at the limit, or while the last publish was refused for lack of storage and
// nothing shows room since (usage below a known limit, or refusalHold
// passed when the limit is unknown). Room clears the refusal.
func (s *Server) storageReady(ctx context.Context) error {
	if err := s.disk.Check(); err != nil {
		return fmt.Errorf("%w: free space on the filesystem of --data-dir; auditbus reopens its JetStream streams once there is room", err)
	}
	used, limit, err := s.storeUsage(ctx)
	if err != nil {
		return err
	}
	if limit > 0 && used >= limit {
		return fmt.Errorf("JetStream storage is full: %d of %d bytes used; free space or raise --nats-max-store", used, limit)
	}
	r := s.pub.StorageRefusal()
	if r.Err == nil {
		return nil
	}
	if limit > 0 || time.Since(r.At) >= refusalHold {
		s.pub.ClearStorageRefusal(r)
		return nil
	}
	return fmt.Errorf("%v, %s ago (%d bytes used)", r.Err, time.Since(r.At).Round(time.Second), used)
}

var (
	storeUsedDesc = prometheus.NewDesc("auditbus_jetstream_store_used_bytes",
		"Bytes JetStream stores for auditbus: events, deliveries, dead letters and buckets.", nil, nil)
	storeLimitDesc = prometheus.NewDesc("auditbus_jetstream_store_limit_bytes",
		"The most bytes JetStream stores before it refuses events (--nats-max-store on the embedded server); absent when unknown.", nil, nil)
)

// storeCollector reads storage use on each scrape.
type storeCollector struct{ s *Server }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- storeUsedDesc
	ch <- storeLimitDesc
}

// Collect emits nothing when JetStream does not answer, so an outage does
// not fail the whole scrape; /readyz reports it.
func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	used, limit, err := c.s.storeUsage(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(storeUsedDesc, prometheus.GaugeValue, float64(used))
	if limit > 0 {
		ch <- prometheus.MustNewConstMetric(storeLimitDesc, prometheus.GaugeValue, float64(limit))
	}
}
