package archive

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/auditbus/auditbus/router/cts"
)

// TestTrackersSnapshotPut: a put holds only at the project revision its
// snapshot read; any write of the project (a create, a replace, a
// delete) moves the revision on, and another project's writes do not.
func TestTrackersSnapshotPut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tk := func(project, name string) cts.Tracker {
		return cts.Tracker{TrackerType: cts.TrackerData, TrackerName: name, ProjectID: project}
	}
	snap := func(project string) ([]string, uint64) {
		t.Helper()
		all, rev, err := f.trackers.Snapshot(ctx, project)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, x := range all {
			names = append(names, x.TrackerName)
		}
		return names, rev
	}
	if names, rev := snap("p1"); len(names) != 0 || rev != 0 {
		t.Fatalf("empty project: %v at %d, want nothing at 0", names, rev)
	}
	steps := []struct {
		name    string
		do      func(rev uint64) error
		changed bool // answers ErrTrackerChanged
	}{
		{"create a", func(rev uint64) error { return f.trackers.Put(ctx, tk("p1", "a"), rev) }, false},
		{"create b at a stale revision", func(rev uint64) error { return f.trackers.Put(ctx, tk("p1", "b"), rev-1) }, true},
		{"another project's write", func(uint64) error { return f.trackers.Put(ctx, tk("p10", "x"), 0) }, false},
		{"create b", func(rev uint64) error { return f.trackers.Put(ctx, tk("p1", "b"), rev) }, false},
		{"delete a", func(uint64) error { return f.trackers.Delete(ctx, "p1", "a") }, false},
		{"replace b at the revision before the delete", func(rev uint64) error { return f.trackers.Put(ctx, tk("p1", "b"), rev-1) }, true},
		{"replace b", func(rev uint64) error { return f.trackers.Put(ctx, tk("p1", "b"), rev) }, false},
	}
	var last uint64
	for _, s := range steps {
		_, rev := snap("p1")
		err := s.do(rev)
		if got := errors.Is(err, cts.ErrTrackerChanged); got != s.changed || (!s.changed && err != nil) {
			t.Fatalf("%s: %v, want changed %v", s.name, err, s.changed)
		}
		last = rev
	}
	names, rev := snap("p1")
	if len(names) != 1 || names[0] != "b" || rev <= last {
		t.Errorf("after the steps: %v at %d, want [b] past %d", names, rev, last)
	}
}

// BenchmarkTrackersRead compares the two reads of a project's 20
// trackers: List (the key list, then a get per key; what the writer
// uses) and Snapshot (one watcher; what a create or update checks
// against).
func BenchmarkTrackersRead(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	for i := range 20 {
		_, rev, err := f.trackers.Snapshot(ctx, "p1")
		if err != nil {
			b.Fatal(err)
		}
		if err := f.trackers.Put(ctx, cts.Tracker{TrackerType: cts.TrackerData, TrackerName: "d" + strconv.Itoa(i), ProjectID: "p1"}, rev); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			if all, err := f.trackers.List(ctx, "p1"); err != nil || len(all) != 20 {
				b.Fatal(len(all), err)
			}
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			if all, _, err := f.trackers.Snapshot(ctx, "p1"); err != nil || len(all) != 20 {
				b.Fatal(len(all), err)
			}
		}
	})
}
