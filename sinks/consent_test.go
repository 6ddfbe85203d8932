package sinks_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditbus/auditbus/sinks"
)

// consentSink is the part of a webhook the router uses to seek consent.
type consentSink interface {
	ConsentMode() string
	RequestConsent(context.Context, *sinks.Subscription) (sinks.Consent, error)
}

var sub = &sinks.Subscription{Bus: "default", Rule: "r", Target: "t",
	SubscribeURL: "https://auditbus.example/v1/subscriptions/confirm?subscription_urn=urn:smn:auditbus:default:r:t&token=abc"}

// TestHandshake runs the CloudEvents validation request against endpoints
// answering each way: only an answer naming the origin (or "*") is
// consent, whatever its status.
func TestHandshake(t *testing.T) {
	// Where a redirect points: it would consent, had it been followed.
	var followed atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		w.Header().Set("WebHook-Allowed-Origin", "*")
	}))
	defer elsewhere.Close()
	for _, tc := range []struct {
		name    string
		status  int
		headers map[string]string
		granted bool
		rate    int
		failed  bool   // an error, to retry later
		detail  string // in Detail when not granted without error
	}{
		{name: "origin echoed", status: 200, headers: map[string]string{"WebHook-Allowed-Origin": "auditbus.example"}, granted: true},
		{name: "any origin, with a rate", status: 200, headers: map[string]string{"WebHook-Allowed-Origin": "*", "WebHook-Allowed-Rate": "120"}, granted: true, rate: 120},
		{name: "unlimited rate", status: 204, headers: map[string]string{"WebHook-Allowed-Origin": "AUDITBUS.example", "WebHook-Allowed-Rate": "*"}, granted: true},
		{name: "status alone is no consent", status: 200, detail: "has no WebHook-Allowed-Origin"},
		{name: "another origin", status: 200, headers: map[string]string{"WebHook-Allowed-Origin": "eventgrid.azure.net"}, detail: `does not name this router's origin "auditbus.example"`},
		{name: "unreadable rate", status: 200, headers: map[string]string{"WebHook-Allowed-Origin": "*", "WebHook-Allowed-Rate": "lots"}, detail: `"lots" is neither`},
		{name: "zero rate", status: 200, headers: map[string]string{"WebHook-Allowed-Origin": "*", "WebHook-Allowed-Rate": "0"}, detail: "neither"},
		{name: "refused", status: 405, headers: map[string]string{"WebHook-Allowed-Origin": "*"}, failed: true},
		{name: "redirect not followed", status: 307, headers: map[string]string{"Location": elsewhere.URL}, failed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *http.Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Clone(context.Background())
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			s := newSink(t, "webhook", `{url: "`+srv.URL+`", handshake: true, headers: {X-Team: ops}}`,
				sinks.Deps{Guard: loopback, Origin: "auditbus.example"}).(consentSink)
			if s.ConsentMode() != sinks.ConsentHandshake {
				t.Fatalf("mode %q", s.ConsentMode())
			}
			c, err := s.RequestConsent(context.Background(), &sinks.Subscription{SubscribeURL: sub.SubscribeURL, RequestRate: 60})
			if got == nil || got.Method != http.MethodOptions {
				t.Fatalf("request %+v, want OPTIONS", got)
			}
			for k, v := range map[string]string{"WebHook-Request-Origin": "auditbus.example",
				"WebHook-Request-Callback": sub.SubscribeURL, "WebHook-Request-Rate": "60", "X-Team": "ops"} {
				if got.Header.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, got.Header.Get(k), v)
				}
			}
			if (err != nil) != tc.failed {
				t.Fatalf("err %v, want failure %v", err, tc.failed)
			}
			if c.Granted != tc.granted || c.PerMinute != tc.rate {
				t.Errorf("consent %+v, want granted %v rate %d", c, tc.granted, tc.rate)
			}
			if !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", c.Detail, tc.detail)
			}
			if n := followed.Load(); n != 0 {
				t.Errorf("a redirect was followed (%d requests)", n)
			}
		})
	}
}

