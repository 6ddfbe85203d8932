package dispatch

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// TestEnableClearsALocalOnlyDisable: when recording a 410 in the bucket
// fails, disable() marks the target disabled in the local cache only;
// EnableTarget must clear that too, not only the bucket.
func TestEnableClearsALocalOnlyDisable(t *testing.T) {
	ns := bustest.Start(t, "")
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, ns.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	r := New(ns.JS, sinks.Deps{NATS: ns.NC, Stdout: io.Discard, Guard: sinks.NewGuard(true, nil)})
	parsed, err := rules.ParseFile("r.yaml", []byte("name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n  - id: hook\n    webhook: {url: \"http://127.0.0.1:1/\", format: raw}\n"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.Compile(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRules(ctx, set); err != nil {
		t.Fatal(err)
	}
	if err := r.Open(ctx); err != nil {
		t.Fatal(err)
	}
	key := targetKey{"default", "deletes", "hook"}
	// What disable() does when updateState fails (the bucket did not answer).
	rec, rev := r.stateOf(key)
	rec.Disabled, rec.Status, rec.Since = true, 410, time.Now()
	r.setCached(key, rec, rev)
	if !r.TargetState(key.bus, key.rule, key.target).Disabled {
		t.Fatal("setup: not disabled")
	}
	if err := r.EnableTarget(ctx, "default", "deletes", "hook"); err != nil {
		t.Fatal(err)
	}
	if r.TargetState(key.bus, key.rule, key.target).Disabled {
		t.Error("EnableTarget returned nil but the target is still disabled on this replica")
	}
}
