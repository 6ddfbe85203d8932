package ruleset_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/ruleset"
)

// lockedBuffer is a log sink the test reads while the Manager writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLong polls cond for up to a minute: nats.go notices a vanished
// consumer only after two missed heartbeats of 5 s each.
func waitLong(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within a minute; state: %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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
	var logs lockedBuffer
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
	waitLong(t, "the watch closes while JetStream is disabled", func() (bool, string) {
		return strings.Contains(logs.String(), "rules bucket watch closed"), logs.String()
	})
	if err := acc.EnableJetStream(nil, nil); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "watched again", func() (bool, string) {
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
