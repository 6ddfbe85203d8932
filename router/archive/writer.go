package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cts"
)

// ProgressBucket is the KV bucket of each tracker's archive progress,
// keyed as the trackers.
const ProgressBucket = "auditbus-archive"

// Defaults of the Writer.
const (
	DefaultRegion   = "auditbus"
	DefaultInterval = 10 * time.Second
	DefaultBatch    = 5000 // events (stream sequences) per claimed range
	housekeepEvery  = time.Hour
	staleTemp       = 10 * time.Minute
)

// progress is a tracker's archive progress.
type progress struct {
	TrackerID string `json:"tracker_id"` // a new tracker of the same name starts afresh
	Next      uint64 `json:"next"`       // first stream sequence not archived yet; 0: the stream's first
	Pending   *claim `json:"pending,omitempty"`
}

// claim is a range being written, with the settings it is written with,
// so that whoever finishes it writes the same files.
type claim struct {
	First, Last uint64
	Obs         cts.ObsInfo
	Exclude     []string
}

// Writer transfers the traces of every enabled management tracker with a
// bucket into it. Data trackers write nothing: auditbus receives no OBS
// data events.
type Writer struct {
	js       jetstream.JetStream
	trackers *Trackers
	buckets  *Buckets
	progress jetstream.KeyValue
	region   string
	interval time.Duration
	batch    uint64
	log      zerolog.Logger
	m        *metrics
	now      func() time.Time
}

// WriterConfig configures a Writer; zero fields take the defaults.
type WriterConfig struct {
	Region   string        // the region in paths and names; default DefaultRegion
	Interval time.Duration // how often trackers are checked for new events; default DefaultInterval
	Batch    int           // stream sequences per range at most; default DefaultBatch
	Replicas int           // of the progress bucket
	Log      zerolog.Logger
	Reg      prometheus.Registerer // nil: metrics not registered
}

// NewWriter opens the progress bucket and returns a writer.
func NewWriter(ctx context.Context, js jetstream.JetStream, t *Trackers, b *Buckets, cfg WriterConfig) (*Writer, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: ProgressBucket, Description: "auditbus: each tracker's archive progress, key <project_id>.<tracker_name>",
		Storage: jetstream.FileStorage, Replicas: max(cfg.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("archive progress bucket %s: %w", ProgressBucket, err)
	}
	w := &Writer{js: js, trackers: t, buckets: b, progress: kv, region: cfg.Region, interval: cfg.Interval,
		batch: uint64(max(cfg.Batch, 0)), log: cfg.Log, m: newMetrics(cfg.Reg), now: time.Now}
	if w.region == "" {
		w.region = DefaultRegion
	}
	if w.interval <= 0 {
		w.interval = DefaultInterval
	}
	if w.batch == 0 {
		w.batch = DefaultBatch
	}
	return w, nil
}

// Run writes until ctx ends, then returns nil. Failures are logged and
// retried at the next pass; nothing is lost, since progress moves only
// after a range's files are in place.
func (w *Writer) Run(ctx context.Context) error {
	var nextHousekeep time.Time
	for ctx.Err() == nil {
		trackers, err := w.trackers.List(ctx, "")
		if err != nil {
			w.warn(ctx, err, "archive: list trackers")
		}
		if now := w.now(); !now.Before(nextHousekeep) {
			w.Housekeep(trackers, now)
			nextHousekeep = now.Add(housekeepEvery)
		}
		busy := false
		for _, t := range trackers {
			more, err := w.Step(ctx, t)
			if err != nil {
				w.warn(ctx, err, "archive: tracker "+t.TrackerName)
			}
			busy = busy || more
		}
		if busy {
			continue // behind: no pause until caught up
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.interval):
		}
	}
	return nil
}

func (w *Writer) warn(ctx context.Context, err error, msg string) {
	if ctx.Err() == nil {
		w.m.errors.Inc()
		w.log.Warn().Err(err).Msg(msg)
	}
}

