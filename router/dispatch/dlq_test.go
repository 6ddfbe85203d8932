package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/sinks"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

func TestFailuresEndInTheDLQ(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		retry    string
		attempts uint64
		reason   string
	}{
		{"500 until max_attempts", 500, "    retry: {max_attempts: 3}\n", 3, "retries exhausted: 3 attempts"},
		{"400 at once", 400, "", 1, "rejected by target"},
		{"413 at once", 413, "", 1, "rejected by target"},
		{"401 at once", 401, "", 1, "rejected by target"},
		{"403 at once", 403, "", 1, "rejected by target"},
		{"404 at once", 404, "", 1, "rejected by target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := newCounter(t, tc.status)
			reg := prometheus.NewRegistry()
			e := startRouter(t, hookRule(hook.URL, tc.retry), dispatch.WithRegisterer(reg))
			e.publish(t, "doomed")
			e.settled(t)
			dl := e.dlq(t, dispatch.DLQFilter{Rule: "deletes", Target: "hook"})
			if len(dl) != 1 {
				t.Fatalf("dead letters %+v, want 1", dl)
			}
			d := dl[0]
			if d.Attempts != tc.attempts || d.Reason != tc.reason || d.LastStatus != tc.status || d.Bus != "default" ||
				!strings.Contains(string(d.Event), `"id":"doomed"`) || d.LastError == "" || d.QueuedAt.IsZero() || d.LastAttemptAt.Before(d.QueuedAt) {
				t.Errorf("dead letter %+v", d)
			}
			if got := hook.requests.Load(); got != int64(tc.attempts) {
				t.Errorf("target tried %d times, want %d", got, tc.attempts)
			}
			retried := float64(tc.attempts - 1)
			if retried == 0 {
				retried = -1 // never counted, so no series
			}
			for outcome, want := range map[string]float64{"failed": float64(tc.attempts), "retried": retried,
				"dead_lettered": 1, "delivered": -1} {
				labels := map[string]string{"bus": "default", "rule": "deletes", "target": "hook", "outcome": outcome}
				if got := value(t, reg, "auditbus_target_deliveries_total", labels); got != want {
					t.Errorf("deliveries{outcome=%q} = %v, want %v", outcome, got, want)
				}
			}
		})
	}
}

func TestRedriveToAnotherTargetDelivers(t *testing.T) {
	bad, good := newCounter(t, 400), newCounter(t, 200)
	src := hookRule(bad.URL, "") + fmt.Sprintf("  - id: spare\n    webhook: {url: %q, format: raw}\n", good.URL)
	// spare would get the event too; match it only after the redrive.
	e := startRouter(t, hookRule(bad.URL, ""))
	e.publish(t, "r1", "r2")
	e.settled(t)
	setRules(t, e.router, src)
	dl := e.dlq(t, dispatch.DLQFilter{})
	if len(dl) != 2 {
		t.Fatalf("dead letters %+v", dl)
	}
	res, err := e.router.Redrive(context.Background(), dispatch.RedriveRequest{IDs: []uint64{dl[0].ID}, ToTarget: "spare"})
	if err != nil || len(res.Redriven) != 1 {
		t.Fatalf("Redrive = %+v, %v", res, err)
	}
	waitFor(t, "redriven delivery", func() bool { return len(good.delivered()) == 1 })
	if left := e.dlq(t, dispatch.DLQFilter{}); len(left) != 1 || left[0].ID != dl[1].ID {
		t.Errorf("left in the DLQ %+v, want only the second", left)
	}
	if _, err := e.router.Redrive(context.Background(), dispatch.RedriveRequest{Rule: "deletes", ToTarget: "nope"}); !errors.Is(err, dispatch.ErrNoSuchTarget) {
		t.Errorf("redrive to a missing target = %v, want ErrNoSuchTarget", err)
	}
	if _, err := e.router.Redrive(context.Background(), dispatch.RedriveRequest{IDs: []uint64{9999}}); !errors.Is(err, dispatch.ErrNoSuchEntry) {
		t.Errorf("redrive of a missing id = %v, want ErrNoSuchEntry", err)
	}
}

func TestDLQPaging(t *testing.T) {
	hook := newCounter(t, 400)
	e := startRouter(t, hookRule(hook.URL, ""))
	e.publish(t, "p1", "p2", "p3", "p4", "p5")
	e.settled(t)
	var seen []uint64
	f := dispatch.DLQFilter{Bus: "default", Limit: 2}
	for range 5 {
		page, err := e.router.ListDLQ(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Entries {
			seen = append(seen, d.ID)
		}
		if page.Next == 0 {
			break
		}
		f.After = page.Next
	}
	if len(seen) != 5 {
		t.Errorf("paged through %v, want 5 entries", seen)
	}
	if other := e.dlq(t, dispatch.DLQFilter{Rule: "other"}); len(other) != 0 {
		t.Errorf("rule filter let through %+v", other)
	}
}

func TestRemovedTargetIsDrainedToTheDLQ(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			w.WriteHeader(503)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	e := startRouter(t, hookRule(hang.URL, ""), dispatch.WithConcurrency(1))
	e.publish(t, "x1", "x2", "x3")
	bustest.WaitSettled(t, e.ns.JS, bus.StreamName, dispatch.ConsumerName, 15*time.Second)
	setRules(t, e.router, strings.Replace(hookRule(newCounter(t, 200).URL, ""), "id: hook", "id: other", 1))
	close(release)
	e.settled(t)
	dl := e.dlq(t, dispatch.DLQFilter{Target: "hook"})
	if len(dl) != 3 {
		t.Fatalf("dead letters %+v, want the 3 queued for the removed target", dl)
	}
	for _, d := range dl {
		if d.Reason != "target removed" {
			t.Errorf("reason %q", d.Reason)
		}
	}
}

func TestStrandedDeliveriesAreDrained(t *testing.T) {
	hook := newCounter(t, 200)
	e := startRouter(t, hookRule(hook.URL, ""))
	m := nats.NewMsg(bus.DeliverySubject("default", "old-rule", "old-target"))
	m.Data = []byte(`{"specversion":"1.0","id":"s1","source":"x","type":"t"}`)
	if _, err := e.ns.JS.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	second := dispatch.New(e.ns.JS, sinks.Deps{NATS: e.ns.NC, Stdout: io.Discard, Guard: sinks.NewGuard(true, nil)},
		dispatch.WithShutdownGrace(200*time.Millisecond))
	setRules(t, second, hookRule(hook.URL, ""))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	e.settled(t)
	dl := e.dlq(t, dispatch.DLQFilter{Rule: "old-rule"})
	if len(dl) != 1 || dl[0].Reason != "target removed" || dl[0].Target != "old-target" {
		t.Errorf("dead letters %+v, want the stranded delivery", dl)
	}
}

func TestDeadLetterKeepsCommandStderr(t *testing.T) {
	src := "name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n" +
		"  - id: cmd\n    function: {urn: \"urn:fss:ap-guangzhou:123:function:default:f:latest\", command: [sh, -c, \"echo boom >&2; exit 3\"]}\n" +
		"    retry: {max_attempts: 2}\n"
	e := startRouter(t, src)
	e.publish(t, "c1")
	e.settled(t)
	dl := e.dlq(t, dispatch.DLQFilter{Target: "cmd"})
	if len(dl) != 1 || dl[0].Attempts != 2 || dl[0].LastStatus != 3 || !strings.Contains(dl[0].Stderr, "boom") {
		t.Errorf("dead letters %+v, want the command's exit code and stderr after 2 attempts", dl)
	}
}
