package router_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/internal/doccheck"
	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/sinks"
)

// smnSecret is a Standard Webhooks secret for the smn target's HMAC headers.
var smnSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("smn-test-key-of-thirty-two-bytes"))

// smnRule sends successful TKE DeleteCluster calls to url in the smn
// format, signed with the secret from AUDITBUS_TEST_SMN_SECRET when secret
// is set.
func smnRule(url string, secret bool) string {
	cfg := fmt.Sprintf(`{url: %q, format: smn}`, url)
	if secret {
		cfg = fmt.Sprintf(`{url: %q, format: smn, secret: "${AUDITBUS_TEST_SMN_SECRET}"}`, url)
	}
	return `name: tke-cluster-deleted
pattern:
  type: ["tke:CloudEvent:ApiCall"]
  data:
    eventName: ["DeleteCluster"]
targets:
  - id: ops-hook
    webhook: ` + cfg + "\n"
}

// firstDelivery waits for the webhook's first accepted request.
func firstDelivery(t *testing.T, hook *webhook) received {
	t.Helper()
	waitFor(t, "a delivery", func() (bool, string) {
		hook.mu.Lock()
		defer hook.mu.Unlock()
		return len(hook.got) > 0, fmt.Sprintf("%d deliveries", len(hook.got))
	})
	hook.mu.Lock()
	defer hook.mu.Unlock()
	return hook.got[0]
}

// fetchCert gets the signing certificate as a receiver does.
func fetchCert(t *testing.T, url string) ([]byte, *x509.Certificate) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-pem-file" {
		t.Fatalf("GET %s: %d %s %q", url, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("GET %s: not a PEM certificate: %q", url, b)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return b, cert
}

// verifyAsReceiver is the procedure README documents: the signed keys of
// the received JSON (for a Notification subject, only when not empty; for
// a SubscriptionConfirmation subscribe_url) sorted by name, each as
// "key\nvalue\n", verified SHA256withRSA against the certificate's key.
func verifyAsReceiver(t *testing.T, cert *x509.Certificate, body []byte) error {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	third := "subject"
	if m["type"] != "Notification" {
		third = "subscribe_url"
	}
	var s strings.Builder
	for _, k := range []string{"message", "message_id", third, "timestamp", "topic_urn", "type"} {
		if v, _ := m[k].(string); k != "subject" || v != "" {
			fmt.Fprintf(&s, "%s\n%s\n", k, v)
		}
	}
	sig, err := base64.StdEncoding.DecodeString(m["signature"].(string))
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(s.String()))
	return rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig)
}

// TestSMNDeliveryVerifiesAsDocumented runs a whole router with an smn
// target that also has a secret, and checks the delivery the way README
// tells receivers to: the certificate from GET /v1/signing-cert, the
// signed string rebuilt from the JSON, and the HMAC headers.
func TestSMNDeliveryVerifiesAsDocumented(t *testing.T) {
	t.Setenv("AUDITBUS_TEST_SMN_SECRET", smnSecret)
	hook := newWebhook(t, nil)
	s := start(t, t.TempDir(), nil, writeRules(t, smnRule(hook.URL, true)))
	sendEvent(t, s, "smn-1", "DeleteCluster")
	r := firstDelivery(t, hook)

	base := "http://" + s.Addr()
	_, cert := fetchCert(t, base+sinks.SigningCertPath)
	var m sinks.SMNMessage
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(m.Message), &e); err != nil || e["id"] != "smn-1" {
		t.Errorf("message %q is not the event (%v)", m.Message, err)
	}
	for name, tt := range map[string]struct{ got, want string }{
		"signing_cert_url":       {m.SigningCertURL, base + "/v1/signing-cert"},
		"topic_urn":              {m.TopicURN, "urn:smn:auditbus:default:tke-cluster-deleted"},
		"X-SMN-MESSAGE-TYPE":     {r.header.Get("X-SMN-MESSAGE-TYPE"), "Notification"},
		"X-SMN-MESSAGE-ID":       {r.header.Get("X-SMN-MESSAGE-ID"), m.MessageID},
		"X-SMN-TOPIC-URN":        {r.header.Get("X-SMN-TOPIC-URN"), m.TopicURN},
		"X-SMN-SUBSCRIPTION-URN": {r.header.Get("X-SMN-SUBSCRIPTION-URN"), m.TopicURN + ":ops-hook"},
		"webhook-id":             {r.header.Get("webhook-id"), "msg_" + m.MessageID},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", name, tt.got, tt.want)
		}
	}

	if err := verifyAsReceiver(t, cert, r.body); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	tampered := bytes.Replace(r.body, []byte("DeleteCluster"), []byte("CreateCluster"), 1)
	if err := verifyAsReceiver(t, cert, tampered); err == nil {
		t.Error("a tampered message verifies")
	}
	if err := sinks.Verify(smnSecret, r.header, r.body, 0, time.Now()); err != nil {
		t.Errorf("HMAC headers: %v", err)
	}
	if err := sinks.Verify(smnSecret, r.header, tampered, 0, time.Now()); err == nil {
		t.Error("HMAC headers verify a tampered body")
	}

	asDocumented(t, "../sinks/README.md", "TestSMNDeliveryVerifiesAsDocumented/notification", jsonObject(t, r.body), false)
	t.Run("README shell recipes", func(t *testing.T) { runRecipes(t, base, r, tampered) })
}

