package ruleset_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/ruleset"
	"github.com/auditbus/auditbus/rules"
)

// rule is a rule document matching one event name.
func rule(name, eventName string) string {
	return fmt.Sprintf("name: %s\npattern:\n  data:\n    eventName: [%q]\ntargets:\n  - id: out\n    log: {}\n", name, eventName)
}

// writeFile replaces path's content atomically, as Kubernetes does with a
// ConfigMap, so a poll never reads half a file.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// installed records the sets a Manager installs.
type installed struct {
	mu   sync.Mutex
	sets int
	last *rules.Set
}

func (in *installed) apply(_ context.Context, set *rules.Set) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.sets++
	in.last = set
	return nil
}

func (in *installed) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sets
}

// names are the rule names of the last installed set.
func (in *installed) names() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []string
	for _, r := range in.last.Rules() {
		out = append(out, r.Name)
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within 10s; state: %s", what, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFileReload edits, breaks, duplicates and removes rule files under a
// polling Manager without a settle time: a broken or conflicting file keeps its last good
// version, a fixed one takes effect, a removed one takes its rules along.
func TestFileReload(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yml")
	writeFile(t, a, rule("alpha", "DeleteCluster"))
	reg := prometheus.NewRegistry()
	m := ruleset.New(ruleset.WithFiles(dir), ruleset.WithPollInterval(5*time.Millisecond), ruleset.WithSettle(-1),
		ruleset.WithRegisterer(reg), ruleset.WithLogger(zerolog.New(zerolog.NewTestWriter(t))))
	in := &installed{}
	if err := m.Start(context.Background(), nil, in.apply); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)

	steps := []struct {
		name   string
		change func()
		want   map[string]string // running rule -> event name its expr holds
		errs   []string          // fragments of the problems, in order
	}{
		{"broken edit keeps the last good version", func() { writeFile(t, a, "name: alpha\npattern: [\n") },
			map[string]string{"alpha": "DeleteCluster"}, []string{a + ":2:1: invalid YAML"}},
		{"undoing the broken edit", func() { writeFile(t, a, rule("alpha", "DeleteCluster")) },
			map[string]string{"alpha": "DeleteCluster"}, nil},
		{"fix takes effect", func() { writeFile(t, a, rule("alpha", "CreateCluster")) },
			map[string]string{"alpha": "CreateCluster"}, nil},
		{"new file reusing a running name is broken as a whole", func() { writeFile(t, b, rule("beta", "X")+"---\n"+rule("alpha", "Y")) },
			map[string]string{"alpha": "CreateCluster"}, []string{b + `:9:1: rule "alpha": duplicate rule name on bus "default" (first defined at ` + a + ":1:1)"}},
		{"other files are ignored", func() { writeFile(t, filepath.Join(dir, "notes.txt"), "not: [a rule") },
			map[string]string{"alpha": "CreateCluster"}, []string{b + ":9:1"}},
		{"removing the first file lets the second run", func() { os.Remove(a) },
			map[string]string{"alpha": "Y", "beta": "X"}, nil},
		{"removing the last file removes its rules", func() { os.Remove(b) }, map[string]string{}, nil},
	}
	for _, step := range steps {
		installs := in.count()
		step.change()
		eventually(t, step.name, func() (bool, string) {
			return matches(m, step.want, step.errs), describe(m)
		})
		if got, want := in.names(), slices.Sorted(maps.Keys(step.want)); !slices.Equal(got, want) {
			t.Errorf("%s: router runs %v, want %v", step.name, got, want)
		}
		if step.errs != nil || strings.HasPrefix(step.name, "undoing") {
			if n := in.count(); n != installs {
				t.Errorf("%s: %d sets installed, want none: the running rules did not change", step.name, n-installs)
			}
		}
	}
	if got := metric(t, reg, "auditbus_rules_reloads_total", "error"); got < 2 {
		t.Errorf("reloads with result=error = %v, want at least 2", got)
	}
	if got := metric(t, reg, "auditbus_rules_broken_sources", ""); got != 0 {
		t.Errorf("broken sources = %v after every file was removed", got)
	}
}