// TestHandshakeOriginOnDeliveries: after the handshake, every delivery
// names the origin it was granted for.
func TestHandshakeOriginOnDeliveries(t *testing.T) {
	srv, got := hook(t, http.StatusOK, nil)
	s := newSink(t, "webhook", `{url: "`+srv.URL+`", handshake: true}`, sinks.Deps{Guard: loopback, Origin: "auditbus.example"})
	if err := s.Deliver(context.Background(), delivery(t)); err != nil {
		t.Fatal(err)
	}
	if o := (<-got).header.Get("WebHook-Request-Origin"); o != "auditbus.example" {
		t.Errorf("WebHook-Request-Origin %q", o)
	}
}

// TestSubscriptionConfirmation: confirm: true POSTs a signed SMN
// SubscriptionConfirmation carrying subscribe_url; a 2xx is not consent.
func TestSubscriptionConfirmation(t *testing.T) {
	srv, got := hook(t, http.StatusOK, nil)
	s := newSink(t, "webhook", `{url: "`+srv.URL+`", format: smn, confirm: true, secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYiE="}`, signingDeps(t)).(consentSink)
	c, err := s.RequestConsent(context.Background(), sub)
	if err != nil || c.Granted {
		t.Fatalf("consent %+v, err %v: want pending, no error", c, err)
	}
	msg := <-got
	m, err := sinks.VerifySMN(msg.body, testSigner(t).Certificate())
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "SubscriptionConfirmation" || m.SubscribeURL != sub.SubscribeURL || m.TopicURN != "urn:smn:auditbus:default:r" || m.Subject != "" {
		t.Errorf("message %+v", m)
	}
	want := "message\n" + m.Message + "\nmessage_id\n" + m.MessageID + "\nsubscribe_url\n" + sub.SubscribeURL +
		"\ntimestamp\n" + m.Timestamp + "\ntopic_urn\n" + m.TopicURN + "\ntype\nSubscriptionConfirmation\n"
	if m.StringToSign() != want {
		t.Errorf("string to sign\n%q\nwant\n%q", m.StringToSign(), want)
	}
	if msg.header.Get("X-SMN-MESSAGE-TYPE") != "SubscriptionConfirmation" || msg.header.Get("X-SMN-SUBSCRIPTION-URN") != "urn:smn:auditbus:default:r:t" {
		t.Errorf("headers %v", msg.header)
	}
	if msg.header.Get("webhook-signature") == "" {
		t.Error("a target with a secret signs its confirmation too")
	}
	// Tampering with subscribe_url breaks the signature.
	var raw map[string]any
	_ = json.Unmarshal(msg.body, &raw)
	raw["subscribe_url"] = "https://evil.example/"
	tampered, _ := json.Marshal(raw)
	if _, err := sinks.VerifySMN(tampered, testSigner(t).Certificate()); !errors.Is(err, sinks.ErrSMNSignature) {
		t.Errorf("tampered subscribe_url: %v", err)
	}
}

// TestConfirmationRefused: a non-2xx answer to the confirmation is an
// error, retryable or not as a delivery's would be.
func TestConfirmationRefused(t *testing.T) {
	srv, _ := hook(t, http.StatusServiceUnavailable, nil)
	s := newSink(t, "webhook", `{url: "`+srv.URL+`", format: smn, confirm: true}`, signingDeps(t)).(consentSink)
	_, err := s.RequestConsent(context.Background(), sub)
	if err == nil || !sinks.Retryable(err) {
		t.Fatalf("err %v, want a retryable error", err)
	}
}

// TestConsentConfig: each mode needs its format, and not both at once.
func TestConsentConfig(t *testing.T) {
	for src, want := range map[string]string{
		`{url: "https://h.example", confirm: true}`:                               "confirm: true needs format smn",
		`{url: "https://h.example", format: raw, handshake: true}`:                "handshake: true needs format cloudevents",
		`{url: "https://h.example", format: smn, handshake: true}`:                "could use confirm: true",
		`{url: "https://h.example", format: smn, confirm: true, handshake: true}`: "choose one",
	} {
		err := sinks.Check("webhook", node(t, src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
	for _, ok := range []string{`{url: "https://h.example", format: smn, confirm: true}`,
		`{url: "https://h.example", format: cloudevents-structured, handshake: true}`, `{url: "https://h.example", handshake: true}`} {
		if err := sinks.Check("webhook", node(t, ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
