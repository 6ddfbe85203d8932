package sinks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/sinks"
)

// An event whose attribute holds a control character (published onto the
// bus by another tool: ingest refuses it) cannot be sent in binary mode:
// the failure is permanent and nothing is sent. The structured formats
// carry it fine, escaped in JSON.
func TestUnbuildableHeaderIsPermanent(t *testing.T) {
	srv, got := hook(t, 204, nil)
	for _, attr := range []string{"subject", "id", "region"} {
		t.Run(attr, func(t *testing.T) {
			d := delivery(t)
			switch attr {
			case "subject":
				d.Event.SetSubject("cls\r\nX-Injected: 1")
			case "id":
				d.Event.SetID("evt\x00")
			case "region":
				d.Event.SetExtension("region", "ap\x7f")
			}
			err := newSink(t, "webhook", `{url: "`+srv.URL+`"}`, sinks.Deps{Guard: loopback}).Deliver(context.Background(), d)
			if err == nil || sinks.Retryable(err) || !strings.Contains(err.Error(), "control character") {
				t.Fatalf("binary mode: err = %v (retryable %v), want a permanent error naming the control character", err, sinks.Retryable(err))
			}
			if len(got) != 0 {
				t.Fatalf("a request was sent")
			}
			if err := newSink(t, "webhook", `{url: "`+srv.URL+`", format: cloudevents-structured}`, sinks.Deps{Guard: loopback}).Deliver(context.Background(), d); err != nil {
				t.Fatalf("structured mode: %v", err)
			}
			<-got
		})
	}
}

func TestConfigHeadersChecked(t *testing.T) {
	for _, cfg := range []string{
		`{url: "http://x", headers: {"X-A": "a\nb"}}`,
		`{url: "http://x", headers: {"X A": "v"}}`,
		`{url: "http://x", headers: {"": "v"}}`,
	} {
		for _, kind := range []string{"webhook", "function"} {
			if kind == "function" {
				cfg = strings.Replace(cfg, "{", `{urn: "urn:fss:ap-guangzhou:123:function:default:f:latest", `, 1)
			}
			err := sinks.Check(kind, node(t, cfg))
			if err == nil || !strings.Contains(err.Error(), "header") {
				t.Errorf("Check(%s, %s) = %v, want a header error", kind, cfg, err)
			}
		}
	}
}
