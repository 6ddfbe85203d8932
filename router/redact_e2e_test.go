package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/sources/redacttest"
)

// bodies records every request body a server receives, answering status.
type bodies struct {
	*httptest.Server
	mu  sync.Mutex
	got [][]byte
}

func newBodies(t *testing.T, status int) *bodies {
	b := &bodies{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.got = append(b.got, append(body, []byte("\n"+r.Header.Get("Ce-Id"))...))
		b.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *bodies) all() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.got
}

// storedMessages returns every message of every JetStream stream: the
// events, the deliveries, the DLQ and the KV buckets.
func storedMessages(t *testing.T, s *router.Server) [][]byte {
	t.Helper()
	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var msgs [][]byte
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
			if m, err := st.GetMsg(ctx, seq); err == nil {
				msgs = append(msgs, m.Data)
			}
		}
	}
	if names.Err() != nil {
		t.Fatal(names.Err())
	}
	return msgs
}

// TestRedactionCorpusEndToEnd posts every placement of the corpus through
// every source endpoint and /v1/events to a real server whose rule
// delivers to a webhook, a log target and a failing target (so every
// event is also dead-lettered): no planted secret reaches the stream, a
// target, the DLQ, the log target's output or the server log, and the
// ordinary values a rule needs reach the webhook.
func TestRedactionCorpusEndToEnd(t *testing.T) {
	corpus, err := redacttest.Corpus()
	if err != nil {
		t.Fatal(err)
	}
	hook, failing := newBodies(t, http.StatusOK), newBodies(t, http.StatusBadRequest)
	stdout, logs := &syncBuffer{}, &syncBuffer{}
	rule := fmt.Sprintf("name: corpus\npattern:\n  principal: [%q]\ntargets:\n  - id: hook\n    webhook: {url: %q}\n"+
		"  - id: out\n    log: {}\n  - id: bad\n    webhook: {url: %q}\n", redacttest.Principal, hook.URL, failing.URL)
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.Stdout = stdout
		c.Log = zerolog.New(logs).Level(zerolog.DebugLevel)
	}, writeRules(t, rule))

	var ca, cts, k8s, evs []string
	ids := make([][]string, len(corpus)) // per placement, the id prefixes of its events
	for i, p := range corpus {
		ca, cts, k8s, evs = append(ca, p.CloudAudit(i)), append(cts, p.CTS(i)), append(k8s, p.K8s(i)), append(evs, p.Event(i))
		ids[i] = []string{fmt.Sprintf("req-%02d-", i), fmt.Sprintf("tr-%02d-", i), fmt.Sprintf("00000000-0000-4000-8000-%012d-", i), fmt.Sprintf("ev-%02d-", i)}
	}
	for _, req := range []struct{ path, contentType, body string }{
		{"/v1/sources/cloudaudit", "application/json", "[" + strings.Join(ca, ",") + "]"},
		{"/v1/sources/cts", "application/json", `{"traces":[` + strings.Join(cts, ",") + "]}"},
		{"/v1/sources/k8s-audit?cluster=prod", "application/json", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + strings.Join(k8s, ",") + "]}"},
		{"/v1/events", "application/cloudevents-batch+json", "[" + strings.Join(evs, ",") + "]"},
	} {
		status, _, answer := call(t, s, http.MethodPost, req.path, req.contentType, []byte(req.body), nil)
		if status != http.StatusAccepted || answer["accepted"] != float64(len(corpus)) {
			t.Fatalf("POST %s: %d %v", req.path, status, answer)
		}
	}
	settled(t, s)

	want := 4 * len(corpus)
	if got := len(hook.all()); got != want {
		t.Fatalf("webhook got %d events, want %d: the rule's fields did not survive", got, want)
	}
	_, _, dlq := call(t, s, http.MethodGet, "/v1/dlq?limit=200", "", nil, nil)
	entries, _ := dlq["entries"].([]any)
	if len(entries) != want {
		t.Fatalf("DLQ holds %d entries, want %d", len(entries), want)
	}
	dlqText, _ := json.Marshal(dlq)
	outputs := map[string][][]byte{
		"stream": storedMessages(t, s), "webhook": hook.all(), "failing target": failing.all(),
		"GET /v1/dlq": {dlqText}, "log target": {stdout.Bytes()}, "server log": {logs.Bytes()},
	}
	if n := bytes.Count(stdout.Bytes(), []byte("\n")); n != want {
		t.Errorf("log target wrote %d lines, want %d", n, want)
	}
	for i, p := range corpus {
		for where, blobs := range outputs {
			for _, b := range blobs {
				if leaks := p.Leaks(b); len(leaks) > 0 {
					t.Errorf("%s: secrets %q reached the %s:\n%.2000s", p.Name, leaks, where, b)
				}
			}
		}
		for _, prefix := range ids[i] {
			body := deliveredWithID(hook.all(), prefix)
			if body == nil {
				t.Errorf("%s: no delivery of %s*", p.Name, prefix)
			} else if lost := p.Lost(body); len(lost) > 0 {
				t.Errorf("%s: %q lost on the way to the webhook:\n%s", p.Name, lost, body)
			}
		}
	}
}

