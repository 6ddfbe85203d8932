package dispatch_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
)

// The target state watch survives JetStream going away and coming back
// (as it does while the embedded server reopens its streams after a full
// disk): nats.go's watcher closes its channel then, and the router watches
// the bucket again, so a change another replica makes afterwards (a
// disable, an enable) still reaches it.
func TestStateWatchSurvivesJetStreamReopen(t *testing.T) {
	ctx := context.Background()
	var logs bustest.LogBuffer
	e := startRouter(t, hookRule("http://127.0.0.1:1", ""), dispatch.WithLogger(zerolog.New(&logs).Level(zerolog.InfoLevel)))
	<-e.router.Started()
	kv, err := e.ns.JS.KeyValue(ctx, dispatch.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	disabled := []byte(`{"disabled":true,"reason":"gone elsewhere","status":410}`)
	if _, err := kv.Put(ctx, "default.deletes.hook", disabled); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the disable seen", func() bool { return e.router.TargetState("default", "deletes", "hook").Disabled })

	acc := e.ns.NS.GlobalAccount()
	if err := acc.DisableJetStream(); err != nil {
		t.Fatal(err)
	}
	bustest.WaitLong(t, "the watch closes while JetStream is disabled", func() (bool, string) {
		return strings.Contains(logs.String(), "target state watch closed"), logs.String()
	})
	if err := acc.EnableJetStream(nil, nil); err != nil {
		t.Fatal(err)
	}
	bustest.WaitLong(t, "watched again", func() (bool, string) {
		return strings.Contains(logs.String(), "target state watched again"), logs.String()
	})
	if err := kv.Delete(ctx, "default.deletes.hook"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "default.deletes.other", disabled); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the enable and the new disable written after the reopen seen", func() bool {
		return !e.router.TargetState("default", "deletes", "hook").Disabled &&
			e.router.TargetState("default", "deletes", "other").Disabled
	})
}
