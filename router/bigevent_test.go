package router_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus/bustest"
)

// TestLargestEventDeadLetters: an event as large as the body limit allows
// is stored, and when its target refuses it, its dead letter (the event
// and more) is stored too, rather than retried for ever for want of room.
func TestLargestEventDeadLetters(t *testing.T) {
	bad := newWebhook(t, func(*http.Request) int { return http.StatusBadRequest })
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(bad.URL)))
	body := largestEvent(t)
	if status, answer := post(t, s, "application/cloudevents+json", body, nil); status != http.StatusAccepted {
		t.Fatalf("post %d bytes: %d %v", len(body), status, answer)
	}
	waitFor(t, "the dead letter of the largest event", func() (bool, string) {
		_, _, page := call(t, s, "GET", "/v1/dlq?limit=1", "", nil, nil)
		entries, _ := page["entries"].([]any)
		return len(entries) == 1, fmt.Sprint(len(entries), " entries")
	})
}

// largestEvent is a structured event just under the 1 MiB body limit.
func largestEvent(t *testing.T) []byte {
	e := auditEvent(t, "big-1", "DeleteCluster", 0)
	data := map[string]any{"eventName": "DeleteCluster", "errorCode": 0, "pad": strings.Repeat("x", 1<<20-600)}
	if err := e.SetData("application/json", data); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(e)
	return body
}

// TestEventTooLargeForTheBus: on a NATS server whose max_payload leaves no
// room for an event's dead letter, the event is refused at ingest (413,
// naming the limit), not accepted and then stuck.
func TestEventTooLargeForTheBus(t *testing.T) {
	external := bustest.Start(t, "") // NATS's default max_payload, 1 MiB
	s := start(t, t.TempDir(), func(c *router.Config) { c.NATSURL = external.NS.ClientURL() })
	status, answer := post(t, s, "application/cloudevents+json", largestEvent(t), nil)
	if msg, _ := answer["error_msg"].(string); status != http.StatusRequestEntityTooLarge || answer["error_code"] != "AB.1005" || !strings.Contains(msg, "max_payload") {
		t.Errorf("answer %d %v, want 413 AB.1005 naming max_payload", status, answer)
	}
	if n := streamMsgs(t, s); n != 0 {
		t.Errorf("stream holds %d events", n)
	}
}

// TestPublishTimeout: with the bus gone, an ingest request answers 503
// after --publish-timeout, well before a client's own timeout (here 5s,
// against the default 10s the setting replaces).
func TestPublishTimeout(t *testing.T) {
	external := bustest.Start(t, "")
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.NATSURL, c.PublishTimeout = external.NS.ClientURL(), 300*time.Millisecond
	})
	external.Stop()
	body, _ := json.Marshal(auditEvent(t, "timeout-1", "DeleteCluster", 0))
	req, _ := http.NewRequest("POST", "http://"+s.Addr()+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("no answer within the client's 5s: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("answer %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
