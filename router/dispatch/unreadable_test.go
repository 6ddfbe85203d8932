package dispatch_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/dispatch"
)

// Events published straight onto an events subject, bypassing ingest,
// which the router cannot read: each ends in the DLQ with its reason.
func TestUnreadableEventIsDeadLettered(t *testing.T) {
	deep := `{"specversion":"1.0","id":"deep","source":"/s","type":"t","data":` +
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
	tests := []struct {
		name, subject, body string
		lastError           []string
	}{
		{"not JSON", "auditbus.events.default._._._", "not a cloudevent", []string{"not a structured CloudEvent"}},
		{"10,000-deep data", "auditbus.events.default.tke.ApiCall.DeleteCluster", deep, []string{"depth"}},
		{"no specversion", "auditbus.events.default._._._", `{"id":"1"}`, []string{"specversion"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hook := newCounter(t, 200)
			e := startRouter(t, hookRule(hook.URL, ""))
			ack, err := e.ns.JS.Publish(context.Background(), tc.subject, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			e.publish(t, "after-it")
			e.settled(t)
			if got := hook.delivered(); len(got) != 1 {
				t.Errorf("delivered %d, want the valid event after it", len(got))
			}
			entries := e.dlq(t, dispatch.DLQFilter{})
			if len(entries) != 1 {
				t.Fatalf("dead letters %+v, want one", entries)
			}
			dl := entries[0]
			if dl.Reason != dispatch.ReasonUnreadable || dl.Bus != "default" || dl.Rule != "" || dl.Target != "" ||
				dl.EventSubject != tc.subject || dl.EventSequence != ack.Sequence || dl.Attempts != 1 || dl.EventTruncated {
				t.Errorf("entry %+v", dl)
			}
			for _, want := range tc.lastError {
				if !strings.Contains(dl.LastError, want) {
					t.Errorf("last_error %q does not say %q", dl.LastError, want)
				}
			}
			if got := string(dl.Event) + dl.EventText; got != tc.body {
				t.Errorf("entry holds %.60q, want the event as published", got)
			}
			if got := e.dlq(t, dispatch.DLQFilter{Bus: "default"}); len(got) != 1 {
				t.Errorf("bus filter: %d entries, want 1", len(got))
			}
			if got := e.dlq(t, dispatch.DLQFilter{Rule: "deletes"}); len(got) != 0 {
				t.Errorf("rule filter: %d entries, want none (it belongs to no rule)", len(got))
			}
			_, err = e.router.Redrive(context.Background(), dispatch.RedriveRequest{IDs: []uint64{dl.ID}})
			if !errors.Is(err, dispatch.ErrBadRedrive) || !strings.Contains(err.Error(), "could not read") {
				t.Errorf("redrive: %v, want ErrBadRedrive saying the event could not be read", err)
			}
			_, err = e.router.Redrive(context.Background(), dispatch.RedriveRequest{IDs: []uint64{dl.ID}, ToTarget: "hook"})
			if !errors.Is(err, dispatch.ErrBadRedrive) {
				t.Errorf("redrive to a target: %v, want ErrBadRedrive", err)
			}
			if got := e.dlq(t, dispatch.DLQFilter{}); len(got) != 1 {
				t.Errorf("after the refused redrive %d entries, want the entry kept", len(got))
			}
		})
	}
}

// An unreadable event as large as a message can be does not fit in its
// dead letter: the entry keeps its start and says where the rest is.
func TestUnreadableEventTooLargeForItsEntry(t *testing.T) {
	hook := newCounter(t, 200)
	e := startRouter(t, hookRule(hook.URL, ""))
	body := strings.Repeat("x", int(e.ns.NC.MaxPayload())-512)
	ack, err := e.ns.JS.Publish(context.Background(), "auditbus.events.default._._._", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	e.settled(t)
	entries := e.dlq(t, dispatch.DLQFilter{})
	if len(entries) != 1 {
		t.Fatalf("dead letters %d, want one", len(entries))
	}
	dl := entries[0]
	if !dl.EventTruncated || dl.EventSequence != ack.Sequence || len(dl.EventText) != 64<<10 || !strings.HasPrefix(body, dl.EventText) {
		t.Errorf("entry: truncated=%v seq=%d text %d bytes", dl.EventTruncated, dl.EventSequence, len(dl.EventText))
	}
}
