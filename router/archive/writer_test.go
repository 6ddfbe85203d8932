package archive

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// TestLayout: files are where CTS puts them, named as CTS names them,
// and compress_type json writes plain JSON.
func TestLayout(t *testing.T) {
	f := newFixture(t)
	at := time.Date(2026, 5, 9, 3, 30, 5, 0, time.UTC)
	evs := indextest.Events(t, 1, at) // one CTS trace of service VPC
	f.publish(t, evs)
	cases := []struct {
		obs  cts.ObsInfo
		want string
	}{
		{cts.ObsInfo{FilePrefixName: "pre", CompressType: "gzip", IsSortByService: true},
			"pre/CloudTraces/auditbus/2026/5/9/system/VPC/pre_CloudTrace_auditbus_2026-05-09T03-30-05Z_0000000000000001.json.gz"},
		{cts.ObsInfo{CompressType: "json"},
			"CloudTraces/auditbus/2026/5/9/system/CloudTrace_auditbus_2026-05-09T03-30-05Z_0000000000000001.json"},
	}
	for _, c := range cases {
		os.RemoveAll(f.dir)
		os.Mkdir(f.dir, 0o750)
		f.trackers.Delete(context.Background(), "p1", "system")
		w := f.writer(t, 100)
		tk := f.tracker(t, c.obs)
		tk.ID = c.want // a new tracker: progress starts afresh
		drain(t, w, tk)
		ids, files := archived(t, f.dir)
		if !slices.Equal(files, []string{c.want}) {
			t.Errorf("files %v, want [%s]", files, c.want)
		}
		checkOnce(t, ids, evs)
	}
}

// TestExcludeService: management_event_selector.exclude_service leaves a
// service's traces out.
func TestExcludeService(t *testing.T) {
	f := newFixture(t)
	evs := indextest.Events(t, 30, time.Now().Add(-time.Hour))
	f.publish(t, evs)
	w := f.writer(t, 7)
	drain(t, w, f.tracker(t, cts.ObsInfo{CompressType: "gzip", IsSortByService: true}, "ECS"))
	ids, files := archived(t, f.dir)
	for _, p := range files {
		if strings.Contains(p, "/ECS/") {
			t.Errorf("excluded service archived: %s", p)
		}
	}
	if len(ids) == 0 || len(ids) >= len(evs) {
		t.Errorf("%d of %d traces archived: the exclusion excluded nothing or everything", len(ids), len(evs))
	}
}

// TestCrashAfterFilesBeforeProgress: a writer that wrote some of a
// claimed range's files and died before moving past it leaves a range
// the next writer finishes, the missing file with the same name and
// bytes; every event is archived once, and a killed writer's temp file
// is removed.
func TestCrashAfterFilesBeforeProgress(t *testing.T) {
	f := newFixture(t)
	evs := indextest.Events(t, 300, time.Now().Add(-time.Hour))
	f.publish(t, evs)
	tk := f.tracker(t, cts.ObsInfo{CompressType: "gzip", IsSortByService: true})
	ctx := context.Background()

	// The dead writer's steps, by hand: claim, write, no progress.
	dead := f.writer(t, 120)
	c, ok, err := dead.nextRange(ctx, 0, tk)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := dead.save(ctx, key("p1", "system"), progress{TrackerID: tk.ID, Pending: &c}, 0); err != nil {
		t.Fatal(err)
	}
	if err := dead.writeRange(ctx, f.dir, tk.TrackerName, c); err != nil {
		t.Fatal(err)
	}
	_, before := archived(t, f.dir)
	contents := map[string][]byte{}
	for _, p := range before {
		contents[p], _ = os.ReadFile(filepath.Join(f.dir, p))
	}
	if len(before) < 2 {
		t.Fatalf("the range wrote %d files; the test needs two, one to lose", len(before))
	}
	// Died after renaming some of the range's files: one is missing.
	if err := os.Remove(filepath.Join(f.dir, before[0])); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(f.dir, filepath.Dir(before[0]), tmpPrefix+"123")
	if err := os.WriteFile(stray, []byte("half a file"), 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stray, old, old)

	next := f.writer(t, 120)
	next.Housekeep([]cts.Tracker{tk}, time.Now())
	drain(t, next, tk)
	ids, files := archived(t, f.dir)
	checkOnce(t, ids, evs)
	for p, b := range contents {
		if got, _ := os.ReadFile(filepath.Join(f.dir, p)); !bytes.Equal(got, b) {
			t.Errorf("%s rewritten with other bytes", p)
		}
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("stale temp file left: %v", err)
	}
	if len(files) <= len(before) {
		t.Errorf("%d files after, %d before: the rest of the stream was not written", len(files), len(before))
	}
}

