package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/bus"
)

// embedded runs the embedded server as auditbus does (fsync every write
// unless cfg says otherwise), with the events stream created from scfg.
func embedded(t testing.TB, cfg bus.EmbeddedConfig, scfg bus.StreamConfig) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg.InProcessOnly = true
	internal, err := bus.LoadInternalUser(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Internal = internal.Public()
	ns, err := bus.StartEmbedded(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect("", nats.InProcessServer(ns), internal.Option())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := bus.EnsureStream(context.Background(), js, scfg)
	if err != nil {
		t.Fatal(err)
	}
	return js, stream
}

func auditEvents(t testing.TB, prefix string, n int) []event.Event {
	events := make([]event.Event, n)
	for i := range events {
		events[i] = auditEvent(t, fmt.Sprint(prefix, i))
	}
	return events
}

// TestPublishWritesAtomicBatchesOrFallsBack: each request's events are
// stored once, in order, with the sequences reported; whether they went
// as atomic batches shows in the stored Nats-Batch-Id header.
func TestPublishWritesAtomicBatchesOrFallsBack(t *testing.T) {
	tests := []struct {
		name          string
		streamAllows  bool
		publisherUses bool
		events        int
		wantBatched   bool
	}{
		{"batches of 1000 and a rest", true, true, 2*bus.MaxAtomicBatch + 17, true},
		{"fewest worth a batch", true, true, bus.MinAtomicBatch, true},
		{"too few for a batch", true, true, bus.MinAtomicBatch - 1, false},
		{"stream refuses batches", false, true, 50, false},
		{"publisher does not batch", true, false, 50, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, stream := embedded(t, bus.EmbeddedConfig{}, bus.StreamConfig{AtomicPublish: tt.streamAllows})
			p := bus.NewPublisher(js)
			p.BatchAtomically(tt.publisherUses)
			ctx := context.Background()
			events := auditEvents(t, "id-", tt.events)
			res, err := p.Publish(ctx, "default", events)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(events) {
				t.Fatalf("%d results for %d events", len(res), len(events))
			}
			for i, r := range res {
				if r.ID != events[i].ID() || r.Duplicate || r.Sequence != uint64(i+1) {
					t.Fatalf("result %d = %+v, want id %s at sequence %d", i, r, events[i].ID(), i+1)
				}
			}
			for _, i := range []int{0, len(events) / 2, len(events) - 1} {
				raw, err := stream.GetMsg(ctx, res[i].Sequence)
				if err != nil {
					t.Fatal(err)
				}
				if got := raw.Header.Get(jetstream.MsgIDHeader); got != bus.MsgID("default", &events[i]) {
					t.Errorf("sequence %d holds message id %q, want event %d's", res[i].Sequence, got, i)
				}
				if batched := raw.Header.Get("Nats-Batch-Id") != ""; batched != tt.wantBatched {
					t.Errorf("event %d stored in a batch: %v, want %v", i, batched, tt.wantBatched)
				}
			}
			info, err := stream.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs != uint64(len(events)) {
				t.Errorf("stream holds %d messages, want %d", info.State.Msgs, len(events))
			}
		})
	}
}

// TestAtomicBatchWithADuplicateIsPublishedEventByEvent: the server refuses
// a whole batch that holds an event it already has (a client re-sending a
// request), so the publisher falls back and reports which were duplicates.
func TestAtomicBatchWithADuplicateIsPublishedEventByEvent(t *testing.T) {
	js, stream := embedded(t, bus.EmbeddedConfig{}, bus.StreamConfig{AtomicPublish: true})
	p := bus.NewPublisher(js)
	p.BatchAtomically(true)
	ctx := context.Background()
	n := bus.MinAtomicBatch
	first := auditEvents(t, "a-", 2*n)
	if _, err := p.Publish(ctx, "default", first); err != nil {
		t.Fatal(err)
	}
	// The last n of the first request again, and n new ones.
	again := append(first[n:2*n:2*n], auditEvents(t, "b-", n)...)
	res, err := p.Publish(ctx, "default", again)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if want := i < n; r.Duplicate != want || r.ID != again[i].ID() {
			t.Errorf("result %d = %+v, want id %s duplicate %v", i, r, again[i].ID(), want)
		}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(3*n) {
		t.Errorf("stream holds %d messages, want %d", info.State.Msgs, 3*n)
	}
	for seq, wantBatched := range map[uint64]bool{1: true, uint64(3 * n): false} {
		raw, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if batched := raw.Header.Get("Nats-Batch-Id") != ""; batched != wantBatched {
			t.Errorf("sequence %d stored in a batch: %v, want %v (the first request batched, the re-sent one event by event)", seq, batched, wantBatched)
		}
	}
}

// TestAtomicBatchRefusedForStorageIsStorageFull: batches that reach the
// server's storage limit end in ErrStorageFull, remembered as a refusal,
// whether the server refuses the commit or (crossing the limit halfway)
// does not answer it and the events are published one by one.
func TestAtomicBatchRefusedForStorageIsStorageFull(t *testing.T) {
	js, _ := embedded(t, bus.EmbeddedConfig{MaxStore: 256 << 10}, bus.StreamConfig{AtomicPublish: true})
	p := bus.NewPublisher(js)
	p.BatchAtomically(true)
	bus.SetCommitWait(p, 200*time.Millisecond)
	ctx := context.Background()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = p.Publish(ctx, "default", auditEvents(t, fmt.Sprint("r", i, "-"), 100))
	}
	if !errors.Is(err, bus.ErrStorageFull) {
		t.Fatalf("err = %v, want ErrStorageFull", err)
	}
	if p.StorageRefusal().Err == nil {
		t.Error("StorageRefusal is empty after a refused batch")
	}
}
