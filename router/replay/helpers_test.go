package replay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/archive"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/replay"
	"github.com/auditbus/auditbus/router/sources"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// fixture is a JetStream server with the events stream, a trackers
// bucket, one declared bucket, and a replay manager over them whose live
// rules are live.
type fixture struct {
	srv      *bustest.Server
	live     *rules.Set
	trackers *archive.Trackers
	buckets  *archive.Buckets
	m        *replay.Manager
}

func newFixture(t testing.TB, liveYAML string) *fixture {
	t.Helper()
	srv := bustest.Start(t, "")
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, srv.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	tr, err := archive.OpenTrackers(ctx, srv.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := archive.NewBuckets(map[string]string{"logs": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	live, err := rules.Compile(parse(t, liveYAML))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{srv: srv, live: live, trackers: tr, buckets: b}
	f.m = replay.New(replay.Config{JS: srv.JS, LiveRules: func() *rules.Set { return f.live },
		Trackers: tr, BucketDir: b.Dir, Log: zerolog.Nop(),
		Deps: sinks.Deps{NATS: srv.NC, Guard: sinks.NewGuard(true, nil), Log: zerolog.Nop()}})
	t.Cleanup(f.m.Stop)
	return f
}

// parse parses a rules file's YAML ("" is none).
func parse(t testing.TB, src string) []*rules.Rule {
	t.Helper()
	if strings.TrimSpace(src) == "" {
		return nil
	}
	rs, err := rules.ParseFile("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("rules: %v\n%s", err, src)
	}
	return rs
}

func (f *fixture) publish(t testing.TB, evs []event.Event) {
	t.Helper()
	pub := bus.NewPublisher(f.srv.JS)
	for i := 0; i < len(evs); i += 500 {
		if _, err := pub.Publish(context.Background(), "default", evs[i:min(i+500, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
}

// ageOut removes the stream's first n events, as its max age would.
func (f *fixture) ageOut(t testing.TB, n uint64) {
	t.Helper()
	s, err := f.srv.JS.Stream(context.Background(), bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(context.Background(), jetstream.WithPurgeSequence(n+1)); err != nil {
		t.Fatal(err)
	}
}

// run starts req and waits for it to end.
func (f *fixture) run(t testing.TB, req replay.Request) replay.Status {
	t.Helper()
	st, err := f.m.Start(context.Background(), req)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	st, err = f.m.Wait(context.Background(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != replay.StateDone {
		t.Fatalf("replay %s: %s", st.State, st.Error)
	}
	return st
}

// archive declares the system tracker of project p1 writing to the
// logs bucket with compress, and archives the whole stream into it.
func (f *fixture) archive(t testing.TB, compress string) {
	t.Helper()
	ctx := context.Background()
	tk := cts.Tracker{ID: "id-" + compress, TrackerType: cts.TrackerSystem, TrackerName: cts.TrackerSystem, ProjectID: "p1",
		Status: cts.StatusEnabled, ObsInfo: cts.ObsInfo{BucketName: "logs", CompressType: compress, IsSortByService: true}}
	_ = f.trackers.Delete(ctx, "p1", cts.TrackerSystem)
	dir := f.buckets.Dir("logs")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	_, rev, err := f.trackers.Snapshot(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.trackers.Put(ctx, tk, rev); err != nil {
		t.Fatal(err)
	}
	w, err := archive.NewWriter(ctx, f.srv.JS, f.trackers, f.buckets, archive.WriterConfig{Batch: 97})
	if err != nil {
		t.Fatal(err)
	}
	for {
		more, err := w.Step(ctx, tk)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			return
		}
	}
}

// Vocabularies of the random traces and rules.
var (
	services   = []string{"VPC", "ECS", "CCE"}
	traceNames = []string{"createVpc", "deleteVpc", "deleteCluster", "listServers", "updateRoute"}
	traceTypes = []string{"ApiCall", "ConsoleAction"}
	users      = []string{"alice", "bob", "carol"}
	codes      = []string{"200", "403", "500"}
	ratings    = []string{"normal", "warning", "incident"}
)

func pick[T any](rng *rand.Rand, vs []T) T { return vs[rng.IntN(len(vs))] }

// ctsEvents are n random CTS traces as the CTS source makes events of
// them, their times spread over the minute after start.
func ctsEvents(t testing.TB, rng *rand.Rand, n int, start time.Time) []event.Event {
	t.Helper()
	out := make([]event.Event, 0, n)
	for i := range n {
		at := start.Add(time.Duration(rng.IntN(60_000)) * time.Millisecond)
		tr := map[string]any{
			"trace_id": fmt.Sprintf("tr-%05d", i), "trace_name": pick(rng, traceNames), "trace_type": pick(rng, traceTypes),
			"trace_rating": pick(rng, ratings), "service_type": pick(rng, services), "code": pick(rng, codes),
			"resource_type": "vpc", "resource_id": fmt.Sprintf("r-%d", rng.IntN(5)), "resource_name": fmt.Sprintf("r-%d", rng.IntN(5)),
			"source_ip": "10.0.0.1", "time": at.UnixMilli(), "record_time": at.UnixMilli(),
			"user":    map[string]any{"id": "u1", "name": pick(rng, users), "domain": map[string]any{"id": "d1", "name": "acme"}},
			"request": `{"vpc":{"name":"x"}}`, "response": "", "message": "", "api_version": "",
			"location_info": "", "endpoint": "", "resource_url": "", "request_id": fmt.Sprintf("req-%d", i),
		}
		raw, _ := json.Marshal(tr)
		evs, err := sources.CTS(raw, sources.NewRedactor(nil))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
	}
	return out
}

// clauses are pattern clauses the random rules are made of.
var clauses = []func(rng *rand.Rand) string{
	func(rng *rand.Rand) string {
		return fmt.Sprintf("type: [%q, %q]", pick(rng, services)+":CloudTrace:"+pick(rng, traceTypes), pick(rng, services)+":CloudTrace:ApiCall")
	},
	func(rng *rand.Rand) string {
		return fmt.Sprintf("source: [{prefix: %q}]", "HC."+pick(rng, services)[:1])
	},
	func(rng *rand.Rand) string {
		return fmt.Sprintf("action: [%q, %q]", pick(rng, traceNames), pick(rng, traceNames))
	},
	func(rng *rand.Rand) string { return fmt.Sprintf("principal: [{anything-but: %q}]", pick(rng, users)) },
	func(rng *rand.Rand) string {
		return fmt.Sprintf("outcome: [%q]", pick(rng, []string{"success", "failure"}))
	},
	func(rng *rand.Rand) string { return fmt.Sprintf("tracerating: [%q]", pick(rng, ratings)) },
	func(rng *rand.Rand) string {
		return fmt.Sprintf("subject: [{wildcard: %q}]", "vpc/r-"+fmt.Sprint(rng.IntN(5)))
	},
	func(rng *rand.Rand) string {
		return fmt.Sprintf("data: {trace_name: [{prefix: %q}]}", pick(rng, []string{"delete", "create", "list"}))
	},
	func(rng *rand.Rand) string { return fmt.Sprintf("data: {user: {name: [%q]}}", pick(rng, users)) },
}

// randomRules is a rules file of n rules named r0..r(n-1), each one to
// three clauses (a repeated top-level key: the last one) and one or two
// log targets.
func randomRules(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\nname: r%d\npattern:\n", i)
		seen := map[string]bool{}
		for range 1 + rng.IntN(3) {
			c := clauses[rng.IntN(len(clauses))](rng)
			key, _, _ := strings.Cut(c, ":")
			if seen[key] {
				continue
			}
			seen[key] = true
			fmt.Fprintf(&b, "  %s\n", c)
		}
		b.WriteString("targets:\n  - id: t1\n    log: {}\n")
		if rng.IntN(2) == 0 {
			b.WriteString("  - id: t2\n    log: {}\n")
		}
	}
	return b.String()
}
