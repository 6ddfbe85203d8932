package router_test

import (
	"net/http"
	"strings"
	"testing"
)

func handshakeRuleURL(u string) string {
	return strings.Replace(deleteRule(u), "timeout: 5s", "timeout: 5s, handshake: true", 1)
}

// TestStateHidesTargetURLSecrets: the subscription state the rules API
// shows names the target URL with its password and query values redacted,
// in "endpoint" and in "last_error" alike.
func TestStateHidesTargetURLSecrets(t *testing.T) {
	hook := newHandshakeHook(t, func(int) http.Header { return nil }) // 200, no consent
	secretURL := strings.Replace(hook.URL, "http://", "http://user:p4ssw0rd@", 1) + "/x?key=s3cret-key"
	s := start(t, t.TempDir(), nil, writeRules(t, handshakeRuleURL(secretURL)))
	sendEvent(t, s, "leak-1", "DeleteCluster")
	waitFor(t, "the consent request recorded", func() (bool, string) {
		st, raw := targetState(t, s)
		sub, _ := st["subscription"].(map[string]any)
		return sub != nil && sub["last_error"] != nil && sub["last_error"] != "", raw
	})
	_, raw := targetState(t, s)
	for _, secret := range []string{"p4ssw0rd", "s3cret-key"} {
		if strings.Contains(raw, secret) {
			t.Errorf("GET /v1/rules shows the target URL's secret %q: %s", secret, raw)
		}
	}
}

// TestHandshakeCallbackByPOST: the CloudEvents webhook spec (4.1.3) lets
// the delivery target grant permission by a GET or a POST of the callback.
func TestHandshakeCallbackByPOST(t *testing.T) {
	hook := newHandshakeHook(t, func(int) http.Header { return nil })
	s := start(t, t.TempDir(), nil, writeRules(t, handshakeRuleURL(hook.URL)))
	sendEvent(t, s, "post-1", "DeleteCluster")
	callback := hook.awaitCallback(t)
	req, _ := http.NewRequest(http.MethodPost, callback, nil)
	if status, body := do(t, req); status != http.StatusOK {
		t.Errorf("POST callback: %d %v; the spec allows GET or POST", status, body)
	}
}

// TestCallbackAllowedRateIsRecorded: a callback may carry
// WebHook-Allowed-Rate (spec 4.1.3), which caps the deliveries it allows.
func TestCallbackAllowedRateIsRecorded(t *testing.T) {
	hook := newHandshakeHook(t, func(int) http.Header { return nil })
	s := start(t, t.TempDir(), nil, writeRules(t, handshakeRuleURL(hook.URL)))
	sendEvent(t, s, "rate-1", "DeleteCluster")
	callback := hook.awaitCallback(t)
	req, _ := http.NewRequest(http.MethodGet, callback, nil)
	req.Header.Set("WebHook-Allowed-Rate", "6")
	if status, body := do(t, req); status != http.StatusOK {
		t.Fatalf("GET callback: %d %v", status, body)
	}
	st, raw := targetState(t, s)
	sub, _ := st["subscription"].(map[string]any)
	if sub["rate_per_minute"] != float64(6) {
		t.Errorf("the callback's WebHook-Allowed-Rate: 6 is not recorded: %s", raw)
	}
}
