package dispatch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/sinks"
)

// handshaker answers the OPTIONS validation request with answer(n) for
// the n-th (from 1), and counts the deliveries it accepts.
type handshaker struct {
	*httptest.Server
	options   atomic.Int64
	delivered atomic.Int64
	mu        sync.Mutex
	origins   []string
}

func newHandshaker(t *testing.T, answer func(n int64) (int, http.Header)) *handshaker {
	h := &handshaker{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions {
			h.delivered.Add(1)
			return
		}
		h.mu.Lock()
		h.origins = append(h.origins, r.Header.Get("WebHook-Request-Origin"))
		h.mu.Unlock()
		status, header := answer(h.options.Add(1))
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func handshakeDeps(ns *bustest.Server) sinks.Deps {
	return sinks.Deps{NATS: ns.NC, Stdout: io.Discard, Guard: sinks.NewGuard(true, nil),
		PublicURL: "https://auditbus.example", Origin: "auditbus.example"}
}

func handshakeRule(url string) string {
	return fmt.Sprintf("name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n  - id: hook\n    webhook: {url: %q, handshake: true}\n", url)
}

// TestConsentIsAskedOnceAcrossReplicas: two replicas share one target;
// the state bucket's compare-and-set lets exactly one of them send the
// handshake, and an answer without consent is not repeated at once.
func TestConsentIsAskedOnceAcrossReplicas(t *testing.T) {
	hook := newHandshaker(t, func(int64) (int, http.Header) {
		time.Sleep(100 * time.Millisecond) // both replicas poll while the first request is in flight
		return http.StatusOK, nil
	})
	ns := bustest.Start(t, "")
	a := startOn(t, ns, handshakeDeps(ns), handshakeRule(hook.URL))
	b := startOn(t, ns, handshakeDeps(ns), handshakeRule(hook.URL))
	a.publish(t, "c1", "c2")
	waitFor(t, "the consent request recorded", func() bool {
		s := b.router.TargetState("default", "deletes", "hook").Subscription
		return s != nil && s.LastError != ""
	})
	time.Sleep(time.Second) // four pause polls of each replica
	if n := hook.options.Load(); n != 1 {
		t.Errorf("%d OPTIONS requests from two replicas, want 1", n)
	}
	if n := hook.delivered.Load(); n != 0 {
		t.Errorf("%d deliveries without consent", n)
	}
	st := a.router.TargetState("default", "deletes", "hook")
	if st.Subscription.Status != dispatch.SubscriptionPending || st.Subscription.Requests != 1 {
		t.Errorf("state %+v", st.Subscription)
	}
}

// TestFailedConsentRequestIsRetried: a 503 to the handshake is retried
// with backoff; the consent that follows releases the held deliveries,
// which carry the origin.
func TestFailedConsentRequestIsRetried(t *testing.T) {
	hook := newHandshaker(t, func(n int64) (int, http.Header) {
		if n < 3 {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, http.Header{"WebHook-Allowed-Origin": {"auditbus.example"}}
	})
	ns := bustest.Start(t, "")
	e := startOn(t, ns, handshakeDeps(ns), handshakeRule(hook.URL))
	e.publish(t, "r1", "r2", "r3")
	e.settled(t)
	if n, d := hook.options.Load(), hook.delivered.Load(); n != 3 || d != 3 {
		t.Errorf("%d OPTIONS, %d delivered; want 3 and 3", n, d)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	for _, o := range hook.origins {
		if o != "auditbus.example" {
			t.Errorf("WebHook-Request-Origin %q", o)
		}
	}
}

// TestEnableAsksAgain: enabling a target that waits for consent sends
// the request again at once, in the same round (same token).
func TestEnableAsksAgain(t *testing.T) {
	hook := newHandshaker(t, func(int64) (int, http.Header) { return http.StatusOK, nil })
	ns := bustest.Start(t, "")
	e := startOn(t, ns, handshakeDeps(ns), handshakeRule(hook.URL))
	e.publish(t, "e1")
	waitFor(t, "first request", func() bool { return hook.options.Load() == 1 })
	if err := e.router.EnableTarget(context.Background(), "default", "deletes", "hook"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "second request", func() bool { return hook.options.Load() == 2 })
	waitFor(t, "second request recorded", func() bool {
		s := e.router.TargetState("default", "deletes", "hook").Subscription
		return s != nil && s.Requests == 2 && s.LastError != ""
	})
}

// TestConsentFollowsTheURL: consent given by one URL does not carry over
// when the rule points the target elsewhere.
func TestConsentFollowsTheURL(t *testing.T) {
	grant := func(int64) (int, http.Header) {
		return http.StatusOK, http.Header{"WebHook-Allowed-Origin": {"*"}}
	}
	first, second := newHandshaker(t, grant), newHandshaker(t, func(int64) (int, http.Header) { return http.StatusOK, nil })
	ns := bustest.Start(t, "")
	e := startOn(t, ns, handshakeDeps(ns), handshakeRule(first.URL))
	e.publish(t, "u1")
	e.settled(t)
	setRules(t, e.router, handshakeRule(second.URL))
	e.publish(t, "u2")
	waitFor(t, "the new URL asked", func() bool { return second.options.Load() == 1 })
	waitFor(t, "u2 held", func() bool {
		s := e.router.TargetState("default", "deletes", "hook").Subscription
		return s != nil && s.Endpoint == second.URL && s.Status == dispatch.SubscriptionPending && s.LastError != ""
	})
	if first.delivered.Load() != 1 || second.delivered.Load() != 0 {
		t.Errorf("delivered %d to the first URL, %d to the second; want 1 and 0", first.delivered.Load(), second.delivered.Load())
	}
}