// matches reports whether m runs exactly want and reports errs.
func matches(m *ruleset.Manager, want map[string]string, errs []string) bool {
	list := m.List()
	if len(list) != len(want) {
		return false
	}
	for _, st := range list {
		if ev, ok := want[st.Name]; !ok || !strings.Contains(st.Rule.Expr(), ev) {
			return false
		}
	}
	got := m.Status().Errors
	if len(got) != len(errs) {
		return false
	}
	for i, e := range errs {
		if !strings.Contains(got[i], e) {
			return false
		}
	}
	return m.Status().Loaded == len(want)
}

func describe(m *ruleset.Manager) string {
	var b strings.Builder
	for _, st := range m.List() {
		fmt.Fprintf(&b, "%s: %s\n", st.Name, st.Rule.Expr())
	}
	fmt.Fprintf(&b, "errors: %q", m.Status().Errors)
	return b.String()
}

// metric reads a counter or gauge from reg; result selects the sample
// whose "result" label has that value.
func metric(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() != name || result != "" && !hasLabel(m.GetLabel(), "result", result) {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s (result %q) not found", name, result)
	return 0
}

func hasLabel(labels []*dto.LabelPair, name, value string) bool {
	for _, l := range labels {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// TestStartRefusesBrokenFiles: at start there is no last good version, so
// every problem fails LoadFiles, and Start installs nothing.
func TestStartRefusesBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		files map[string]string
		paths []string
		want  string
	}{
		{"bad YAML", map[string]string{"a.yaml": "name: [\n"}, nil, "a.yaml:1:1: invalid YAML"},
		{"check fails", map[string]string{"a.yaml": rule("refused", "X")}, nil, `rule "refused": refused by the check`},
		{"name in two files", map[string]string{"a.yaml": rule("same", "X"), "b.yaml": rule("same", "Y")}, nil,
			`b.yaml:1:1: rule "same": duplicate rule name on bus "default"`},
		{"missing path", nil, []string{filepath.Join(dir, "nope.yaml")}, "nope.yaml: rule path: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, filepath.Join(d, name), content)
			}
			paths := append([]string{d}, tt.paths...)
			check := func(r *rules.Rule) rules.Errors {
				if r.Name == "refused" {
					return rules.Errors{{Pos: r.Pos, Rule: r.Name, Msg: "refused by the check"}}
				}
				return nil
			}
			m := ruleset.New(ruleset.WithFiles(paths...), ruleset.WithCheck(check))
			defer m.Stop()
			in := &installed{}
			err := m.Start(context.Background(), nil, in.apply)
			var errs rules.Errors
			if !errors.As(err, &errs) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start = %v, want rules.Errors with %q", err, tt.want)
			}
			if in.sets != 0 {
				t.Errorf("a broken start installed %d sets", in.sets)
			}
		})
	}
}

// TestStopIsIdempotent: Stop before Start, and twice after.
func TestStopIsIdempotent(t *testing.T) {
	ruleset.New().Stop()
	m := ruleset.New(ruleset.WithFiles(t.TempDir()), ruleset.WithPollInterval(time.Millisecond))
	if err := m.Start(context.Background(), nil, (&installed{}).apply); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	m.Stop()
	if _, _, err := m.Put(context.Background(), "default", "x", []byte(rule("x", "X")), nil); err == nil {
		t.Error("Put without a bucket succeeded")
	}
}

// TestSwapNamesAcrossFiles: two files exchange their rules' names, one
// write after the other, without a settle time (which would hold both
// losses and apply the swap as one). The first write alone is a conflict (the edited
// file keeps its old rule); the second resolves it, and both files run
// their new versions although each now claims a name the other ran.
func TestSwapNamesAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	writeFile(t, a, rule("x", "FromA"))
	writeFile(t, b, rule("y", "FromB"))
	m := ruleset.New(ruleset.WithFiles(dir), ruleset.WithPollInterval(time.Millisecond), ruleset.WithSettle(-1))
	if err := m.Start(context.Background(), nil, (&installed{}).apply); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	writeFile(t, a, rule("y", "FromA"))
	eventually(t, "half-done swap is a conflict", func() (bool, string) {
		return matches(m, map[string]string{"x": "FromA", "y": "FromB"}, []string{a + `:1:1: rule "y": duplicate rule name`}), describe(m)
	})
	writeFile(t, b, rule("x", "FromB"))
	eventually(t, "swap applied", func() (bool, string) {
		return matches(m, map[string]string{"x": "FromB", "y": "FromA"}, nil), describe(m)
	})
}
