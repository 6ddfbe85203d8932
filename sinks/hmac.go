package sinks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks headers, set on every webhook request of a target with
// a secret (https://www.standardwebhooks.com, symmetric scheme "v1").
const (
	HeaderWebhookID        = "webhook-id"        // the same on every retry of one delivery
	HeaderWebhookTimestamp = "webhook-timestamp" // unix seconds of this attempt
	HeaderWebhookSignature = "webhook-signature" // "v1,<base64 HMAC-SHA256>", space-separated if several
)

// SecretPrefix marks a secret serialized as Standard Webhooks does:
// "whsec_" followed by the base64 (standard, padded) of the key bytes.
const SecretPrefix = "whsec_"

// MinSecretBytes is the shortest HMAC key accepted: Standard Webhooks asks
// for at least 24 random bytes (192 bits).
const MinSecretBytes = 24

// ErrInvalidSecret is returned for a secret that cannot be used: a
// "whsec_" secret that is not base64, or a key shorter than MinSecretBytes.
var ErrInvalidSecret = errors.New("invalid webhook secret")

// ParseSecret returns the HMAC key of a webhook secret. A secret starting
// with "whsec_" is decoded from base64, as Standard Webhooks serializes
// secrets; any other string is used as it is (its UTF-8 bytes), so a plain
// random string from a secret store works too. Either way the key must be
// at least MinSecretBytes long. Errors wrap ErrInvalidSecret and never
// contain the secret.
func ParseSecret(secret string) ([]byte, error) {
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, SecretPrefix); ok {
		var err error
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return nil, fmt.Errorf("%w: %q prefix but the rest is not base64 (%v)", ErrInvalidSecret, SecretPrefix, err)
		}
	}
	if len(key) < MinSecretBytes {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d random bytes", ErrInvalidSecret, len(key), MinSecretBytes)
	}
	return key, nil
}

// SignHMAC returns the webhook-signature value for one request: "v1,"
// followed by the base64 HMAC-SHA256, keyed with ParseSecret(secret), of
// "<msgID>.<unix seconds>.<body>".
func SignHMAC(secret, msgID string, timestamp time.Time, body []byte) (string, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return "", err
	}
	return signHMAC(key, msgID, timestamp.Unix(), body), nil
}

func signHMAC(key []byte, msgID string, unix int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(hmacSum(key, msgID, unix, body))
}

func hmacSum(key []byte, msgID string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, unix, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// messageID identifies one delivery: one event (bus, source, id) to one
// target of one rule. It is derived, not random, so that every retry and
// every redelivery of the delivery carries the same id and receivers can
// deduplicate on it: the hex of the first 16 bytes of SHA-256 over the five
// values, NUL-separated (32 hex digits, the shape of an SMN message_id).
func messageID(d *Delivery) string {
	h := sha256.New()
	for i, v := range []string{d.Bus, d.Event.Source(), d.Event.ID(), d.Rule, d.Target} {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(v))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// webhookID is the webhook-id of a delivery: "msg_" and its messageID.
func webhookID(d *Delivery) string { return "msg_" + messageID(d) }
