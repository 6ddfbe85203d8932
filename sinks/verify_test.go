package sinks_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/auditbus/auditbus/sinks"
)

// signed returns headers signing body with secret at ts.
func signed(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	sig, err := sinks.SignHMAC(secret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{
		"Webhook-Id":        {id},
		"Webhook-Timestamp": {strconv.FormatInt(ts.Unix(), 10)},
		"Webhook-Signature": {sig},
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"evt-1"}`)
	good := signed(t, testSecret, "msg_1", clock, body)
	with := func(name, value string) http.Header {
		h := good.Clone()
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
		return h
	}
	otherSecret := "another-secret-of-at-least-24-bytes"
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		{"valid", testSecret, good, string(body), clock, nil},
		{"valid at the edge of the tolerance", testSecret, good, string(body), clock.Add(sinks.DefaultVerifyTolerance), nil},
		{"tampered body", testSecret, good, `{"id":"evt-2"}`, clock, sinks.ErrBadSignature},
		{"wrong secret", otherSecret, good, string(body), clock, sinks.ErrBadSignature},
		{"timestamp too old", testSecret, good, string(body), clock.Add(sinks.DefaultVerifyTolerance + time.Second), sinks.ErrTimestampTooOld},
		{"timestamp too new", testSecret, good, string(body), clock.Add(-sinks.DefaultVerifyTolerance - time.Second), sinks.ErrTimestampTooNew},
		{"id changed", testSecret, with("webhook-id", "msg_2"), string(body), clock, sinks.ErrBadSignature},
		{"missing id", testSecret, with("webhook-id", ""), string(body), clock, sinks.ErrMissingHeader},
		{"missing timestamp", testSecret, with("webhook-timestamp", ""), string(body), clock, sinks.ErrMissingHeader},
		{"missing signature", testSecret, with("webhook-signature", ""), string(body), clock, sinks.ErrMissingHeader},
		{"timestamp not a number", testSecret, with("webhook-timestamp", "yesterday"), string(body), clock, sinks.ErrInvalidHeader},
		{"one of several signatures matches", testSecret, with("webhook-signature", "v1,AAAA v1a,BBBB "+good.Get("webhook-signature")), string(body), clock, nil},
		{"only other schemes", testSecret, with("webhook-signature", "v1a,"+good.Get("webhook-signature")[3:]), string(body), clock, sinks.ErrBadSignature},
		{"unusable secret", "short", good, string(body), clock, sinks.ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sinks.Verify(tt.secret, tt.header, []byte(tt.body), 0, tt.now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	body := []byte("x")
	h := signed(t, testSecret, "msg_1", clock, body)
	if err := sinks.Verify(testSecret, h, body, time.Hour, clock.Add(59*time.Minute)); err != nil {
		t.Errorf("within a 1h tolerance: %v", err)
	}
	if err := sinks.Verify(testSecret, h, body, time.Minute, clock.Add(2*time.Minute)); !errors.Is(err, sinks.ErrTimestampTooOld) {
		t.Errorf("outside a 1m tolerance: %v", err)
	}
}
