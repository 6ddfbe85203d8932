package sinks_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/sinks"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// compareGolden fails when got differs from the file at path, or rewrites
// the file under -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden file (run with -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// testSigner signs with the fixed test pair in testdata/signing (RSA 2048,
// self-signed SHA256-RSA), so signatures, which PKCS#1 v1.5 makes
// deterministic, can be pinned in golden files.
func testSigner(t *testing.T) *sinks.Signer {
	t.Helper()
	certPEM, err1 := os.ReadFile("testdata/signing/cert.pem")
	keyPEM, err2 := os.ReadFile("testdata/signing/key.pem")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	s, err := sinks.NewSigner(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signingDeps(t *testing.T) sinks.Deps {
	return sinks.Deps{Signer: testSigner(t), PublicURL: "https://auditbus.example", Guard: loopback}
}

// smnDelivery delivers d through an smn webhook at the fixed clock.
func smnDelivery(t *testing.T, d *sinks.Delivery) captured {
	t.Helper()
	srv, got := hook(t, http.StatusOK, nil)
	s := newSink(t, "webhook", `{url: "`+srv.URL+`", format: smn}`, signingDeps(t))
	sinks.SetClock(s, func() time.Time { return clock })
	if err := s.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return <-got
}

// TestSMNMessage pins the whole body, signature included, and the headers.
func TestSMNMessage(t *testing.T) {
	c := smnDelivery(t, delivery(t))
	compareGolden(t, "testdata/smn_notification.golden.json", string(c.body)+"\n")
	var m sinks.SMNMessage
	if err := json.Unmarshal(c.body, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"X-Smn-Message-Type":     "Notification",
		"X-Smn-Message-Id":       m.MessageID,
		"X-Smn-Topic-Urn":        "urn:smn:auditbus:default:r",
		"X-Smn-Subscription-Urn": "urn:smn:auditbus:default:r:t",
		"Content-Type":           "application/json; charset=utf-8",
	}
	for k, v := range want {
		if got := c.header.Get(k); got != v || v == "" {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
}

// TestSMNStringToSign pins the canonical string of the golden message and
// checks that an empty subject is left out, key and value.
func TestSMNStringToSign(t *testing.T) {
	var m sinks.SMNMessage
	if err := json.Unmarshal(smnDelivery(t, delivery(t)).body, &m); err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "testdata/smn_string_to_sign.golden", m.StringToSign())

	noSubject := sinks.SMNMessage{Type: "Notification", MessageID: "id", TopicURN: "urn", Message: "m\nx", Timestamp: "ts"}
	if got, want := noSubject.StringToSign(), "message\nm\nx\nmessage_id\nid\ntimestamp\nts\ntopic_urn\nurn\ntype\nNotification\n"; got != want {
		t.Errorf("without subject: %q, want %q", got, want)
	}
}

// receiverStringToSign is the documented receiver procedure, written here
// without the package's help: the signed keys that are present and not
// empty, sorted by name, each as "key\nvalue\n".
func receiverStringToSign(t *testing.T, body []byte) (string, []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	keys := []string{"type", "topic_urn", "timestamp", "subject", "message_id", "message"}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		if v, _ := m[k].(string); v != "" || k != "subject" {
			fmt.Fprintf(&b, "%s\n%s\n", k, v)
		}
	}
	sig, err := base64.StdEncoding.DecodeString(m["signature"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), sig
}

func verifyAsReceiver(t *testing.T, cert *x509.Certificate, body []byte) error {
	s, sig := receiverStringToSign(t, body)
	sum := sha256.Sum256([]byte(s))
	return rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig)
}

func TestSMNSignatureVerifiesAsDocumented(t *testing.T) {
	cert := testSigner(t).Certificate()
	body := smnDelivery(t, delivery(t)).body
	if err := verifyAsReceiver(t, cert, body); err != nil {
		t.Errorf("untouched message: %v", err)
	}
	if _, err := sinks.VerifySMN(body, cert); err != nil {
		t.Errorf("VerifySMN, untouched message: %v", err)
	}
	tampered := []byte(strings.Replace(string(body), "DeleteCluster", "CreateCluster", 1))
	if string(tampered) == string(body) {
		t.Fatal("nothing to tamper with")
	}
	if err := verifyAsReceiver(t, cert, tampered); err == nil {
		t.Error("tampered message verifies")
	}
	if _, err := sinks.VerifySMN(tampered, cert); !errors.Is(err, sinks.ErrSMNSignature) {
		t.Errorf("VerifySMN, tampered message: %v", err)
	}
	if _, err := sinks.VerifySMN(body, otherCert(t)); !errors.Is(err, sinks.ErrSMNSignature) {
		t.Errorf("VerifySMN, another certificate: %v", err)
	}
}

func otherCert(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "other"},
		NotBefore: clock, NotAfter: clock.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestSMNMessageContent: the event as structured JSON, or the input payload
// (text as it is, anything else as JSON), always as a string.
func TestSMNMessageContent(t *testing.T) {
	tests := []struct {
		payload any
		check   func(string) bool
	}{
		{nil, func(s string) bool {
			var e map[string]any
			return json.Unmarshal([]byte(s), &e) == nil && e["id"] == "evt-1" && e["specversion"] == "1.0"
		}},
		{"cluster cls-abc deleted", func(s string) bool { return s == "cluster cls-abc deleted" }},
		{map[string]any{"cluster": "cls-abc"}, func(s string) bool { return s == `{"cluster":"cls-abc"}` }},
	}
	for _, tt := range tests {
		d := delivery(t)
		d.Payload = tt.payload
		body := smnDelivery(t, d).body
		var m sinks.SMNMessage
		if err := json.Unmarshal(body, &m); err != nil || !tt.check(m.Message) {
			t.Errorf("payload %#v: message %q (%v)", tt.payload, m.Message, err)
		}
		if err := verifyAsReceiver(t, testSigner(t).Certificate(), body); err != nil {
			t.Errorf("payload %#v: %v", tt.payload, err)
		}
	}
}

// TestSMNWithoutSigner: `rules validate` accepts an smn target (it has no
// signer), and a router that forgot the signer fails clearly and for good.
func TestSMNWithoutSigner(t *testing.T) {
	if err := sinks.Check("webhook", node(t, `{url: "https://ops.example/hook", format: smn}`)); err != nil {
		t.Fatalf("Check: %v", err)
	}
	s := newSink(t, "webhook", `{url: "https://ops.example/hook", format: smn}`, sinks.Deps{})
	if err := s.Connect(context.Background()); err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Errorf("Connect = %v", err)
	}
	err := s.Deliver(context.Background(), delivery(t))
	if err == nil || sinks.Retryable(err) || !strings.Contains(err.Error(), "no signing key") {
		t.Errorf("Deliver = %v, want a permanent error naming the signing key", err)
	}
}
