package dispatch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
)

// TestUnsubscribeStopsDeliveriesWaitingForTheRate: deliveries that passed
// the held check and then waited for the rate limiter (here the endpoint's
// WebHook-Allowed-Rate) are held, not sent, when the endpoint unsubscribed
// meanwhile: the check is repeated after the wait.
func TestUnsubscribeStopsDeliveriesWaitingForTheRate(t *testing.T) {
	var (
		mu       sync.Mutex
		callback string
		router   atomic.Pointer[dispatch.Router]
		after    atomic.Int64 // deliveries that arrived after the unsubscribe returned
		first    atomic.Bool
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			mu.Lock()
			callback = r.Header.Get("WebHook-Request-Callback")
			mu.Unlock()
			w.Header().Set("WebHook-Allowed-Origin", "*")
			w.Header().Set("WebHook-Allowed-Rate", "60") // one a second
			return
		}
		if !first.CompareAndSwap(false, true) {
			after.Add(1)
			return
		}
		// The endpoint withdraws its consent while taking its first delivery.
		mu.Lock()
		u, _ := url.Parse(callback)
		mu.Unlock()
		q := u.Query()
		if _, err := router.Load().Unsubscribe(context.Background(), q.Get("subscription_urn"), q.Get("token")); err != nil {
			t.Errorf("unsubscribe: %v", err)
		}
	}))
	t.Cleanup(hook.Close)
	ns := bustest.Start(t, "")
	e := startOn(t, ns, handshakeDeps(ns), handshakeRule(hook.URL), dispatch.WithConcurrency(4))
	router.Store(e.router)
	e.publish(t, "w1", "w2", "w3", "w4")
	waitFor(t, "unsubscribed", func() bool {
		s := e.router.TargetState("default", "deletes", "hook").Subscription
		return s != nil && s.Status == dispatch.SubscriptionUnsubscribed
	})
	time.Sleep(4 * time.Second) // the limiter lets one through a second
	if n := after.Load(); n != 0 {
		t.Errorf("%d deliveries reached the endpoint after it unsubscribed (they were waiting for the rate limiter)", n)
	}
}

// TestReplicasWithDifferentURLsDoNotFlood: two replicas whose rules
// disagree on a target's URL (a rolling rule change) see each other's round
// as for another URL; they take turns at most once a lease instead of
// starting a new round, and a request, on every pause poll.
func TestReplicasWithDifferentURLsDoNotFlood(t *testing.T) {
	noConsent := func(int64) (int, http.Header) { return http.StatusOK, nil }
	hookA, hookB := newHandshaker(t, noConsent), newHandshaker(t, noConsent)
	ns := bustest.Start(t, "")
	startOn(t, ns, handshakeDeps(ns), handshakeRule(hookA.URL))
	startOn(t, ns, handshakeDeps(ns), handshakeRule(hookB.URL))
	time.Sleep(3 * time.Second)
	a, b := hookA.options.Load(), hookB.options.Load()
	t.Logf("in 3s: %d OPTIONS to A, %d to B", a, b)
	if a > 2 || b > 2 {
		t.Errorf("consent requests are not paced when replicas disagree on the URL: %d to A, %d to B in 3s (an answer without consent is repeated hourly)", a, b)
	}
}

// TestGoneAsksConsentAgain: after a 410 the endpoint's consent is void:
// enabling the target asks whoever answers at the URL now.
func TestGoneAsksConsentAgain(t *testing.T) {
	var gone atomic.Bool
	var options, delivered atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			options.Add(1)
			w.Header().Set("WebHook-Allowed-Origin", "*")
			return
		}
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
			return
		}
		delivered.Add(1)
	}))
	t.Cleanup(hook.Close)
	ns := bustest.Start(t, "")
	e := startOn(t, ns, handshakeDeps(ns), handshakeRule(hook.URL), dispatch.WithConcurrency(1))
	e.publish(t, "g1")
	e.settled(t)
	gone.Store(true)
	e.publish(t, "g2")
	waitFor(t, "disabled", func() bool { return e.router.TargetState("default", "deletes", "hook").Disabled })
	gone.Store(false) // the URL answers again: a new owner, say
	if err := e.router.EnableTarget(context.Background(), "default", "deletes", "hook"); err != nil {
		t.Fatal(err)
	}
	e.settled(t)
	if n := options.Load(); n != 2 {
		t.Errorf("%d handshakes; want a new one after the endpoint said 410 Gone (got deliveries %d)", n, delivered.Load())
	}
}
