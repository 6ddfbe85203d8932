package ruleset

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/rules"
)

// stepped is a Manager without its polling goroutine: the test calls poll
// itself and moves the settle clock by hand, so every step is exact.
type stepped struct {
	m       *Manager
	now     time.Time
	running []string // the rule names of the last installed set
}

func newStepped(t *testing.T, settle time.Duration, paths ...string) *stepped {
	t.Helper()
	return startStepped(t, nil, WithFiles(paths...), WithSettle(settle))
}

// startStepped starts a stepped Manager with opts, on js's rules bucket
// unless js is nil.
func startStepped(t *testing.T, js jetstream.JetStream, opts ...Option) *stepped {
	t.Helper()
	st := &stepped{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st.m = New(append(opts, WithPollInterval(-1))...)
	st.m.opts.now = func() time.Time { return st.now }
	apply := func(_ context.Context, set *rules.Set) error {
		st.running = nil
		for _, r := range set.Rules() {
			st.running = append(st.running, r.Name)
		}
		slices.Sort(st.running)
		return nil
	}
	if err := st.m.Start(context.Background(), js, apply); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.m.Stop)
	return st
}

// poll runs one poll, after moving the clock by d.
func (st *stepped) poll(d time.Duration) {
	st.now = st.now.Add(d)
	st.m.pollOnce(context.Background())
}

func settleRule(name string) string {
	return fmt.Sprintf("name: %s\npattern:\n  data:\n    eventName: [%q]\ntargets:\n  - id: out\n    log: {}\n", name, name)
}

// overwrite writes path in place, as an editor or `cat >` does (not the
// atomic rename), so a poll can read any state of it.
func overwrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRewriteInHalvesKeepsEveryRule: a file of two rules rewritten in
// place, seen by polls empty, then cut at the `---` between its rules,
// then whole, runs both rules at every step; the steps that lost rules are
// shown as pending removals, and nothing is removed however long (short
// of the settle time) each lasts.
func TestRewriteInHalvesKeepsEveryRule(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	whole := settleRule("alpha") + "---\n" + settleRule("beta")
	overwrite(t, path, whole)
	st := newStepped(t, time.Minute, path)
	both := []string{"alpha", "beta"}
	for _, step := range []struct {
		name, content, pending string // pending: a fragment of the pending removal, "" for none
	}{
		{"empty", "", "rules default/alpha, default/beta stop running at 2026-01-01T00:01:"},
		{"cut at ---", settleRule("alpha") + "---\n", "rules default/beta stop running"},
		{"whole again", whole, ""},
	} {
		overwrite(t, path, step.content)
		for i := range 3 { // the change is read, read again, then lasts
			st.poll(15 * time.Second)
			if !slices.Equal(st.running, both) {
				t.Fatalf("%s, poll %d: running %v, want %v", step.name, i+1, st.running, both)
			}
		}
		pending := st.m.Status().PendingRemovals
		if step.pending == "" && len(pending) != 0 || step.pending != "" && (len(pending) != 1 || !strings.Contains(pending[0], step.pending)) {
			t.Fatalf("%s: pending removals %q, want one with %q", step.name, pending, step.pending)
		}
	}
}

// TestRemovalAfterSettle: rules a file lost stop once it has stayed
// without them for the settle time, not a poll before; the rest of the
// edit waits with them, and a deleted file goes the same way.
func TestRemovalAfterSettle(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	overwrite(t, a, settleRule("alpha")+"---\n"+settleRule("beta"))
	overwrite(t, b, settleRule("gamma"))
	st := newStepped(t, time.Minute, dir)
	check := func(when string, want ...string) {
		t.Helper()
		if !slices.Equal(st.running, want) {
			t.Fatalf("%s: running %v, want %v", when, st.running, want)
		}
	}
	overwrite(t, a, settleRule("alpha")+"---\n"+settleRule("delta"))
	st.poll(time.Second) // read once
	st.poll(time.Second) // read again: held from now
	st.poll(59 * time.Second)
	check("a second before the settle time", "alpha", "beta", "gamma")
	st.poll(time.Second)
	check("at the settle time", "alpha", "delta", "gamma")

	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	st.poll(time.Second) // found gone: held from now
	st.poll(59 * time.Second)
	check("gone a second short of the settle time", "alpha", "delta", "gamma")
	if p := st.m.Status().PendingRemovals; len(p) != 1 || !strings.Contains(p[0], b+": file gone; rules default/gamma stop running") {
		t.Fatalf("pending removals %q, want the gone file", p)
	}
	st.poll(time.Second)
	check("gone for the settle time", "alpha", "delta")
	if p := st.m.Status().PendingRemovals; len(p) != 0 {
		t.Fatalf("pending removals %q after the removal", p)
	}
}

// TestChangeWaitsUntilStable: a changed file is applied when two polls in
// a row read the same content, so content that changes between every
// poll (a slow write) is never applied, and a settle time of its own does
// not delay an edit that keeps every rule.
func TestChangeWaitsUntilStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	overwrite(t, path, settleRule("alpha"))
	st := newStepped(t, time.Hour, path)
	for i, content := range []string{settleRule("alpha") + "---\n" + settleRule("b"), settleRule("alpha") + "---\n" + settleRule("be")} {
		overwrite(t, path, content)
		st.poll(time.Second)
		if !slices.Equal(st.running, []string{"alpha"}) {
			t.Fatalf("write %d, read once: running %v, want [alpha]", i+1, st.running)
		}
	}
	st.poll(time.Second)
	if !slices.Equal(st.running, []string{"alpha", "be"}) {
		t.Fatalf("read twice: running %v, want [alpha be]", st.running)
	}
}
