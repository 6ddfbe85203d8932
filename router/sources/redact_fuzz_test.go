package sources

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/sources/redacttest"
)

// plantings put a secret where the redactor must find it whatever else
// the record holds.
var plantings = []func(secret string) any{
	func(s string) any { return s }, // under the key zz_password
	func(s string) any { return []any{map[string]any{"name": "API_TOKEN", "value": s}} },
	func(s string) any { return "https://u:" + s + "@h.example/" },
	func(s string) any { return "Authorization: Bearer " + s },
	func(s string) any { return "a=1&client_secret=" + s },
	func(s string) any { return "-----BEGIN PRIVATE KEY-----\n" + s + "\n-----END PRIVATE KEY-----" },
}

var fuzzSecret = regexp.MustCompile(`^[A-Za-z0-9]{8,40}$`)

// FuzzRedactor: the redactor never panics, answers valid JSON, is
// idempotent (redacting its output changes nothing), and a secret planted
// into any JSON object never survives.
func FuzzRedactor(f *testing.F) {
	corpus, err := redacttest.Corpus()
	if err != nil {
		f.Fatal(err)
	}
	for i, p := range corpus {
		f.Add([]byte(p.CloudAudit(i)), "Pl4ntedSecret01", uint8(i))
		f.Add([]byte(p.K8s(i)), "hunter2hunter2", uint8(i))
	}
	f.Add([]byte(`{"a":"password: x\nb: [1"}`), "abcdefgh1", uint8(0))
	r := NewRedactor(DefaultRedactKeys)
	f.Fuzz(func(t *testing.T, doc []byte, secret string, where uint8) {
		out, err := r.JSON(doc)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not JSON: %q", out)
		}
		again, err := r.JSON(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("redacting twice differs (%v):\nonce  %s\ntwice %s", err, out, again)
		}
		planted, ok := plant(doc, secret, where)
		if !ok {
			return
		}
		got, err := r.JSON(planted)
		if err != nil {
			t.Fatalf("planted record refused: %v", err)
		}
		if bytes.Contains(got, []byte(secret)) {
			t.Fatalf("planted secret %q survived:\n%s", secret, got)
		}
	})
}

// plant adds secret to doc, a JSON object, under the key zz_password in
// one of the plantings; ok is false when doc or secret do not fit.
func plant(doc []byte, secret string, where uint8) ([]byte, bool) {
	if !fuzzSecret.MatchString(secret) || bytes.Contains(doc, []byte(secret)) || strings.Contains(Redacted+"zz_password API_TOKEN https h.example Authorization Bearer client_secret BEGIN END PRIVATE KEY", secret) {
		return nil, false
	}
	v, err := decodeStrict(doc)
	m, isObject := v.(map[string]any)
	if err != nil || !isObject {
		return nil, false
	}
	m["zz_password"] = plantings[int(where)%len(plantings)](secret)
	b, err := encode(m)
	return b, err == nil
}
