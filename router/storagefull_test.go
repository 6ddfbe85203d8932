package router_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus"
)

// fillStore is the embedded JetStream limit of the storage tests: a few
// hundred stored events.
const fillStore = 128 << 10

// TestFullStoreAnswers507AndIsNotReadyUntilRoom fills the embedded
// JetStream up to --nats-max-store: the refusal is a 507 naming
// JetStream's cause, the refused request stores nothing, /readyz is not
// ready, and once the stream is purged both recover.
func TestFullStoreAnswers507AndIsNotReadyUntilRoom(t *testing.T) {
	var logs syncBuffer
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.NATSMaxStore = fillStore
		c.Log = zerolog.New(&logs).Level(zerolog.WarnLevel)
	})
	if status, _, body := call(t, s, "GET", "/readyz", "", nil, nil); status != http.StatusOK {
		t.Fatalf("/readyz before filling: %d %v", status, body)
	}
	_, status, header, answer := fill(t, s, fillStore)
	msg, _ := answer["error_msg"].(string)
	if status != http.StatusInsufficientStorage || answer["error_code"] != api.CodeStorageFull ||
		!strings.Contains(msg, "JetStream storage is full (insufficient resources, err_code 10023)") ||
		!strings.Contains(msg, "--nats-max-store") || header.Get("Retry-After") != "30" {
		t.Fatalf("refusal = %d %v Retry-After=%q, want 507 %s naming the cause", status, answer, header.Get("Retry-After"), api.CodeStorageFull)
	}

	// A request while full stores nothing of itself.
	before := streamMsgs(t, s)
	refused := oneEvent(t, "refused-while-full")
	if status, answer := post(t, s, "application/cloudevents+json", refused, nil); status != http.StatusInsufficientStorage {
		t.Fatalf("post while full: %d %v, want 507", status, answer)
	}
	if after := streamMsgs(t, s); after != before {
		t.Fatalf("stream went from %d to %d events on a refused request", before, after)
	}
	status, _, body := call(t, s, "GET", "/readyz", "", nil, nil)
	if detail, _ := body["detail"].(string); status != http.StatusServiceUnavailable || !strings.Contains(detail, "JetStream storage is full") {
		t.Fatalf("/readyz while full: %d %v, want 503 naming the full storage", status, body)
	}
	if m := metrics(t, s); !strings.Contains(m, fmt.Sprintf("auditbus_jetstream_store_limit_bytes %d", fillStore)) ||
		!strings.Contains(m, "auditbus_jetstream_store_used_bytes ") {
		t.Fatalf("/metrics lacks the storage gauges:\n%s", m)
	}

	if !strings.Contains(logs.String(), "JetStream storage is nearly full") {
		t.Fatalf("no warning of the nearly full storage in the log:\n%s", logs.String())
	}

	purge(t, s)
	if status, _, body := call(t, s, "GET", "/readyz", "", nil, nil); status != http.StatusOK {
		t.Fatalf("/readyz after the purge: %d %v", status, body)
	}
	if status, answer := post(t, s, "application/cloudevents+json", refused, nil); status != http.StatusAccepted || answer["accepted"] != 1.0 {
		t.Fatalf("the refused event re-sent after the purge: %d %v, want 202", status, answer)
	}
}

// fill posts batches of 20 events, which match no rule, until one is
// refused, and returns how many events were answered 202 before it, and
// that answer. Twice limit's worth of events accepted fails the test.
func fill(t *testing.T, s *router.Server, limit int) (int, int, http.Header, map[string]any) {
	t.Helper()
	for n := 0; n < 2*limit/1024; n++ {
		batch := make([]event.Event, 20)
		for i := range batch {
			batch[i] = auditEvent(t, fmt.Sprintf("fill-%d-%d", n, i), "DescribeCluster", 0)
		}
		body, err := json.Marshal(batch)
		if err != nil {
			t.Fatal(err)
		}
		status, header, answer := call(t, s, http.MethodPost, "/v1/events", "application/cloudevents-batch+json", body, nil)
		if status != http.StatusAccepted {
			return n * len(batch), status, header, answer
		}
	}
	t.Fatalf("more events accepted than %d bytes hold", limit)
	return 0, 0, nil, nil
}

func oneEvent(t *testing.T, id string) []byte {
	t.Helper()
	body, err := json.Marshal(auditEvent(t, id, "DeleteCluster", 0))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// purge makes room the way an operator would: nats stream purge.
func purge(t *testing.T, s *router.Server) {
	t.Helper()
	if err := streamOf(t, s, bus.StreamName).Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
}
