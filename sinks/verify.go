package sinks

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultVerifyTolerance is how far a webhook-timestamp may be from the
// receiver's clock, either way, when Verify is given no tolerance: the
// value Standard Webhooks libraries use.
const DefaultVerifyTolerance = 5 * time.Minute

// Errors from Verify; test them with errors.Is.
var (
	ErrMissingHeader   = errors.New("webhook signature header missing")
	ErrInvalidHeader   = errors.New("webhook signature header malformed")
	ErrTimestampTooOld = errors.New("webhook timestamp too old")
	ErrTimestampTooNew = errors.New("webhook timestamp too far in the future")
	ErrBadSignature    = errors.New("no webhook signature matches")
)

// Verify checks a signed webhook request for receivers written in Go: the
// webhook-id, webhook-timestamp and webhook-signature headers are present
// (else ErrMissingHeader), the timestamp is an integer (else
// ErrInvalidHeader) within tolerance of now (else ErrTimestampTooOld or
// ErrTimestampTooNew; tolerance <= 0 means DefaultVerifyTolerance), and one
// "v1," signature of the header's space-separated list is the HMAC-SHA256
// of "<id>.<timestamp>.<body>" keyed with ParseSecret(secret) (else
// ErrBadSignature). A secret ParseSecret refuses is ErrInvalidSecret.
//
// body must be the request body exactly as received, before any JSON
// decoding. Signatures are compared in constant time. Deduplicating on
// webhook-id is the caller's job.
func Verify(secret string, header http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	id, ts, sigs, err := signatureHeaders(header)
	if err != nil {
		return err
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not unix seconds", ErrInvalidHeader, HeaderWebhookTimestamp, ts)
	}
	if err := checkTimestamp(time.Unix(unix, 0), tolerance, now); err != nil {
		return err
	}
	want := hmacSum(key, id, unix, body)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue // another scheme (v1a) or version: not ours to judge
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}

func signatureHeaders(h http.Header) (id, ts, sigs string, err error) {
	id, ts, sigs = h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	for _, p := range [][2]string{{HeaderWebhookID, id}, {HeaderWebhookTimestamp, ts}, {HeaderWebhookSignature, sigs}} {
		if p[1] == "" {
			return "", "", "", fmt.Errorf("%w: %s", ErrMissingHeader, p[0])
		}
	}
	return id, ts, sigs, nil
}

func checkTimestamp(ts time.Time, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultVerifyTolerance
	}
	switch {
	case now.Sub(ts) > tolerance:
		return fmt.Errorf("%w: %s is %s before now (tolerance %s)", ErrTimestampTooOld, ts.UTC().Format(time.RFC3339), now.Sub(ts).Round(time.Second), tolerance)
	case ts.Sub(now) > tolerance:
		return fmt.Errorf("%w: %s is %s after now (tolerance %s)", ErrTimestampTooNew, ts.UTC().Format(time.RFC3339), ts.Sub(now).Round(time.Second), tolerance)
	}
	return nil
}
