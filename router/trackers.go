package router

import (
	"context"

	"github.com/auditbus/auditbus/router/archive"
	"github.com/auditbus/auditbus/router/cts"
)

// startArchive opens the trackers bucket for the tracker endpoints and
// runs the archive writer until Stop (its goroutine is one of bgWG's).
func (s *Server) startArchive(ctx context.Context) error {
	buckets, err := archive.NewBuckets(s.cfg.Buckets)
	if err != nil {
		return err
	}
	store, err := archive.OpenTrackers(ctx, s.js, s.cfg.Stream.Replicas)
	if err != nil {
		return err
	}
	w, err := archive.NewWriter(ctx, s.js, store, buckets, archive.WriterConfig{
		Region: s.cfg.ArchiveRegion, Interval: s.cfg.ArchiveInterval, Replicas: s.cfg.Stream.Replicas,
		Log: s.cfg.Log, Reg: s.reg,
	})
	if err != nil {
		return err
	}
	s.trackers = &cts.Trackers{Store: store, Buckets: buckets, DataQuota: s.cfg.DataTrackerQuota}
	s.bgWG.Go(func() { _ = w.Run(s.bgCtx) })
	return nil
}