// deliveredWithID returns the body whose trailing Ce-Id line starts with
// prefix.
func deliveredWithID(got [][]byte, prefix string) []byte {
	for _, b := range got {
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 && strings.HasPrefix(string(b[i+1:]), prefix) {
			return b[:i]
		}
	}
	return nil
}

// TestEventRedactionPerBus: /v1/events data is redacted on the buses
// RedactEventBuses names and stored as sent on the others; the source
// endpoints redact on every bus.
func TestEventRedactionPerBus(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.RedactEventBuses = []string{"audit"} })
	event := func(id string) []byte {
		return []byte(fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"app","type":"t","data":{"db_password":"Pl4nt-bus-%s"}}`, id, id))
	}
	for _, p := range []string{"/v1/events?bus=audit", "/v1/events?bus=default"} {
		id := strings.TrimPrefix(p, "/v1/events?bus=")
		if status, _, answer := call(t, s, http.MethodPost, p, "application/cloudevents+json", event(id), nil); status != http.StatusAccepted {
			t.Fatalf("POST %s: %d %v", p, status, answer)
		}
	}
	caRecord := `{"userIdentity":{"principalId":"alice"},"eventTime":1615430559,"eventSource":"cvm.tencentcloudapi.com","eventName":"RunInstances",` +
		`"eventType":"ApiCall","errorCode":0,"requestID":"req-bus","requestParameters":"{\"Password\":\"Pl4nt-bus-source\"}"}`
	if status, _, answer := call(t, s, http.MethodPost, "/v1/sources/cloudaudit?bus=default", "application/json", []byte(caRecord), nil); status != http.StatusAccepted {
		t.Fatalf("POST cloudaudit: %d %v", status, answer)
	}
	stored := bytes.Join(storedMessages(t, s), []byte("\n"))
	if bytes.Contains(stored, []byte("Pl4nt-bus-audit")) || bytes.Contains(stored, []byte("Pl4nt-bus-source")) {
		t.Errorf("secret stored on a redacting bus or through a source endpoint:\n%s", stored)
	}
	if !bytes.Contains(stored, []byte("Pl4nt-bus-default")) {
		t.Errorf("event data on the bus without redaction was changed:\n%s", stored)
	}
	dup := []byte(`{"specversion":"1.0","id":"d","source":"app","type":"t","data":{"token":"a","token":"b"}}`)
	status, _, answer := call(t, s, http.MethodPost, "/v1/events?bus=audit", "application/cloudevents+json", dup, nil)
	if msg, _ := answer["error_msg"].(string); status != http.StatusBadRequest || !strings.Contains(msg, "duplicate key") {
		t.Errorf("data naming a key twice on a redacting bus: %d %v", status, answer)
	}
}
