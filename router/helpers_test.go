package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
)

// start runs a whole auditbus in-process on dataDir with the given rule
// files, stopping it with t.Cleanup.
func start(t testing.TB, dataDir string, mutate func(*router.Config), ruleFiles ...string) *router.Server {
	t.Helper()
	cfg := router.Config{
		Listen:        "127.0.0.1:0",
		DataDir:       dataDir,
		NATSListen:    "-",
		Rules:         ruleFiles,
		ShutdownGrace: time.Second,
		Log:           zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		Stdout:        io.Discard,
		// Test webhooks are httptest servers on 127.0.0.1.
		AllowPrivateTargets: true,
		// Every test client is 127.0.0.1: the auth tests fail on purpose.
		AuthFailureRate: -1,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := router.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

// writeRules writes a rule file into a temp dir and returns its path.
func writeRules(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// deleteRule matches successful TKE DeleteCluster calls and sends them to url.
func deleteRule(url string) string {
	return fmt.Sprintf(`name: tke-cluster-deleted
pattern:
  type: ["tke:CloudEvent:ApiCall", "tke:CloudEvent:ConsoleCall"]
  data:
    eventName: ["DeleteCluster"]
    errorCode: [0]
targets:
  - id: hook
    webhook: {url: %q, timeout: 5s}
`, url)
}

// received is what a test webhook saw of one request.
type received struct {
	header http.Header
	body   []byte
}

// webhook records the requests it accepts, answering with status's code
// (200 when nil); seen ticks as each request arrives.
type webhook struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	seen chan struct{}
}

func newWebhook(t *testing.T, status func(r *http.Request) int) *webhook {
	t.Helper()
	w := &webhook{seen: make(chan struct{}, 100000)}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.seen <- struct{}{}
		b, _ := io.ReadAll(r.Body)
		code := http.StatusOK
		if status != nil {
			code = status(r)
		}
		if code < 300 {
			w.mu.Lock()
			w.got = append(w.got, received{r.Header.Clone(), b})
			w.mu.Unlock()
		}
		rw.WriteHeader(code)
	}))
	t.Cleanup(w.Close)
	return w
}

// ceHeader is a binary-mode attribute header as a receiver that follows
// the CloudEvents HTTP binding reads it: percent-decoded once.
func ceHeader(h http.Header, name string) string {
	v := h.Get(name)
	if dec, err := url.PathUnescape(v); err == nil {
		return dec
	}
	return v
}

// ids returns the ids delivered so far, with their counts.
func (w *webhook) ids() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := map[string]int{}
	for _, r := range w.got {
		m[ceHeader(r.header, "Ce-Id")]++
	}
	return m
}

func (w *webhook) byID(id string) (received, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.got {
		if ceHeader(r.header, "Ce-Id") == id {
			return r, true
		}
	}
	return received{}, false
}

func auditEvent(t testing.TB, id, name string, errorCode int) event.Event {
	t.Helper()
	e := event.New()
	e.SetID(id)
	e.SetSource("tke.cloud.tencent")
	e.SetType("tke:CloudEvent:ApiCall")
	e.SetSubject("qcs::tke:ap-guangzhou:uin/100000000011:cluster/cls-8x2k9d1f")
	e.SetTime(time.Date(2021, 3, 11, 2, 42, 39, 146e6, time.UTC))
	e.SetExtension("region", "ap-guangzhou")
	if err := e.SetData(event.ApplicationJSON, map[string]any{
		"eventName": name, "errorCode": errorCode,
		"userIdentity": map[string]any{"type": "CAMUser", "principalId": "100000000011"},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// post sends body to the server's /v1/events.
func post(t *testing.T, s *router.Server, contentType string, body []byte, header http.Header) (int, map[string]any) {
	t.Helper()
	status, _, out := call(t, s, http.MethodPost, "/v1/events", contentType, body, header)
	if out == nil {
		t.Fatalf("POST /v1/events: answer %d has no JSON body", status)
	}
	return status, out
}

// do sends req and decodes the JSON answer.
func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// streamMsgs counts the events stored on the bus.
func streamMsgs(t *testing.T, s *router.Server) uint64 {
	t.Helper()
	return streamCount(t, s, bus.StreamName)
}

// streamOf is a stream of the server's bus.
func streamOf(t *testing.T, s *router.Server, stream string) jetstream.Stream {
	t.Helper()
	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// streamCount counts the messages of a stream.
func streamCount(t *testing.T, s *router.Server, stream string) uint64 {
	t.Helper()
	info, err := streamOf(t, s, stream).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// settled waits until the router has acknowledged every stored event, so a
// test can assert that nothing more will arrive.
func settled(t *testing.T, s *router.Server) {
	t.Helper()
	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	bustest.WaitSettled(t, js, bus.StreamName, dispatch.ConsumerName, 20*time.Second)
	// Fanned out; now every queued delivery must be delivered or
	// dead-lettered (WorkQueue retention drops it once acknowledged). The
	// bound is generous: on a loaded CI machine under -race an attempt
	// can time out and be retried with backoff before it settles.
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := js.Stream(context.Background(), bus.DeliveriesStream)
		if err == nil {
			info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(">"))
			if err == nil && info.State.Msgs == 0 {
				return
			}
			if time.Now().After(deadline) && err == nil {
				t.Fatalf("deliveries not settled within 60s: %d left, by subject %v", info.State.Msgs, info.State.Subjects)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not settled within 60s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// call sends a request to the server and returns the status, the headers
// and the JSON answer (nil for an empty body).
func call(t *testing.T, s *router.Server, method, path, contentType string, body []byte, header http.Header) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			// Errors are JSON; a success may not be (/metrics): its start
			// is under "text".
			if resp.StatusCode >= 300 {
				t.Fatalf("%s %s: answer %d is not JSON: %q", method, path, resp.StatusCode, raw)
			}
			out = map[string]any{"text": string(raw[:min(len(raw), 100)])}
		}
	}
	return resp.StatusCode, resp.Header, out
}

// waitFor polls cond until it holds, failing the test with the last state
// after 15s.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	waitWithin(t, 15*time.Second, what, cond)
}

// waitWithin polls cond every 10ms until it holds, failing the test with
// the last state after d.
func waitWithin(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s; last state: %s", what, d, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replaceFile writes content to path atomically (write, then rename), as
// Kubernetes updates a mounted ConfigMap, so a reload never sees half a file.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// metrics returns the server's /metrics text.
func metrics(t *testing.T, s *router.Server) string {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// sendEvent stores an audit event of the given event name through the API.
func sendEvent(t *testing.T, s *router.Server, id, eventName string) {
	t.Helper()
	body, _ := json.Marshal(auditEvent(t, id, eventName, 0))
	if status, answer := post(t, s, "application/cloudevents+json", body, nil); status != http.StatusAccepted {
		t.Fatalf("post %s: %d %v", id, status, answer)
	}
}

// storedEvents reads every event on the events stream, in order.
func storedEvents(t *testing.T, s *router.Server) []event.Event {
	t.Helper()
	st := streamOf(t, s, bus.StreamName)
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Event
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatalf("event %d: %v", seq, err)
		}
		var e event.Event
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatalf("event %d: %v", seq, err)
		}
		out = append(out, e)
	}
	return out
}

// syncBuffer collects what the server's goroutines write (logs, log
// targets).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}
