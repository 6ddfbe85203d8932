package ruleset

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"weak"

	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/rules/rulestest"
)

// watchedReads makes m read rule files through os.ReadFile while counting
// the reads and keeping a weak pointer to the bytes of the last one.
type watchedReads struct {
	n    int
	last weak.Pointer[byte]
}

func (w *watchedReads) install(m *Manager) {
	m.opts.readFile = func(path string) ([]byte, error) {
		src, err := os.ReadFile(path)
		w.n++
		if len(src) > 0 {
			w.last = weak.Make(&src[0])
		}
		return src, err
	}
}

// startWatched starts a Manager without its polling goroutine on one file
// of n generated rules, reading it through w, and returns the Manager and
// the set it installed.
func startWatched(t *testing.T, n int, w *watchedReads) (*Manager, *rules.Set) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, rulestest.Rules(n, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	m := New(WithFiles(path), WithPollInterval(-1))
	w.install(m)
	var set *rules.Set
	apply := func(_ context.Context, s *rules.Set) error { set = s; return nil }
	if err := m.Start(context.Background(), nil, apply); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	if set == nil {
		t.Fatal("Start installed no set")
	}
	return m, set
}

// TestLoadKeepsNoFileBytes: once a file's rules are installed, nothing the
// Manager or the set keeps refers to the file's bytes, so they are
// collected (issue #13: a loaded rule keeps at most 4 KB, which the file's
// own bytes would exceed). The file is large enough to be parsed in
// chunks, on several goroutines.
func TestLoadKeepsNoFileBytes(t *testing.T) {
	var w watchedReads
	m, set := startWatched(t, 1000, &w)
	if w.n != 1 || set.Len() != 1000 {
		t.Fatalf("read %d times, installed %d rules; want one read and 1000 rules", w.n, set.Len())
	}
	// Two cycles: a parsing goroutine may still be on its way out, its
	// chunk in hand, during the first.
	runtime.GC()
	runtime.GC()
	if w.last.Value() != nil {
		t.Error("the rule file's bytes are still reachable after its rules were installed")
	}
	runtime.KeepAlive(m)
	runtime.KeepAlive(set)
}

// TestPollReadsUnchangedFileNotWhole: a poll of a file whose content did
// not change hashes it as it streams past and reads no copy of it, so
// polling 100,000 rules does not allocate their file every interval.
func TestPollReadsUnchangedFileNotWhole(t *testing.T) {
	var w watchedReads
	m, _ := startWatched(t, 10, &w)
	for range 3 {
		m.pollOnce(context.Background())
	}
	if w.n != 1 {
		t.Errorf("the file was read whole %d times over a load and 3 polls without changes, want once (the load)", w.n)
	}
}

// TestChangeDuringReadWaits: a file that changes between the poll that
// hashes it and the read that would parse it is not taken from that read,
// which saw its new content once, but at the next poll that reads the same
// content again, as any change after start is.
func TestChangeDuringReadWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	overwrite(t, path, settleRule("alpha"))
	m := New(WithFiles(path), WithPollInterval(-1), WithSettle(-1))
	var rewrite string // written just before the next whole read
	m.opts.readFile = func(p string) ([]byte, error) {
		if rewrite != "" {
			overwrite(t, p, rewrite)
			rewrite = ""
		}
		return os.ReadFile(p)
	}
	var running []string
	apply := func(_ context.Context, set *rules.Set) error {
		running = nil
		for _, r := range set.Rules() {
			running = append(running, r.Name)
		}
		return nil
	}
	if err := m.Start(context.Background(), nil, apply); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	overwrite(t, path, settleRule("beta"))
	for i, want := range []struct {
		rewrite string
		running []string
	}{
		{"", []string{"alpha"}},                  // beta hashed once
		{settleRule("gamma"), []string{"alpha"}}, // beta hashed again, gamma read once
		{"", []string{"gamma"}},                  // gamma hashed again: taken
	} {
		rewrite = want.rewrite
		m.pollOnce(context.Background())
		if !slices.Equal(running, want.running) {
			t.Fatalf("poll %d: running %v, want %v", i+1, running, want.running)
		}
	}
}
