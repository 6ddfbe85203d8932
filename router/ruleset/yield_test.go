package ruleset

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus/bustest"
)

func rulesDoc(names ...string) string {
	docs := make([]string, len(names))
	for i, n := range names {
		docs[i] = settleRule(n)
	}
	return strings.Join(docs, "---\n")
}

// TestMoveBetweenFiles: a rule moved from one file to another runs from
// the new file at once, with the new file's other edits, and nothing is
// reported broken; only the rules no file defines any more wait for the
// settle time. A file that is broken for another reason does not take the
// rule, which keeps running from the old file until the settle time.
func TestMoveBetweenFiles(t *testing.T) {
	type change struct{ file, content string } // content "" removes the file
	for _, tc := range []struct {
		name    string
		a, b    string   // contents at start
		changes []change // each written, then polled twice
		running []string
		errs    []string // fragments of the problems, in order
		pending string   // fragment of the one pending removal, "" for none
		betaIn  string   // the file beta runs from
		settled []string // running once the settle time passed
	}{
		{name: "moved", a: rulesDoc("alpha", "beta"), b: rulesDoc("gamma"),
			changes: []change{{"a", rulesDoc("alpha")}, {"b", rulesDoc("gamma", "beta")}},
			running: []string{"alpha", "beta", "gamma"}, betaIn: "b", settled: []string{"alpha", "beta", "gamma"}},
		{name: "moved, another rule lost, another added", a: rulesDoc("alpha", "beta", "delta"), b: rulesDoc("gamma"),
			changes: []change{{"a", rulesDoc("alpha")}, {"b", rulesDoc("gamma", "beta", "epsilon")}},
			running: []string{"alpha", "beta", "delta", "epsilon", "gamma"}, pending: "a.yaml: rules default/delta stop running",
			betaIn: "b", settled: []string{"alpha", "beta", "epsilon", "gamma"}},
		{name: "new file first, then the old one", a: rulesDoc("alpha", "beta"), b: rulesDoc("gamma"),
			changes: []change{{"b", rulesDoc("gamma", "beta")}, {"a", rulesDoc("alpha")}},
			running: []string{"alpha", "beta", "gamma"}, betaIn: "b", settled: []string{"alpha", "beta", "gamma"}},
		{name: "old file deleted", a: rulesDoc("alpha", "beta"), b: rulesDoc("gamma"),
			changes: []change{{"a", ""}, {"b", rulesDoc("gamma", "beta")}},
			running: []string{"alpha", "beta", "gamma"}, pending: "a.yaml: file gone; rules default/alpha stop running",
			betaIn: "b", settled: []string{"beta", "gamma"}},
		{name: "old file deleted, its only rule moved", a: rulesDoc("beta"), b: rulesDoc("gamma"),
			changes: []change{{"a", ""}, {"b", rulesDoc("gamma", "beta")}},
			running: []string{"beta", "gamma"}, betaIn: "b", settled: []string{"beta", "gamma"}},
		{name: "new file broken otherwise", a: rulesDoc("alpha", "beta"), b: rulesDoc("gamma"),
			changes: []change{{"a", rulesDoc("alpha")}, {"b", rulesDoc("gamma", "beta", "alpha")}},
			running: []string{"alpha", "beta", "gamma"}, errs: []string{`b.yaml:17:1: rule "alpha": duplicate rule name`},
			pending: "a.yaml: rules default/beta stop running", betaIn: "a", settled: []string{"alpha", "gamma"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := map[string]string{"a": filepath.Join(dir, "a.yaml"), "b": filepath.Join(dir, "b.yaml")}
			overwrite(t, path["a"], tc.a)
			overwrite(t, path["b"], tc.b)
			st := newStepped(t, time.Minute, dir)
			for _, c := range tc.changes {
				if c.content == "" {
					if err := os.Remove(path[c.file]); err != nil {
						t.Fatal(err)
					}
				} else {
					overwrite(t, path[c.file], c.content)
				}
				st.poll(time.Second)
				st.poll(time.Second)
			}
			if !slices.Equal(st.running, tc.running) {
				t.Errorf("running %v, want %v", st.running, tc.running)
			}
			status := st.m.Status()
			if len(status.Errors) != len(tc.errs) {
				t.Fatalf("problems %q, want %d", status.Errors, len(tc.errs))
			}
			for i, e := range tc.errs {
				if !strings.Contains(status.Errors[i], e) {
					t.Errorf("problem %q, want one with %q", status.Errors[i], e)
				}
			}
			p := status.PendingRemovals
			if tc.pending == "" && len(p) != 0 || tc.pending != "" && (len(p) != 1 || !strings.Contains(p[0], tc.pending)) {
				t.Errorf("pending removals %q, want one with %q", p, tc.pending)
			}
			if r, _ := st.m.Get("default", "beta"); r.Origin.File != path[tc.betaIn] {
				t.Errorf("beta runs from %q, want %s", r.Origin.File, path[tc.betaIn])
			}
			st.poll(time.Minute)
			if !slices.Equal(st.running, tc.settled) {
				t.Errorf("after the settle time: running %v, want %v", st.running, tc.settled)
			}
			if p := st.m.Status().PendingRemovals; len(p) != 0 {
				t.Errorf("after the settle time: pending removals %q", p)
			}
		})
	}
}

