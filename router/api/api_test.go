package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
)

// auditRecord is the ~2 KB CloudAudit record the rules benchmarks use.
var auditRecord = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile("../../rules/testdata/bench/cloudaudit-event.json")
})

// auditEvent is a structured CloudEvent carrying auditRecord, with the given id.
func auditEvent(tb testing.TB, id string) string {
	tb.Helper()
	data, err := auditRecord()
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"tke.cloud.tencent","type":"tke:CloudEvent:ApiCall","time":"2021-03-11T02:42:39.146Z","region":"ap-guangzhou","datacontenttype":"application/json","data":%s}`, id, data)
}

// newAPI serves the API over a real JetStream; withStream false leaves the
// events stream missing, so every publish fails.
func newAPI(tb testing.TB, withStream bool, opts ...api.Option) (*httptest.Server, *bustest.Server) {
	tb.Helper()
	ns := bustest.Start(tb, "")
	if withStream {
		if _, err := bus.EnsureStream(context.Background(), ns.JS, bus.StreamConfig{}); err != nil {
			tb.Fatal(err)
		}
	}
	srv := httptest.NewServer(api.New(bus.NewPublisher(ns.JS), opts...))
	tb.Cleanup(srv.Close)
	return srv, ns
}

func postEvent(tb testing.TB, url, body string) (*http.Response, map[string]any) {
	tb.Helper()
	resp, err := http.Post(url+"/v1/events", "application/cloudevents+json", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("answer %d is not JSON: %s", resp.StatusCode, raw)
	}
	return resp, out
}

func TestBusDownAnswers503WithRetryAfter(t *testing.T) {
	srv, _ := newAPI(t, false, api.WithPublishTimeout(2e9))
	resp, out := postEvent(t, srv.URL, auditEvent(t, "1"))
	if resp.StatusCode != http.StatusServiceUnavailable || out["error_code"] != api.CodeUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("answer %d %v Retry-After=%q", resp.StatusCode, out, resp.Header.Get("Retry-After"))
	}
	if msg, _ := out["error_msg"].(string); strings.Contains(msg, "nats") || !strings.Contains(msg, "re-sending the whole request is safe") {
		t.Errorf("error_msg %q leaks internals or lacks the retry advice", msg)
	}
}

func TestReadinessAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	notReady := errors.New("stream missing")
	ready := error(nil)
	srv, _ := newAPI(t, true, api.WithMetrics(reg, reg), api.WithReadiness(func(context.Context) error { return ready }))

	if resp, out := postEvent(t, srv.URL, auditEvent(t, "m-1")); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post: %d %v", resp.StatusCode, out)
	}
	postEvent(t, srv.URL, auditEvent(t, "m-1"))
	postEvent(t, srv.URL, `{"specversion":"1.0"}`)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`auditbus_ingest_events_total{outcome="stored"} 1`,
		`auditbus_ingest_events_total{outcome="duplicate"} 1`,
		`auditbus_ingest_rejected_requests_total{code="AB.1002"} 1`,
		`auditbus_http_request_duration_seconds_count{method="POST",route="/v1/events",status="2xx"} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	for _, tt := range []struct {
		err    error
		status int
	}{{nil, 200}, {notReady, 503}} {
		ready = tt.err
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("readyz with %v: %d, want %d", tt.err, resp.StatusCode, tt.status)
		}
	}
}
