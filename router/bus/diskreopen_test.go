package bus_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/ruleset"
	"github.com/auditbus/auditbus/rules"
)

// fullDisk is an embedded server whose store is on a small tmpfs, with
// auditbus's events stream, a durable queue consumer, two rule Managers on
// the rules bucket and a DiskWatch running.
type fullDisk struct {
	ns      *server.Server
	js      jetstream.JetStream
	watch   *bus.DiskWatch
	pub     *bus.Publisher
	queue   jetstream.Consumer
	writer  *ruleset.Manager  // stores API rules
	reader  *ruleset.Manager  // learns them through its watch
	logs    bustest.LogBuffer // the reader's and the DiskWatch's
	ballast string
}

// startFullDisk starts it on dir; beforeRecover, when not nil, runs
// inside the DiskWatch's reopening (see bus.SetBeforeRecover).
func startFullDisk(t *testing.T, dir string, beforeRecover func()) *fullDisk {
	t.Helper()
	f := &fullDisk{ballast: filepath.Join(dir, "ballast")}
	if err := os.WriteFile(f.ballast, make([]byte, 7<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	internal, err := bus.LoadInternalUser(data)
	if err != nil {
		t.Fatal(err)
	}
	cfg := bus.EmbeddedConfig{DataDir: data, InProcessOnly: true, Internal: internal.Public(), MaxStore: 1 << 30}
	if f.ns, err = bus.StartEmbedded(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.ns.Shutdown(); f.ns.WaitForShutdown() })
	nc, err := nats.Connect("", nats.InProcessServer(f.ns), internal.Option())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if f.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, f.js, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	if f.queue, err = f.js.CreateOrUpdateConsumer(ctx, bus.StreamName, jetstream.ConsumerConfig{Durable: "queue",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Second, DeliverPolicy: jetstream.DeliverAllPolicy}); err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(&f.logs).Level(zerolog.InfoLevel)
	f.writer, f.reader = ruleset.New(), ruleset.New(ruleset.WithLogger(log))
	for _, m := range []*ruleset.Manager{f.writer, f.reader} {
		if err := m.Start(ctx, f.js, func(context.Context, *rules.Set) error { return nil }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Stop)
	}
	f.watch = bus.NewDiskWatch(f.ns, cfg, log)
	if beforeRecover != nil {
		bus.SetBeforeRecover(f.watch, beforeRecover)
	}
	f.pub = bus.NewPublisher(f.js)
	f.pub.WatchDisk(f.watch)
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { f.watch.Run(runCtx, 50*time.Millisecond) })
	t.Cleanup(func() { stop(); wg.Wait() })
	return f
}

func (f *fullDisk) putRule(t *testing.T, name, eventName string) {
	t.Helper()
	doc := fmt.Sprintf("name: %s\npattern:\n  data:\n    eventName: [%q]\ntargets:\n  - id: out\n    log: {}\n", name, eventName)
	if _, _, err := f.writer.Put(context.Background(), "default", name, []byte(doc), nil); err != nil {
		t.Fatal(err)
	}
	bustest.WaitLong(t, "the reader runs rule "+name, func() (bool, string) {
		st, ok := f.reader.Get("default", name)
		return ok && st.Rule != nil, f.logs.String()
	})
}

// publish stores events of the given ids, one request each, and returns
// the ids answered with success until the first refusal, and that refusal.
func (f *fullDisk) publish(t *testing.T, prefix string, n int) (accepted []string, refusal error) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		e := event.New()
		e.SetID(id)
		e.SetSource("tke.cloud.tencent")
		e.SetType("tke:CloudEvent:ApiCall")
		if err := e.SetData(event.ApplicationJSON, map[string]any{"eventName": "DescribeCluster", "pad": strings.Repeat("x", 2000)}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := f.pub.Publish(ctx, "default", []event.Event{e})
		cancel()
		if err != nil {
			return accepted, err
		}
		accepted = append(accepted, id)
	}
	return accepted, nil
}

// storedIDs counts the events stream's messages by event id.
func (f *fullDisk) storedIDs(t *testing.T) map[string]int {
	t.Helper()
	ctx := context.Background()
	st, err := f.js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("event %d: %v", seq, err)
		}
		var e event.Event
		if err := e.UnmarshalJSON(m.Data); err != nil {
			t.Fatalf("event %d: %v", seq, err)
		}
		ids[e.ID()]++
	}
	return ids
}

