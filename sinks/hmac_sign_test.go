package sinks_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/auditbus/auditbus/sinks"
)

// testSecret is a Standard Webhooks secret: "whsec_" and the base64 of 32
// bytes.
var testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// clock is a fixed time for signatures.
var clock = time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)

func TestParseSecret(t *testing.T) {
	long := "plain-secret-of-more-than-24-bytes"
	tests := []struct {
		secret string
		want   []byte
		err    error
	}{
		{testSecret, []byte("0123456789abcdef0123456789abcdef"), nil},
		{long, []byte(long), nil},                      // used as it is
		{"whsec_" + long, nil, sinks.ErrInvalidSecret}, // prefix, but not base64
		{"short", nil, sinks.ErrInvalidSecret},         // below 24 bytes
		{"whsec_" + base64.StdEncoding.EncodeToString([]byte("16 bytes of key!")), nil, sinks.ErrInvalidSecret}, // decodes short
		{"", nil, sinks.ErrInvalidSecret},
	}
	for _, tt := range tests {
		got, err := sinks.ParseSecret(tt.secret)
		if !errors.Is(err, tt.err) || !bytes.Equal(got, tt.want) {
			t.Errorf("ParseSecret(%q) = %q, %v; want %q, %v", tt.secret, got, err, tt.want, tt.err)
		}
	}
}

// signedHeaders delivers d through a webhook of the given format with
// testSecret at time now and returns what the endpoint received.
func signedDelivery(t *testing.T, format string, d *sinks.Delivery, now time.Time) captured {
	t.Helper()
	srv, got := hook(t, http.StatusOK, nil)
	s := newSink(t, "webhook", fmt.Sprintf(`{url: %q, format: %s, secret: %q}`, srv.URL, format, testSecret), signingDeps(t))
	sinks.SetClock(s, func() time.Time { return now })
	if err := s.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return <-got
}

// TestWebhookSignsEveryFormat checks the Standard Webhooks headers of each
// format against an HMAC computed here from the spec, and that Verify
// accepts them.
func TestWebhookSignsEveryFormat(t *testing.T) {
	key, _ := sinks.ParseSecret(testSecret)
	idShape := regexp.MustCompile(`^msg_[0-9a-f]{32}$`)
	for _, format := range []string{"cloudevents", "cloudevents-structured", "raw", "smn"} {
		t.Run(format, func(t *testing.T) {
			c := signedDelivery(t, format, delivery(t), clock)
			id, ts := c.header.Get("webhook-id"), c.header.Get("webhook-timestamp")
			if !idShape.MatchString(id) || ts != strconv.FormatInt(clock.Unix(), 10) {
				t.Fatalf("webhook-id %q, webhook-timestamp %q", id, ts)
			}
			m := hmac.New(sha256.New, key)
			fmt.Fprintf(m, "%s.%s.%s", id, ts, c.body)
			if want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)); c.header.Get("webhook-signature") != want {
				t.Errorf("webhook-signature %q, want %q", c.header.Get("webhook-signature"), want)
			}
			if err := sinks.Verify(testSecret, c.header, c.body, 0, clock); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// TestWebhookIDIsStablePerDelivery: a retry (another attempt, later) keeps
// the id; another target or event gets another one.
func TestWebhookIDIsStablePerDelivery(t *testing.T) {
	first := signedDelivery(t, "raw", delivery(t), clock).header.Get("webhook-id")

	retry := delivery(t)
	retry.Attempt = 3
	if got := signedDelivery(t, "raw", retry, clock.Add(time.Hour)).header.Get("webhook-id"); got != first {
		t.Errorf("retry has webhook-id %q, first attempt %q", got, first)
	}
	other := delivery(t)
	other.Target = "another"
	if got := signedDelivery(t, "raw", other, clock).header.Get("webhook-id"); got == first {
		t.Errorf("another target has the same webhook-id %q", got)
	}
	otherEvent := delivery(t)
	otherEvent.Event.SetID("evt-2")
	if got := signedDelivery(t, "raw", otherEvent, clock).header.Get("webhook-id"); got == first {
		t.Errorf("another event has the same webhook-id %q", got)
	}
}

func TestWebhookWithoutSecretIsUnsigned(t *testing.T) {
	srv, got := hook(t, http.StatusOK, nil)
	if err := newSink(t, "webhook", `{url: "`+srv.URL+`"}`, sinks.Deps{Guard: loopback}).Deliver(context.Background(), delivery(t)); err != nil {
		t.Fatal(err)
	}
	c := <-got
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if v := c.header.Get(h); v != "" {
			t.Errorf("%s: %q on an unsigned target", h, v)
		}
	}
}

// TestSignatureHeadersWinOverConfiguredHeaders: a headers setting cannot
// replace the signature.
func TestSignatureHeadersWinOverConfiguredHeaders(t *testing.T) {
	srv, got := hook(t, http.StatusOK, nil)
	s := newSink(t, "webhook", fmt.Sprintf(`{url: %q, secret: %q, headers: {webhook-signature: forged, webhook-id: x}}`, srv.URL, testSecret), sinks.Deps{Guard: loopback})
	if err := s.Deliver(context.Background(), delivery(t)); err != nil {
		t.Fatal(err)
	}
	c := <-got
	if err := sinks.Verify(testSecret, c.header, c.body, 0, time.Now()); err != nil {
		t.Errorf("Verify: %v (headers %v)", err, c.header)
	}
}
