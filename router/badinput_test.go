package router_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/rules"
)

const validEvent = `{"specversion":"1.0","id":"1","source":"tke.cloud.tencent","type":"tke:CloudEvent:ApiCall","data":{"eventName":"DeleteCluster"}}`

// TestBadInputStoresNothing: every malformed request gets a 4xx JSON error
// naming the problem, and the stream stays empty.
func TestBadInputStoresNothing(t *testing.T) {
	hook := newWebhook(t, nil)
	s := start(t, t.TempDir(), func(c *router.Config) { c.MaxBodyBytes = 4096 }, writeRules(t, deleteRule(hook.URL)))
	binary := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = []string{kv[i+1]}
		}
		return h
	}
	ceHeaders := func(extra ...string) http.Header {
		return binary(append([]string{"Ce-Specversion", "1.0", "Ce-Id", "1", "Ce-Source", "s", "Ce-Type", "t"}, extra...)...)
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		header      http.Header
		status      int
		code        string
		msg         string // a fragment the message must contain
	}{
		{"malformed JSON", "application/cloudevents+json", `{"specversion":"1.0",`, nil, 400, "AB.1001", ""},
		{"missing id", "application/cloudevents+json", strings.Replace(validEvent, `"id":"1",`, "", 1), nil, 400, "AB.1002", "id"},
		{"missing source", "application/cloudevents+json", strings.Replace(validEvent, `"source":"tke.cloud.tencent",`, "", 1), nil, 400, "AB.1002", "source"},
		{"missing type", "application/cloudevents+json", strings.Replace(validEvent, `"type":"tke:CloudEvent:ApiCall",`, "", 1), nil, 400, "AB.1002", "type"},
		{"missing specversion", "application/cloudevents+json", strings.Replace(validEvent, `"specversion":"1.0",`, "", 1), nil, 400, "AB.1002", "specversion"},
		{"wrong specversion", "application/cloudevents+json", strings.Replace(validEvent, `"1.0"`, `"0.3"`, 1), nil, 400, "AB.1003", "specversion"},
		{"upper-case attribute name", "application/cloudevents+json", strings.Replace(validEvent, `"id":"1"`, `"id":"1","Region":"x"`, 1), nil, 400, "AB.1003", "Region"},
		{"object extension", "application/cloudevents+json", strings.Replace(validEvent, `"id":"1"`, `"id":"1","tags":{"a":"b"}`, 1), nil, 400, "AB.1003", "tags"},
		{"epoch-ms time", "application/cloudevents+json", strings.Replace(validEvent, `"id":"1"`, `"id":"1","time":1615430559146`, 1), nil, 400, "AB.1003", "time"},
		{"data and data_base64", "application/cloudevents+json", strings.Replace(validEvent, `"id":"1"`, `"id":"1","data_base64":"eA=="`, 1), nil, 400, "AB.1003", "data_base64"},
		{"binary bad attribute name", "application/json", `{}`, ceHeaders("Ce-Foo_bar", "x"), 400, "AB.1003", "foo_bar"},
		{"oversized body", "application/cloudevents+json", strings.Replace(validEvent, `"DeleteCluster"`, `"`+strings.Repeat("x", 5000)+`"`, 1), nil, 413, "AB.1005", ""},
		{"unsupported content type", "text/plain", "hello", nil, 415, "AB.1004", ""},
		{"batch with one bad element", "application/cloudevents-batch+json", "[" + validEvent + "," + strings.Replace(validEvent, `"id":"1",`, "", 1) + "]", nil, 400, "AB.1002", "1"},
		{"batch that is not an array", "application/cloudevents-batch+json", validEvent, nil, 400, "AB.1001", ""},
		{"invalid bus name", "application/cloudevents+json", validEvent, nil, 400, "AB.1006", "bus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := s
			status, answer := postTo(t, target, tt.name == "invalid bus name", tt.contentType, tt.body, tt.header)
			if status != tt.status || answer["error_code"] != tt.code {
				t.Fatalf("answer %d %v, want %d %s", status, answer, tt.status, tt.code)
			}
			msg, _ := answer["error_msg"].(string)
			if msg == "" || !strings.Contains(msg, tt.msg) {
				t.Errorf("error_msg %q does not name %q", msg, tt.msg)
			}
		})
	}
	if n := streamMsgs(t, s); n != 0 {
		t.Errorf("rejected requests stored %d events", n)
	}

	status, answer := post(t, s, "application/cloudevents-batch+json", []byte("[]"), nil)
	if status != http.StatusAccepted || answer["accepted"] != 0.0 || streamMsgs(t, s) != 0 {
		t.Errorf("empty batch: %d %v", status, answer)
	}
}

func postTo(t *testing.T, s *router.Server, badBus bool, contentType, body string, header http.Header) (int, map[string]any) {
	t.Helper()
	if !badBus {
		return post(t, s, contentType, []byte(body), header)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/v1/events?bus=Bad.Bus", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", contentType)
	return do(t, req)
}

// TestUnknownRoutesAnswerJSON checks 404 and 405 keep the error shape.
func TestUnknownRoutesAnswerJSON(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	for _, tt := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/v1/nope", 404, "AB.4040"},
		{http.MethodGet, "/v1/events", 405, "AB.4050"},
		{http.MethodPost, "/healthz", 405, "AB.4050"},
	} {
		req, _ := http.NewRequest(tt.method, "http://"+s.Addr()+tt.path, nil)
		status, answer := do(t, req)
		if status != tt.status || answer["error_code"] != tt.code {
			t.Errorf("%s %s: %d %v", tt.method, tt.path, status, answer)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+path, nil)
		if status, answer := do(t, req); status != 200 {
			t.Errorf("GET %s: %d %v", path, status, answer)
		}
	}
}

// TestBrokenRuleFileRefusesToStart: serve reports file:line:col and starts
// nothing, so no rule is silently missing.
func TestBrokenRuleFileRefusesToStart(t *testing.T) {
	path := writeRules(t, "name: ok-rule\ntargets:\n  - id: out\n    log: {}\n---\nname: Bad_Name\ntargets:\n  - id: out\n    log: {}\n")
	_, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-", Rules: []string{path}})
	var errs rules.Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("Start = %v, want rules.Errors", err)
	}
	if want := path + ":6:"; !strings.HasPrefix(errs[0].Error(), want) {
		t.Errorf("error %q does not start with %q", errs[0], want)
	}
}

// TestStartFailsWhenTheRouterCannotConsume: a server that could not create
// its consumer must not start and accept events nobody would route.
func TestStartFailsWhenTheRouterCannotConsume(t *testing.T) {
	external := bustest.Start(t, "")
	ctx := context.Background()
	if _, err := bus.EnsureStream(ctx, external.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := external.JS.CreateConsumer(ctx, bus.StreamName, jetstream.ConsumerConfig{
		Durable: dispatch.ConsumerName, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverNewPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	s, err := router.Start(ctx, router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSURL: external.NS.ClientURL()})
	if err == nil {
		s.Stop(ctx)
		t.Fatal("Start succeeded with a consumer it cannot use")
	}
	if !strings.Contains(err.Error(), "consumer "+dispatch.ConsumerName) {
		t.Errorf("error %q does not name the consumer", err)
	}
}
