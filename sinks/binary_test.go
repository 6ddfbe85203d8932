package sinks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/sinks"
)

// A binary-mode delivery percent-encodes its ce- header values as the
// CloudEvents HTTP binding (3.1.3.2) requires: sdk-go's own receiver reads
// the request as the same event, every header holds printable ASCII only,
// and the values, percent-decoded as the binding says a receiver does,
// are the event's own ('%', '"', space, non-ASCII and astral unicode
// alike). The body is the stored data, byte for byte.
func TestBinaryHeadersArePercentEncoded(t *testing.T) {
	type got struct {
		header http.Header
		body   []byte
		subj   string
		region string
		id     string
		err    error
	}
	recv := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := got{header: r.Header.Clone()}
		ev, err := cehttp.NewEventFromHTTPRequest(r)
		if err == nil {
			g.body, g.subj, g.id = ev.Data(), ev.Subject(), ev.ID()
			g.region, _ = ev.Extensions()["region"].(string)
		}
		g.err = err
		recv <- g
	}))
	t.Cleanup(srv.Close)

	d := delivery(t)
	subject := `100% "quoted" naïve 日本 😀 a+b`
	d.Event.SetSubject(subject)
	d.Event.SetExtension("region", "ap-广州 %41")
	d.Event.SetTime(time.Date(2026, 12, 2, 1, 2, 3, 4, time.UTC))
	stored, err := cejson.Marshal(d.Event)
	if err != nil {
		t.Fatal(err)
	}
	d.Stored = stored
	if err := newSink(t, "webhook", `{url: "`+srv.URL+`"}`, sinks.Deps{Guard: loopback}).Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	g := <-recv
	if g.err != nil {
		t.Fatalf("sdk-go cannot read the request: %v", g.err)
	}
	for name, vs := range g.header {
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if c := v[i]; c < 0x20 || c > 0x7e || (len(name) > 3 && name[:3] == "Ce-" && (c == ' ' || c == '"')) {
					t.Errorf("header %s = %q: byte %d (%q) is not encoded", name, v, i, c)
				}
			}
		}
	}
	for _, tc := range []struct{ attr, raw, want string }{
		{"subject", g.subj, subject},
		{"region", g.region, "ap-广州 %41"},
		{"id", g.id, "evt-1"},
	} {
		if dec, err := url.PathUnescape(tc.raw); err != nil || dec != tc.want {
			t.Errorf("%s: received %q, decoded %q (%v), want %q", tc.attr, tc.raw, dec, err, tc.want)
		}
	}
	if g.header.Get("Ce-Time") != "2026-12-02T01:02:03.000000004Z" || g.header.Get("Ce-Specversion") != "1.0" {
		t.Errorf("ce-time %q, ce-specversion %q", g.header.Get("Ce-Time"), g.header.Get("Ce-Specversion"))
	}
	if string(g.body) != `{"eventName":"DeleteCluster"}` || g.header.Get("Content-Type") != "application/json" {
		t.Errorf("body %q content-type %q", g.body, g.header.Get("Content-Type"))
	}
}

// Structured mode sends the stored bytes as they are when the delivery
// has them.
func TestStructuredSendsTheStoredBytes(t *testing.T) {
	srv, got := hook(t, http.StatusNoContent, nil)
	d := delivery(t)
	d.Stored = []byte(`{"specversion":"1.0","id":"evt-1","source":"s","type":"t","data":{"kept":  "as stored"}}`)
	if err := newSink(t, "webhook", `{url: "`+srv.URL+`", format: cloudevents-structured}`, sinks.Deps{Guard: loopback}).Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if c := <-got; string(c.body) != string(d.Stored) {
		t.Errorf("body %s, want the stored bytes %s", c.body, d.Stored)
	}
}

// Deliveries of one event to several targets that share their Ce- headers
// (Delivery.Shared, built once) send what each would send on its own,
// each with its own configured headers beside them.
func TestBinarySharedHeadersMatchOwn(t *testing.T) {
	recv := make(chan http.Header, 3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		for _, name := range []string{"Accept-Encoding", "User-Agent", "Content-Length"} {
			h.Del(name)
		}
		recv <- h
	}))
	t.Cleanup(srv.Close)
	shared := new(sinks.Shared)
	for _, tc := range []struct {
		name   string
		shared *sinks.Shared
		extra  string // a configured header's value
	}{{"own", nil, "a"}, {"shared, first", shared, "b"}, {"shared, second", shared, "c"}} {
		d := delivery(t)
		d.Event.SetSubject(`naïve "x"`)
		d.Event.SetExtension("region", "ap-guangzhou")
		d.Shared = tc.shared
		sink := newSink(t, "webhook", `{url: "`+srv.URL+`", headers: {X-Extra: `+tc.extra+`}}`, sinks.Deps{Guard: loopback})
		if err := sink.Deliver(context.Background(), d); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		h := <-recv
		if h.Get("X-Extra") != tc.extra || h.Get("Ce-Region") != "ap-guangzhou" || h.Get("Ce-Subject") != "na%C3%AFve%20%22x%22" || h.Get("Ce-Id") != "evt-1" {
			t.Errorf("%s: headers %v", tc.name, h)
		}
	}
}
