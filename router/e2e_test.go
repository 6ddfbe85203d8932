package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus/bustest"
)

// TestEndToEndAllModes sends matching and non-matching events in binary,
// structured and batched mode with the sdk-go client; the webhook must get
// exactly the matching ones, attributes and data intact.
func TestEndToEndAllModes(t *testing.T) {
	hook := newWebhook(t, nil)
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(hook.URL)))
	client, err := cloudevents.NewClientHTTP(cloudevents.WithTarget("http://" + s.Addr() + "/v1/events"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sent := map[string]event.Event{}
	send := func(ctx context.Context, e event.Event) {
		t.Helper()
		if res := client.Send(ctx, e); !cloudevents.IsACK(res) {
			t.Fatalf("send %s: %v", e.ID(), res)
		}
		sent[e.ID()] = e
	}
	send(ctx, auditEvent(t, "binary-match", "DeleteCluster", 0))
	send(ctx, auditEvent(t, "binary-other", "DescribeClusterInstances", 0))
	structured := binding.WithForceStructured(ctx)
	send(structured, auditEvent(t, "structured-match", "DeleteCluster", 0))
	send(structured, auditEvent(t, "structured-failed-call", "DeleteCluster", 10001))

	batch := []event.Event{auditEvent(t, "batch-match", "DeleteCluster", 0), auditEvent(t, "batch-other", "CreateClusterInstances", 0)}
	body, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	status, answer := post(t, s, format.JSONBatch.MediaType(), body, nil)
	if status != http.StatusAccepted || answer["accepted"] != 2.0 {
		t.Fatalf("batch answer %d %v", status, answer)
	}
	for _, e := range batch {
		sent[e.ID()] = e
	}

	settled(t, s)
	want := []string{"binary-match", "structured-match", "batch-match"}
	got := hook.ids()
	if len(got) != len(want) {
		t.Errorf("webhook got %v, want exactly %v", got, want)
	}
	for _, id := range want {
		if got[id] != 1 {
			t.Errorf("event %s delivered %d times, want once", id, got[id])
			continue
		}
		assertIntact(t, hook, sent[id])
	}
}

// assertIntact compares a binary-mode delivery with the event sent.
func assertIntact(t *testing.T, hook *webhook, orig event.Event) {
	t.Helper()
	r, _ := hook.byID(orig.ID())
	req, _ := http.NewRequest(http.MethodPost, "http://x", bytes.NewReader(r.body))
	req.Header = r.header
	got, err := binding.ToEvent(context.Background(), cehttp.NewMessageFromHttpRequest(req))
	if err != nil {
		t.Fatalf("delivery of %s is not a binary-mode CloudEvent: %v", orig.ID(), err)
	}
	if got.Type() != orig.Type() || got.Source() != orig.Source() || got.Subject() != orig.Subject() ||
		!got.Time().Equal(orig.Time()) || got.Extensions()["region"] != "ap-guangzhou" ||
		got.DataContentType() != orig.DataContentType() || !bytes.Equal(got.Data(), orig.Data()) {
		t.Errorf("delivered %s\nsent %s", got, orig)
	}
}

// TestDuplicateEventsStoredOnce posts the same event twice.
func TestDuplicateEventsStoredOnce(t *testing.T) {
	hook := newWebhook(t, nil)
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(hook.URL)))
	body, _ := json.Marshal(auditEvent(t, "dup-1", "DeleteCluster", 0))
	for i, wantDup := range []bool{false, true} {
		status, answer := post(t, s, "application/cloudevents+json", body, nil)
		_, isDup := answer["duplicates"]
		if status != http.StatusAccepted || isDup != wantDup {
			t.Fatalf("post %d: %d %v", i, status, answer)
		}
	}
	settled(t, s)
	if n := streamMsgs(t, s); n != 1 {
		t.Errorf("stream holds %d events, want 1", n)
	}
	if got := hook.ids(); got["dup-1"] != 1 {
		t.Errorf("delivered %v, want dup-1 once", got)
	}
}

// TestAcceptedEventsSurviveRestart stops the router while its only target
// hangs, then starts a new one on the same data dir: every accepted event is
// delivered. The embedded server restarts too, which forgets hand-backs, so
// the events return after the ack wait (short here).
func TestAcceptedEventsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	release := make(chan struct{})
	hanging := newWebhook(t, func(r *http.Request) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return http.StatusServiceUnavailable
	})
	defer close(release)
	quick := func(c *router.Config) { c.ShutdownGrace, c.AckWait = 200*time.Millisecond, 2*time.Second }
	first := start(t, dir, quick, writeRules(t, deleteRule(hanging.URL)))
	const n = 40
	var batch []event.Event
	for i := range n {
		batch = append(batch, auditEvent(t, "restart-"+string(rune('A'+i%26))+string(rune('a'+i/26)), "DeleteCluster", 0))
	}
	body, _ := json.Marshal(batch)
	if status, answer := post(t, first, format.JSONBatch.MediaType(), body, nil); status != http.StatusAccepted {
		t.Fatalf("post: %d %v", status, answer)
	}
	<-hanging.seen // the router is mid-delivery
	if err := first.Stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := first.Stop(context.Background()); err != nil {
		t.Fatalf("second stop: %v", err)
	}

	healthy := newWebhook(t, nil)
	second := start(t, dir, quick, writeRules(t, deleteRule(healthy.URL)))
	settled(t, second)
	got := healthy.ids()
	for _, e := range batch {
		if got[e.ID()] == 0 {
			t.Errorf("event %s accepted before the restart was never delivered", e.ID())
		}
	}
	if len(got) != n {
		t.Errorf("delivered %d distinct events, want %d", len(got), n)
	}
}

// TestReplicasOnExternalNATSShareTheWork runs two servers on one external
// NATS server: they share the durable consumer, so each event reaches the
// webhook once.
func TestReplicasOnExternalNATSShareTheWork(t *testing.T) {
	external := bustest.Start(t, "")
	hook := newWebhook(t, nil)
	rules := writeRules(t, deleteRule(hook.URL))
	useExternal := func(c *router.Config) { c.NATSURL = external.NS.ClientURL() }
	a := start(t, t.TempDir(), useExternal, rules)
	b := start(t, t.TempDir(), useExternal, rules)
	const n = 200
	for i := range n {
		body, _ := json.Marshal(auditEvent(t, fmt.Sprint("replica-", i), "DeleteCluster", 0))
		target := a
		if i%2 == 1 {
			target = b
		}
		if status, answer := post(t, target, "application/cloudevents+json", body, nil); status != http.StatusAccepted {
			t.Fatalf("post %d: %d %v", i, status, answer)
		}
	}
	settled(t, a)
	got := hook.ids()
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	if len(got) != n || dups != 0 {
		t.Errorf("delivered %d distinct events with %d duplicates, want %d and 0", len(got), dups, n)
	}
}
