package topics_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/topics"
)

// TestModifyKeepsConcurrentChanges: two registries on one NATS each add
// subscriptions to one topic at once, through Modify; every one is
// stored. A change that fails stores nothing, and Delete at a revision
// the topic has left is ErrRevision.
func TestModifyKeepsConcurrentChanges(t *testing.T) {
	srv := bustest.Start(t, "")
	ctx := context.Background()
	nc, err := nats.Connect(srv.NS.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	a, b := topics.New(nil, zerolog.Nop()), topics.New(nil, zerolog.Nop())
	for r, j := range map[*topics.Registry]jetstream.JetStream{a: srv.JS, b: js} {
		if err := r.Start(ctx, j, 1); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Stop)
	}
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		reg := []*topics.Registry{a, b}[i%2]
		wg.Go(func() {
			_, _, err := reg.Modify(ctx, "busy", func(cur topics.Topic, _ bool) (topics.Topic, error) {
				cur.Subscriptions = append(slices.Clone(cur.Subscriptions), topics.Subscription{ID: fmt.Sprint("s", i),
					Protocol: topics.ProtocolHTTPS, Endpoint: fmt.Sprintf("https://hook.example/%d", i)})
				return cur, nil
			})
			if err != nil {
				t.Errorf("add s%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	refuse := errors.New("no")
	_, _, err = a.Modify(ctx, "busy", func(cur topics.Topic, _ bool) (topics.Topic, error) { return cur, refuse })
	if !errors.Is(err, refuse) {
		t.Fatalf("a refusing change: %v", err)
	}
	got, existed, err := b.Modify(ctx, "busy", func(cur topics.Topic, _ bool) (topics.Topic, error) { return cur, nil })
	if err != nil || !existed || len(got.Subscriptions) != n {
		t.Fatalf("after %d concurrent adds: %d subscriptions (%v, existed %v)", n, len(got.Subscriptions), err, existed)
	}
	if err := a.Delete(ctx, "busy", got.Revision-1); !errors.Is(err, topics.ErrRevision) {
		t.Errorf("delete at an old revision: %v, want ErrRevision", err)
	}
	if err := a.Delete(ctx, "busy", got.Revision); err != nil {
		t.Errorf("delete at its revision: %v", err)
	}
}