// TestReopenHidesTheRecoveryWindow fills the disk under the events stream,
// a durable queue consumer and the rules bucket, frees space, and holds
// the reopening open after nats-server made the account live and before
// it recovered any stream: JetStream answers "stream not found" then, and
// nats.go's rules watcher gives up on it. Throughout, DiskWatch keeps its
// fault (publishes refused at once, Settled waiting); afterwards the queue
// consumer kept its ack floor (nothing acknowledged comes again), every
// event acknowledged is stored exactly once, and API rule changes reach
// the other Manager again.
func TestReopenHidesTheRecoveryWindow(t *testing.T) {
	dir, ok := bustest.SmallFS(t, 10<<20)
	if !ok {
		return
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f := startFullDisk(t, dir, func() {
		once.Do(func() { close(entered); <-release })
	})
	ctx := context.Background()
	f.putRule(t, "before", "First")

	first, err := f.publish(t, "first", 10)
	if err != nil {
		t.Fatal(err)
	}
	acked := ackSome(t, f.queue, len(first), 6)
	fill, refusal := f.publish(t, "fill", 20000)
	if !errors.Is(refusal, bus.ErrDiskFull) {
		t.Fatalf("after %d events the refusal is %v, want ErrDiskFull", len(fill), refusal)
	}
	bustest.WaitLong(t, "waiting for room logged", func() (bool, string) {
		return strings.Contains(f.logs.String(), "JetStream's disk is still full"), f.logs.String()
	})
	stored := f.storedIDs(t) // while ticks go by with the disk full
	if err := os.Remove(f.ballast); err != nil {
		t.Fatal(err)
	}
	<-entered
	if _, err := f.js.Stream(ctx, bus.StreamName); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("inside the window the events stream answers %v, want stream not found (the window is not open)", err)
	}
	if _, err := f.publish(t, "window", 1); !errors.Is(err, bus.ErrDiskFull) {
		t.Errorf("a publish inside the window: %v, want ErrDiskFull at once", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, serr := f.watch.Settled(short)
	cancel()
	if !errors.Is(serr, context.DeadlineExceeded) {
		t.Errorf("Settled inside the window returned %v, want it to wait", serr)
	}
	bustest.WaitLong(t, "nats.go's rules watcher gives up inside the window", func() (bool, string) {
		return strings.Contains(f.logs.String(), "rules bucket watch closed"), f.logs.String()
	})
	close(release)

	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	epoch, err := f.watch.Settled(wait)
	if err != nil || f.watch.Fault() != nil || f.watch.Reopened(epoch) {
		t.Fatalf("after the reopening: Settled %v, Fault %v, Reopened %v", err, f.watch.Fault(), f.watch.Reopened(epoch))
	}
	info, err := f.queue.Info(ctx)
	if err != nil || info.AckFloor.Stream != acked {
		t.Fatalf("the queue consumer after the reopening: %+v, %v; want its ack floor at %d", info, err, acked)
	}
	next := ackSome(t, f.queue, 1, 0)
	if next != 0 {
		t.Fatalf("ackSome acked %d", next)
	}
	after := f.storedIDs(t)
	for _, id := range append(first, fill...) {
		if after[id] != 1 {
			t.Errorf("event %s acknowledged, stored %d times after the reopening", id, after[id])
		}
	}
	if len(after) != len(stored) {
		t.Errorf("%d events stored before the reopening, %d after", len(stored), len(after))
	}
	if _, err := f.publish(t, "after", 5); err != nil {
		t.Fatalf("publish after the reopening: %v", err)
	}
	f.putRule(t, "after", "Second")
	if n := strings.Count(f.logs.String(), "JetStream's disk is still full"); n != 1 {
		t.Errorf("waiting for room logged %d times, want once:\n%s", n, f.logs.String())
	}
}

// ackSome fetches n messages from c, acknowledges (with the server's
// confirmation) the first k and returns the stream sequence of the last
// acknowledged. With k 0 it checks the first message fetched is the one
// after c's ack floor, delivered again.
func ackSome(t *testing.T, c jetstream.Consumer, n, k int) uint64 {
	t.Helper()
	ctx := context.Background()
	floor := uint64(0)
	if k == 0 {
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		floor = info.AckFloor.Stream
	}
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got, last := 0, uint64(0)
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 && got == 0 && (md.Sequence.Stream != floor+1 || md.NumDelivered != 2) {
			t.Fatalf("first message after the reopening: stream sequence %d delivered %d times; want %d (the first not acknowledged) delivered again",
				md.Sequence.Stream, md.NumDelivered, floor+1)
		}
		if got < k {
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
			last = md.Sequence.Stream
		}
		got++
	}
	if got != n {
		t.Fatalf("fetched %d messages, want %d (%v)", got, n, batch.Error())
	}
	return last
}
