package topics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/topics"
)

// TestRegistryAcrossReplicas: a topic put through one registry is seen
// by another on the same NATS (its OnChange called), and so is its
// deletion; a file topic cannot be changed, and an invalid
// one stores nothing.
func TestRegistryAcrossReplicas(t *testing.T) {
	srv := bustest.Start(t, "")
	ctx := context.Background()
	a := registry(t)
	changed := make(chan struct{}, 100)
	nc, err := nats.Connect(srv.NS.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	b := topics.New(nil, zerolog.Nop())
	b.OnChange(func() { changed <- struct{}{} })
	for _, r := range []*topics.Registry{a, b} {
		jsr := srv.JS
		if r == b {
			jsr = js
		}
		if err := r.Start(ctx, jsr, 1); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Stop)
	}
	put, err := a.Put(ctx, topics.Topic{Name: "alerts", Project: "p1",
		Subscriptions: []topics.Subscription{{ID: "soc", Protocol: "https", Endpoint: "https://soc.example/"}}})
	if err != nil || put.URN != "urn:smn:auditbus:p1:alerts" || put.Origin != topics.OriginAPI {
		t.Fatalf("put: %+v %v", put, err)
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for !ok() {
			select {
			case <-changed:
			case <-deadline:
				t.Fatalf("%s: not within 10s", what)
			}
		}
	}
	wait("b to see the topic", func() bool { got, ok := b.ByURN(put.URN); return ok && len(got.Subscriptions) == 1 })

	for _, c := range []struct {
		t    topics.Topic
		want error
	}{
		{topics.Topic{Name: "security"}, topics.ErrReadOnly},
		{topics.Topic{Name: "bad name"}, topics.ErrInvalid},
		{topics.Topic{Name: "x", Subscriptions: []topics.Subscription{{ID: "s", Protocol: "function", Endpoint: "urn:fss:none"}}}, topics.ErrInvalid},
	} {
		if _, err := a.Put(ctx, c.t); !errors.Is(err, c.want) {
			t.Errorf("put %+v: %v, want %v", c.t, err, c.want)
		}
	}
	if _, ok := b.Get("x"); ok {
		t.Error("an invalid topic was stored")
	}

	if err := a.Delete(ctx, "alerts", 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Get("alerts"); ok {
		t.Error("a still has the deleted topic")
	}
	if err := a.Delete(ctx, "alerts", 0); !errors.Is(err, topics.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	wait("b to see the deletion", func() bool { _, ok := b.Get("alerts"); return !ok })
}
