package archive

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/cts"
)

// fixture is a bus with the events stream, the trackers bucket and one
// declared bucket "logs".
type fixture struct {
	srv      *bustest.Server
	trackers *Trackers
	buckets  *Buckets
	dir      string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	srv := bustest.Start(t, "")
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, srv.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	tr, err := OpenTrackers(ctx, srv.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := NewBuckets(map[string]string{"logs": dir})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, trackers: tr, buckets: b, dir: dir}
}

func (f *fixture) tracker(t testing.TB, obs cts.ObsInfo, exclude ...string) cts.Tracker {
	t.Helper()
	obs.BucketName = "logs"
	tk := cts.Tracker{ID: "id-1", TrackerType: cts.TrackerSystem, TrackerName: cts.TrackerSystem, ProjectID: "p1",
		Status: cts.StatusEnabled, ObsInfo: obs, ManagementEventSelector: cts.ManagementEventSelector{ExcludeService: exclude}}
	_, rev, err := f.trackers.Snapshot(context.Background(), tk.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.trackers.Put(context.Background(), tk, rev); err != nil {
		t.Fatal(err)
	}
	return tk
}

func (f *fixture) writer(t testing.TB, batch int) *Writer {
	t.Helper()
	w, err := NewWriter(context.Background(), f.srv.JS, f.trackers, f.buckets, WriterConfig{Batch: batch, Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (f *fixture) publish(t testing.TB, evs []event.Event) {
	t.Helper()
	pub := bus.NewPublisher(f.srv.JS)
	for i := 0; i < len(evs); i += 500 {
		res, err := pub.Publish(context.Background(), "default", evs[i:min(i+500, len(evs))])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Duplicate {
				t.Fatalf("event %s published twice", r.ID)
			}
		}
	}
}

// drain steps until the tracker is caught up.
func drain(t testing.TB, w *Writer, tk cts.Tracker) {
	t.Helper()
	for {
		more, err := w.Step(context.Background(), tk)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			return
		}
	}
}

// archived reads every trace file under dir: trace id to count, and the
// files' paths relative to dir.
func archived(t testing.TB, dir string) (map[string]int, []string) {
	t.Helper()
	ids := map[string]int{}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, rel)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		var r io.Reader = f
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				return err
			}
			r = zr
		}
		var traces []cts.Trace
		if err := json.NewDecoder(r).Decode(&traces); err != nil {
			return err
		}
		for _, tr := range traces {
			ids[tr.TraceID]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, files
}

func checkOnce(t testing.TB, ids map[string]int, evs []event.Event) {
	t.Helper()
	for _, e := range evs {
		if ids[e.ID()] != 1 {
			t.Errorf("event %s is archived %d times, want once", e.ID(), ids[e.ID()])
		}
	}
	if len(ids) != len(evs) {
		t.Errorf("archive holds %d traces, want %d", len(ids), len(evs))
	}
}
