package dispatch_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/dispatch"
)

// An event whose subject a header cannot carry (published by another tool:
// ingest refuses it) dead-letters after one attempt on a binary-mode
// webhook, without a request, while a structured-mode target of the same
// rule gets it.
func TestUnbuildableHeaderDeadLettersAfterOneAttempt(t *testing.T) {
	binary, structured := newCounter(t, 200), newCounter(t, 200)
	rule := fmt.Sprintf("name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n"+
		"  - id: binary\n    webhook: {url: %q}\n"+
		"  - id: structured\n    webhook: {url: %q, format: cloudevents-structured}\n", binary.URL, structured.URL)
	e := startRouter(t, rule)
	ev := event.New()
	ev.SetID("ctl-1")
	ev.SetSource("tke.cloud.tencent")
	ev.SetType("tke:CloudEvent:ApiCall")
	ev.SetSubject("cls-1\r\nX-Injected: yes")
	if err := ev.SetData(event.ApplicationJSON, map[string]any{"eventName": "DeleteCluster"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.NewPublisher(e.ns.JS).Publish(context.Background(), "default", []event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	e.settled(t)
	if n := binary.requests.Load(); n != 0 {
		t.Errorf("binary target got %d requests, want none", n)
	}
	if got := structured.delivered(); len(got) != 1 {
		t.Errorf("structured target got %d deliveries, want 1", len(got))
	}
	dl := e.dlq(t, dispatch.DLQFilter{Target: "binary"})
	if len(dl) != 1 {
		t.Fatalf("dead letters %+v, want one", dl)
	}
	if dl[0].Attempts != 1 || dl[0].Reason != "undeliverable as built" || !strings.Contains(dl[0].LastError, "Ce-Subject") ||
		!strings.Contains(dl[0].LastError, "U+000D") {
		t.Errorf("entry: attempts %d reason %q last_error %q", dl[0].Attempts, dl[0].Reason, dl[0].LastError)
	}
}
