package ruleset_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/ruleset"
)

// startWithBucket starts a Manager on the test server's rules bucket.
func startWithBucket(t *testing.T, ns *bustest.Server) (*ruleset.Manager, *installed) {
	t.Helper()
	m := ruleset.New(ruleset.WithLogger(zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)))
	in := &installed{}
	if err := m.Start(context.Background(), ns.JS, in.apply); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m, in
}

// runs says whether m runs rule name with an expr holding fragment, and
// reports fragments of its problems.
func runs(m *ruleset.Manager, name, fragment string, problems ...string) (bool, string) {
	state := describe(m)
	st, ok := m.Get("default", name)
	if !ok || st.Rule == nil || !strings.Contains(st.Rule.Expr(), fragment) {
		return false, state
	}
	errs := m.Status().Errors
	if len(errs) != len(problems) {
		return false, state
	}
	for i, p := range problems {
		if !strings.Contains(errs[i], p) {
			return false, state
		}
	}
	return true, state
}

// TestManagersShareTheBucket: what one Manager stores, another applies; a
// broken document written straight into the bucket keeps the last good
// version on every replica; a delete removes the rule everywhere.
func TestManagersShareTheBucket(t *testing.T) {
	ns := bustest.Start(t, "")
	ctx := context.Background()
	a, _ := startWithBucket(t, ns)
	b, inB := startWithBucket(t, ns)

	st, created, err := a.Put(ctx, "default", "r1", []byte(rule("r1", "First")), nil)
	if err != nil || !created || st.Rule == nil || st.Revision == 0 || st.Origin.Kind != api.OriginAPI {
		t.Fatalf("Put = %+v, %v, %v", st, created, err)
	}
	eventually(t, "the other Manager runs the rule", func() (bool, string) { return runs(b, "r1", "First") })
	if got := inB.names(); !slices.Equal(got, []string{"r1"}) {
		t.Errorf("the other Manager installed %v", got)
	}

	kv, err := ns.JS.KeyValue(ctx, ruleset.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := kv.Put(ctx, "default.r1", []byte("name: r1\ntargets: [\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "default.r2", []byte(rule("other", "Y"))); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*ruleset.Manager{a, b} {
		eventually(t, "broken documents reported, last good version running", func() (bool, string) {
			return runs(m, "r1", "First", "api:default/r1:2:1: invalid YAML", `api:default/r2:1:7: rule "r2": name "other" differs`)
		})
		if st, _ := m.Get("default", "r1"); st.Revision != rev || st.Origin.Revision >= rev || len(st.Errors) != 1 {
			t.Errorf("Get(r1) = revision %d, running revision %d, errors %v; want the broken revision %d shown beside the running one",
				st.Revision, st.Origin.Revision, st.Errors, rev)
		}
		if st, ok := m.Get("default", "r2"); !ok || st.Rule != nil || len(st.Errors) != 1 {
			t.Errorf("Get(r2) = %+v, %v; want the stored document, not running", st, ok)
		}
	}

	if _, _, err := b.Put(ctx, "default", "r1", []byte(rule("r1", "Second")), &api.Precondition{Revision: rev - 1}); !errors.Is(err, api.ErrPreconditionFailed) {
		t.Errorf("Put with a stale revision = %v", err)
	}
	if _, created, err := b.Put(ctx, "default", "r1", []byte(rule("r1", "Second")), &api.Precondition{Revision: rev}); err != nil || created {
		t.Fatalf("Put with the current revision = %v, created %v", err, created)
	}
	eventually(t, "the fix runs everywhere", func() (bool, string) { return runs(a, "r1", "Second", "api:default/r2") })

	for _, key := range []string{"r1", "r2"} {
		if err := a.Delete(ctx, "default", key, nil); err != nil {
			t.Fatalf("Delete %s: %v", key, err)
		}
	}
	if err := a.Delete(ctx, "default", "r1", nil); !errors.Is(err, api.ErrRuleNotFound) {
		t.Errorf("second Delete = %v", err)
	}
	eventually(t, "deleted everywhere", func() (bool, string) {
		return len(b.List()) == 0 && len(b.Status().Errors) == 0 && len(inB.names()) == 0, describe(b)
	})

	began := time.Now()
	b.Stop()
	if d := time.Since(began); d > 500*time.Millisecond {
		t.Errorf("Stop took %s", d)
	}
}