// runRecipes runs the shell recipes of sinks/README.md ("Verifying
// deliveries"), read from the doc, on a delivery and on its tampered copy.
// A developer machine without the tools skips them; CI installs them and
// sets AUDITBUS_REQUIRE_TOOLS, so there they always run.
func runRecipes(t *testing.T, base string, r received, tampered []byte) {
	requireTools(t, "sh", "curl", "jq", "openssl", "od")
	smn, hmac := recipe(t, "TestSMNDeliveryVerifiesAsDocumented/smn", base), recipe(t, "TestSMNDeliveryVerifiesAsDocumented/hmac", base)
	env := []string{"SECRET=" + smnSecret, "ID=" + r.header.Get("webhook-id"),
		"TS=" + r.header.Get("webhook-timestamp"), "SIG=" + r.header.Get("webhook-signature")}
	for _, c := range []struct {
		name, script string
		env          []string
		body         []byte
		want         string
		good         bool
	}{
		{"smn", smn, nil, r.body, "Verified OK", true},
		{"smn tampered", smn, nil, tampered, "Verification failure", false},
		{"hmac", hmac, env, r.body, "signature OK", true},
		{"hmac tampered", hmac, env, tampered, "bad signature", false},
	} {
		if out, err := runRecipe(t, c.script, c.env, c.body); !strings.Contains(out, c.want) || c.good && err != nil {
			t.Errorf("%s: %v, want %q in its output:\n%s", c.name, err, c.want, out)
		}
	}
}

// recipe is the shell block of sinks/README.md marked with key, pointed at
// the server at base instead of the doc's https://auditbus.example.com.
func recipe(t *testing.T, key, base string) string {
	return strings.ReplaceAll(doccheck.Read(t, "../sinks/README.md", key), "https://auditbus.example.com", base)
}

// runRecipe runs a recipe with sh in a scratch directory holding the
// message as body.json and body.bin, the names the doc gives it.
func runRecipe(t *testing.T, script string, env []string, body []byte) (string, error) {
	dir := t.TempDir()
	if err := errors.Join(os.WriteFile(filepath.Join(dir, "body.json"), body, 0o644), os.WriteFile(filepath.Join(dir, "body.bin"), body, 0o644)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSigningPairSurvivesRestart: the generated pair is kept in the data
// dir (key 0600) and served again after a restart, and --public-url
// becomes the base of signing_cert_url.
func TestSigningPairSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first := start(t, dir, nil)
	before, _ := fetchCert(t, "http://"+first.Addr()+"/v1/signing-cert")
	if err := first.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "signing", "key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key.pem: %v %v, want mode 0600", st.Mode(), err)
	}

	hook := newWebhook(t, nil)
	second := start(t, dir, func(c *router.Config) { c.PublicURL = "https://auditbus.example/" }, writeRules(t, smnRule(hook.URL, false)))
	after, cert := fetchCert(t, "http://"+second.Addr()+"/v1/signing-cert")
	if !bytes.Equal(before, after) {
		t.Errorf("certificate changed across a restart:\n%s\n%s", before, after)
	}
	sendEvent(t, second, "smn-2", "DeleteCluster")
	r := firstDelivery(t, hook)
	var m sinks.SMNMessage
	if err := json.Unmarshal(r.body, &m); err != nil || m.SigningCertURL != "https://auditbus.example/v1/signing-cert" {
		t.Errorf("signing_cert_url %q (%v)", m.SigningCertURL, err)
	}
	if err := verifyAsReceiver(t, cert, r.body); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if r.header.Get("webhook-signature") != "" {
		t.Errorf("a target without a secret got webhook-signature %q", r.header.Get("webhook-signature"))
	}
}

// requireTools skips a test on a developer machine without the tools a
// README recipe uses; CI installs them and sets AUDITBUS_REQUIRE_TOOLS, so
// there the test always runs.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("AUDITBUS_REQUIRE_TOOLS") != "" {
				t.Fatalf("%s is not installed, and AUDITBUS_REQUIRE_TOOLS is set", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}
