package sinks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/sinks"
)

func node(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

func delivery(t *testing.T) *sinks.Delivery {
	t.Helper()
	e := event.New()
	e.SetID("evt-1")
	e.SetSource("tke.cloud.tencent")
	e.SetType("tke:CloudEvent:ApiCall")
	e.SetSubject("qcs::tke:ap-guangzhou:uin/100001:cluster/cls-abc")
	e.SetExtension("region", "ap-guangzhou")
	if err := e.SetData(event.ApplicationJSON, map[string]any{"eventName": "DeleteCluster"}); err != nil {
		t.Fatal(err)
	}
	return &sinks.Delivery{Event: &e, Bus: "default", Rule: "r", Target: "t", Attempt: 1}
}

type captured struct {
	header http.Header
	body   []byte
}

func hook(t *testing.T, status int, extra http.Header) (*httptest.Server, chan captured) {
	t.Helper()
	got := make(chan captured, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- captured{r.Header.Clone(), b}
		for k, v := range extra {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func newSink(t *testing.T, kind, cfg string, deps sinks.Deps) sinks.Sink {
	t.Helper()
	s, err := sinks.New(kind, node(t, cfg), deps)
	if err != nil {
		t.Fatalf("New(%s, %s): %v", kind, cfg, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestWebhookFormats(t *testing.T) {
	srv, got := hook(t, http.StatusNoContent, nil)
	ctx := context.Background()

	d := delivery(t)
	if err := newSink(t, "webhook", `{url: "`+srv.URL+`"}`, sinks.Deps{Guard: loopback}).Deliver(ctx, d); err != nil {
		t.Fatal(err)
	}
	c := <-got
	if c.header.Get("Ce-Id") != "evt-1" || c.header.Get("Ce-Type") != "tke:CloudEvent:ApiCall" ||
		c.header.Get("Ce-Region") != "ap-guangzhou" || c.header.Get("Content-Type") != "application/json" ||
		string(c.body) != `{"eventName":"DeleteCluster"}` {
		t.Errorf("binary mode request: %v %s", c.header, c.body)
	}

	if err := newSink(t, "webhook", `{url: "`+srv.URL+`", format: cloudevents-structured}`, sinks.Deps{Guard: loopback}).Deliver(ctx, d); err != nil {
		t.Fatal(err)
	}
	c = <-got
	var structured map[string]any
	if err := json.Unmarshal(c.body, &structured); err != nil || structured["id"] != "evt-1" || c.header.Get("Content-Type") != "application/cloudevents+json" {
		t.Errorf("structured request: %v %s (%v)", c.header, c.body, err)
	}

	d.Payload = map[string]any{"cluster": d.Event.Subject()}
	if err := newSink(t, "webhook", `{url: "`+srv.URL+`", format: raw, headers: {X-Team: ops}}`, sinks.Deps{Guard: loopback}).Deliver(ctx, d); err != nil {
		t.Fatal(err)
	}
	c = <-got
	if string(c.body) != `{"cluster":"qcs::tke:ap-guangzhou:uin/100001:cluster/cls-abc"}` || c.header.Get("X-Team") != "ops" {
		t.Errorf("raw request with payload: %v %s", c.header, c.body)
	}
}

func TestWebhookFailureClassification(t *testing.T) {
	tests := []struct {
		status     int
		header     http.Header
		retryable  bool
		retryAfter time.Duration
	}{
		{http.StatusInternalServerError, nil, true, 0},
		{http.StatusServiceUnavailable, http.Header{"Retry-After": {"7"}}, true, 7 * time.Second},
		{http.StatusTooManyRequests, nil, true, 0},
		{http.StatusBadRequest, nil, false, 0},
		{http.StatusUnauthorized, nil, false, 0},
		{http.StatusRequestEntityTooLarge, nil, false, 0},
		{http.StatusFound, http.Header{"Location": {"http://elsewhere.example/"}}, false, 0},
	}
	for _, tt := range tests {
		srv, got := hook(t, tt.status, tt.header)
		err := newSink(t, "webhook", `{url: "`+srv.URL+`"}`, sinks.Deps{Guard: loopback}).Deliver(context.Background(), delivery(t))
		<-got
		if err == nil || sinks.Retryable(err) != tt.retryable || sinks.RetryAfter(err) != tt.retryAfter {
			t.Errorf("status %d: err=%v retryable=%v retryAfter=%s", tt.status, err, sinks.Retryable(err), sinks.RetryAfter(err))
		}
		if len(got) != 0 {
			t.Errorf("status %d: redirect followed", tt.status)
		}
	}
}

func TestWebhookUnreachableIsRetryable(t *testing.T) {
	srv, _ := hook(t, 200, nil)
	srv.Close()
	err := newSink(t, "webhook", `{url: "`+srv.URL+`", timeout: 1s}`, sinks.Deps{Guard: loopback}).Deliver(context.Background(), delivery(t))
	if err == nil || !sinks.Retryable(err) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ kind, cfg, want string }{
		{"webhook", `{url: "ftp://x"}`, "want an absolute http or https URL"},
		{"webhook", `{url: "http://x", formt: raw}`, `unknown option "formt"`},
		{"webhook", `{url: "http://x", format: xml}`, `format "xml"`},
		{"webhook", `{url: "http://x", secret: s}`, "secret: invalid webhook secret: 1 bytes"},
		{"webhook", `{url: "http://x", secret: "whsec_not base64!"}`, "secret: invalid webhook secret"},
		{"webhook", `{url: "http://x", secret: ""}`, "secret: invalid webhook secret: 0 bytes"},
		{"nats", `{subject: "alerts.*"}`, "without wildcards"},
		{"nats", `{subject: "auditbus.events.x"}`, "reserved"},
		{"nats", `{subject: "$KV.AUDITBUS_RULES.default.x"}`, "belong to NATS itself"},
		{"nats", `{subject: "$JS.API.STREAM.PURGE.AUDITBUS_EVENTS"}`, "belong to NATS itself"},
		{"nats", `{}`, "subject: required"},
		{"log", `{level: info}`, `unknown option "level"`},
		{"carrier-pigeon", `{}`, "unknown target kind"},
	}
	for _, tt := range tests {
		err := sinks.Check(tt.kind, node(t, tt.cfg))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Check(%s, %s) = %v, want error containing %q", tt.kind, tt.cfg, err, tt.want)
		}
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering webhook twice did not panic")
		}
	}()
	sinks.Register("webhook", func(*yaml.Node, sinks.Deps) (sinks.Sink, error) { return nil, nil })
}

func TestLogWritesOneJSONLine(t *testing.T) {
	var out bytes.Buffer
	s := newSink(t, "log", `{}`, sinks.Deps{Stdout: &out})
	if err := s.Deliver(context.Background(), delivery(t)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var line struct {
		Rule  string         `json:"rule"`
		Event map[string]any `json:"event"`
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &line) != nil || line.Rule != "r" || line.Event["id"] != "evt-1" {
		t.Errorf("log output %q", out.String())
	}
}

func TestLogTargetsSharingAWriterKeepLinesWhole(t *testing.T) {
	var out bytes.Buffer
	a := newSink(t, "log", `{}`, sinks.Deps{Stdout: &out})
	b := newSink(t, "log", `{}`, sinks.Deps{Stdout: &out})
	var wg sync.WaitGroup
	for i := range 200 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			if err := s.Deliver(context.Background(), delivery(t)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not one JSON object: %.80q", i, l)
		}
	}
	if len(lines) != 200 {
		t.Errorf("%d lines, want 200", len(lines))
	}
}

func TestNATSPublishesStructuredEvent(t *testing.T) {
	s := bustest.Start(t, "")
	sub, err := s.NC.SubscribeSync("alerts.tke")
	if err != nil {
		t.Fatal(err)
	}
	sink := newSink(t, "nats", `{subject: alerts.tke}`, sinks.Deps{NATS: s.NC})
	if err := sink.Deliver(context.Background(), delivery(t)); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var e event.Event
	if err := json.Unmarshal(msg.Data, &e); err != nil || e.ID() != "evt-1" || msg.Header.Get("Ce-Source") != "tke.cloud.tencent" {
		t.Errorf("published %s %s (%v)", msg.Header, msg.Data, err)
	}
}