// Step archives one range of t's events, finishing a claimed one first.
// It reports whether it wrote a range (more may be waiting).
func (w *Writer) Step(ctx context.Context, t cts.Tracker) (bool, error) {
	if t.TrackerType != cts.TrackerSystem || t.Status != cts.StatusEnabled || t.ObsInfo.BucketName == "" {
		return false, nil
	}
	dir := w.buckets.Dir(t.ObsInfo.BucketName)
	if dir == "" {
		return false, nil // shown as status error, detail noBucket
	}
	k := key(t.ProjectID, t.TrackerName)
	p, rev, err := w.load(ctx, k)
	if err != nil {
		return false, err
	}
	if p.TrackerID != t.ID {
		p = progress{TrackerID: t.ID}
	}
	if p.Pending == nil {
		c, ok, err := w.nextRange(ctx, p.Next, t)
		if err != nil || !ok {
			return false, err
		}
		p.Pending = &c
		if rev, err = w.save(ctx, k, p, rev); err != nil {
			return false, ignoreLost(err)
		}
	}
	// The claim's bucket, not the tracker's: it may have changed since.
	if dir = w.buckets.Dir(p.Pending.Obs.BucketName); dir == "" {
		return false, fmt.Errorf("archive: range %d-%d: bucket %s is no longer declared", p.Pending.First, p.Pending.Last, p.Pending.Obs.BucketName)
	}
	if err := w.writeRange(ctx, dir, t.TrackerName, *p.Pending); err != nil {
		return false, err
	}
	p = progress{TrackerID: t.ID, Next: p.Pending.Last + 1}
	if _, err := w.save(ctx, k, p, rev); err != nil {
		return false, ignoreLost(err)
	}
	return true, nil
}

// errLost is a compare-and-set another writer won: not a failure.
var errLost = errors.New("another writer moved the progress first")

func ignoreLost(err error) error {
	if errors.Is(err, errLost) {
		return nil
	}
	return err
}

// nextRange is the range after next: up to batch sequences, to the
// stream's last.
func (w *Writer) nextRange(ctx context.Context, next uint64, t cts.Tracker) (claim, bool, error) {
	s, err := w.js.Stream(ctx, bus.StreamName)
	if err != nil {
		return claim{}, false, fmt.Errorf("archive: stream: %w", err)
	}
	st := s.CachedInfo().State // js.Stream just fetched it
	first := max(next, st.FirstSeq, 1)
	if st.Msgs == 0 || first > st.LastSeq {
		return claim{}, false, nil
	}
	return claim{First: first, Last: min(first+w.batch-1, st.LastSeq), Obs: t.ObsInfo,
		Exclude: slices.Clone(t.ManagementEventSelector.ExcludeService)}, true, nil
}

func (w *Writer) load(ctx context.Context, k string) (progress, uint64, error) {
	e, err := w.progress.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return progress{}, 0, nil
	}
	if err != nil {
		return progress{}, 0, fmt.Errorf("archive progress %s: %w", k, err)
	}
	var p progress
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return progress{}, 0, fmt.Errorf("archive progress %s: %w", k, err)
	}
	return p, e.Revision(), nil
}

// save stores p if the entry is still at rev, returning the new revision.
func (w *Writer) save(ctx context.Context, k string, p progress, rev uint64) (uint64, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return 0, fmt.Errorf("archive progress: %w", err)
	}
	var nrev uint64
	if rev == 0 {
		nrev, err = w.progress.Create(ctx, k, b)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return 0, errLost
		}
	} else {
		nrev, err = w.progress.Update(ctx, k, b, rev)
		if err != nil && isWrongSequence(err) {
			return 0, errLost
		}
	}
	if err != nil {
		return 0, fmt.Errorf("archive progress %s: %w", k, err)
	}
	return nrev, nil
}

// writeRange reads the range's events and writes their files.
func (w *Writer) writeRange(ctx context.Context, bucketDir, tracker string, c claim) error {
	groups, n, err := w.read(ctx, tracker, c)
	if err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, g := range groups {
		dir := filepath.Join(bucketDir, g.dir)
		name := fileName(c.Obs.FilePrefixName, w.region, g, c.Obs.CompressType)
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			// Written before a crash: whole (renamed into place), and of
			// these events. Kept rather than rewritten, also in case
			// some of them have aged out of the stream since.
			continue
		}
		data, err := encode(g.traces, trimGz(name), c.Obs.CompressType)
		if err != nil {
			return err
		}
		if err := writeAtomic(dir, name, data); err != nil {
			return err
		}
		dirs[dir] = true
		w.m.files.Inc()
		w.m.bytes.Add(float64(len(data)))
	}
	for dir := range dirs {
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	w.m.events.Add(float64(n))
	return nil
}