// TestMoveToAPI: a rule a file runs cannot be PUT through the API, but
// once the file drops it (its removal waiting for the settle time) the PUT
// succeeds, the API rule runs at once, and the removal no longer waits.
func TestMoveToAPI(t *testing.T) {
	ns := bustest.Start(t, "")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.yaml")
	overwrite(t, path, rulesDoc("alpha", "beta"))
	st := startStepped(t, ns.JS, WithFiles(path), WithSettle(time.Minute))

	if _, _, err := st.m.Put(ctx, "default", "beta", []byte(settleRule("beta")), nil); !errors.Is(err, api.ErrRuleConflict) {
		t.Fatalf("PUT of a rule the file defines: %v, want ErrRuleConflict", err)
	}
	overwrite(t, path, rulesDoc("alpha"))
	st.poll(time.Second)
	st.poll(time.Second)
	if p := st.m.Status().PendingRemovals; len(p) != 1 || !strings.Contains(p[0], "rules default/beta stop running") {
		t.Fatalf("pending removals %q, want beta's", p)
	}
	r, created, err := st.m.Put(ctx, "default", "beta", []byte(settleRule("beta")), nil)
	if err != nil || !created || r.Origin.Kind != api.OriginAPI {
		t.Fatalf("PUT of a rule whose file removal is pending: %+v, created %v, %v; want the API rule", r.Origin, created, err)
	}
	if got := st.m.Status(); len(got.PendingRemovals) != 0 || len(got.Errors) != 0 {
		t.Errorf("after the PUT: pending removals %q, problems %q; want none", got.PendingRemovals, got.Errors)
	}
	if !slices.Equal(st.running, []string{"alpha", "beta"}) {
		t.Errorf("after the PUT: running %v, want [alpha beta]", st.running)
	}
	st.poll(time.Minute)
	if r, _ := st.m.Get("default", "beta"); r.Origin.Kind != api.OriginAPI || !slices.Equal(st.running, []string{"alpha", "beta"}) {
		t.Errorf("after the settle time: beta from %+v, running %v; want the API rule running", r.Origin, st.running)
	}
}

// TestKeepsChangingIsLogged: a file whose content differs at every poll is
// never applied, and that is logged once when it has gone on for
// changingPolls polls, not at every poll; once it settles and is applied,
// a new run of changes is logged again.
func TestKeepsChangingIsLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.yaml")
	overwrite(t, path, rulesDoc("alpha"))
	var logs bytes.Buffer
	st := startStepped(t, nil, WithFiles(path), WithSettle(time.Minute), WithLogger(zerolog.New(&logs)))
	const msg = "rule file keeps changing"
	write := 0
	churn := func(polls int) {
		for range polls {
			write++
			overwrite(t, path, rulesDoc("alpha", "v"+strings.Repeat("x", write)))
			st.poll(time.Second)
		}
	}
	churn(changingPolls - 1)
	if n := strings.Count(logs.String(), msg); n != 0 {
		t.Fatalf("after %d changing polls: %d %q lines, want none yet", changingPolls-1, n, msg)
	}
	churn(3)
	if n := strings.Count(logs.String(), msg); n != 1 {
		t.Fatalf("after %d changing polls: %d %q lines, want 1:\n%s", changingPolls+2, n, msg, logs.String())
	}
	if !slices.Equal(st.running, []string{"alpha"}) {
		t.Fatalf("while changing: running %v, want [alpha]", st.running)
	}
	st.poll(time.Second) // the same content read twice: applied
	if len(st.running) != 2 {
		t.Fatalf("once stable: running %v, want alpha and the last write", st.running)
	}
	churn(changingPolls)
	if n := strings.Count(logs.String(), msg); n != 2 {
		t.Fatalf("a second run of changes: %d %q lines in all, want 2", n, msg)
	}
}
