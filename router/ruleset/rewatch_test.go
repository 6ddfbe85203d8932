package ruleset_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/ruleset"
)

// TestWatchSurvivesJetStreamReopen disables JetStream for the account, as
// auditbus does to reopen its streams after a full disk, long enough for
// nats.go's watcher to give up (it closes when re-creating its consumer
// fails with "JetStream not enabled for account"), then enables it again:
// the Manager watches the bucket anew, so a rule stored and a rule deleted
// through another Manager afterwards reach it.
func TestWatchSurvivesJetStreamReopen(t *testing.T) {
	ns := bustest.Start(t, "")
	ctx := context.Background()
	a, _ := startWithBucket(t, ns)
	var logs bustest.LogBuffer
	b := ruleset.New(ruleset.WithLogger(zerolog.New(&logs).Level(zerolog.InfoLevel)))
	inB := &installed{}
	if err := b.Start(ctx, ns.JS, inB.apply); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	if _, _, err := a.Put(ctx, "default", "before", []byte(rule("before", "First")), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the other Manager runs the first rule", func() (bool, string) { return runs(b, "before", "First") })

	acc := ns.NS.GlobalAccount()
	if err := acc.DisableJetStream(); err != nil {
		t.Fatal(err)
	}
	bustest.WaitLong(t, "the watch closes while JetStream is disabled", func() (bool, string) {
		return strings.Contains(logs.String(), "rules bucket watch closed"), logs.String()
	})
	if err := acc.EnableJetStream(nil, nil); err != nil {
		t.Fatal(err)
	}
	bustest.WaitLong(t, "watched again", func() (bool, string) {
		return strings.Contains(logs.String(), "rules bucket watched again"), logs.String()
	})
	if _, _, err := a.Put(ctx, "default", "after", []byte(rule("after", "Second")), nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "default", "before", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rule stored after the reopen runs, the deleted one is gone", func() (bool, string) {
		ok, state := runs(b, "after", "Second")
		_, stillThere := b.Get("default", "before")
		return ok && !stillThere && slices.Equal(inB.names(), []string{"after"}), state
	})
	if n := strings.Count(logs.String(), "rules bucket not watched yet"); n > 1 {
		t.Errorf("the same retry failure logged %d times, want it once:\n%s", n, logs.String())
	}
}