// TestTwoReplicas: two writers on one tracker and bucket at once write
// every event once.
func TestTwoReplicas(t *testing.T) {
	f := newFixture(t)
	evs := indextest.Events(t, 2000, time.Now().Add(-time.Hour))
	tk := f.tracker(t, cts.ObsInfo{CompressType: "gzip", IsSortByService: true})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	a, b := f.writer(t, 50), f.writer(t, 50)
	for _, w := range []*Writer{a, b} {
		wg.Go(func() { _ = w.Run(ctx) })
	}
	f.publish(t, evs)
	bustest.WaitLong(t, "both writers caught up", func() (bool, string) {
		p, _, err := a.load(context.Background(), key(tk.ProjectID, tk.TrackerName))
		return err == nil && p.Pending == nil && p.Next > uint64(len(evs)), fmt.Sprintf("%+v %v", p, err)
	})
	cancel()
	wg.Wait()
	ids, _ := archived(t, f.dir)
	checkOnce(t, ids, evs)
}

// TestLifecycle: bucket_lifecycle removes the tracker's days older than
// it, keeps the newer ones and other trackers' files.
func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	oldEvs := indextest.Events(t, 6, now.AddDate(0, 0, -40))
	newEvs := indextest.Events(t, 6, now.Add(-time.Hour))
	for i := range newEvs {
		newEvs[i].SetID(newEvs[i].ID() + "-new")
	}
	f.publish(t, append(oldEvs, newEvs...))
	tk := f.tracker(t, cts.ObsInfo{CompressType: "gzip", BucketLifecycle: 30})
	w := f.writer(t, 100)
	drain(t, w, tk)
	other := filepath.Join(f.dir, "CloudTraces", "auditbus", "2000", "1", "1", "data-x", "f.json")
	os.MkdirAll(filepath.Dir(other), 0o750)
	os.WriteFile(other, []byte("[]"), 0o640)
	if ids, _ := archived(t, f.dir); len(ids) != 12 {
		t.Fatalf("%d traces archived before the lifecycle, want 12", len(ids))
	}
	w.Housekeep([]cts.Tracker{tk}, now)
	ids, _ := archived(t, f.dir)
	checkOnce(t, ids, newEvs)
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another tracker's file went: %v", err)
	}
}

// TestGzipStandardTools: gzip -t and zcat read the trace files, and zcat
// gives the JSON array of traces.
func TestGzipStandardTools(t *testing.T) {
	f := newFixture(t)
	evs := indextest.Events(t, 50, time.Now().Add(-time.Hour))
	f.publish(t, evs)
	drain(t, f.writer(t, 20), f.tracker(t, cts.ObsInfo{CompressType: "gzip", IsSortByService: true}))
	_, files := archived(t, f.dir)
	if len(files) == 0 {
		t.Fatal("no files")
	}
	n := 0
	for _, p := range files {
		full := filepath.Join(f.dir, p)
		if out, err := exec.Command("gzip", "-t", full).CombinedOutput(); err != nil {
			t.Errorf("gzip -t %s: %v %s", p, err, out)
		}
		out, err := exec.Command("zcat", full).Output()
		if err != nil || !bytes.HasPrefix(out, []byte("[\n{")) || !bytes.HasSuffix(out, []byte("}\n]\n")) {
			t.Errorf("zcat %s: %v %.80q", p, err, out)
		}
		n += bytes.Count(out, []byte(`"trace_id":`))
	}
	if n != len(evs) {
		t.Errorf("zcat reads %d traces, want %d", n, len(evs))
	}
}

// TestDisabledWritesNothing: a disabled tracker writes no file; enabled
// again, it writes what the stream still holds. Data trackers and
// trackers without a bucket write nothing either.
func TestDisabledWritesNothing(t *testing.T) {
	f := newFixture(t)
	evs := indextest.Events(t, 40, time.Now().Add(-time.Hour))
	f.publish(t, evs)
	w := f.writer(t, 100)
	tk := f.tracker(t, cts.ObsInfo{CompressType: "gzip"})
	off := []cts.Tracker{tk, tk, tk}
	off[0].Status = cts.StatusDisabled
	off[1].TrackerType, off[1].TrackerName = cts.TrackerData, "d1"
	off[2].ObsInfo.BucketName = ""
	for _, o := range off {
		if more, err := w.Step(context.Background(), o); more || err != nil {
			t.Errorf("tracker %+v wrote: %v %v", o, more, err)
		}
	}
	if ids, files := archived(t, f.dir); len(files) != 0 {
		t.Fatalf("%d files (%d traces) written by trackers that write nothing", len(files), len(ids))
	}
	drain(t, w, tk)
	ids, _ := archived(t, f.dir)
	checkOnce(t, ids, evs)
}
