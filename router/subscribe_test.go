package router_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/sinks"
)

// smnMessages returns the smn messages the webhook accepted, by type.
func smnMessages(t *testing.T, hook *webhook, typ string) []sinks.SMNMessage {
	t.Helper()
	hook.mu.Lock()
	defer hook.mu.Unlock()
	var out []sinks.SMNMessage
	for _, r := range hook.got {
		var m sinks.SMNMessage
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatalf("not an smn message: %q", r.body)
		}
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// queuedDeliveries counts the deliveries waiting in the target queues.
func queuedDeliveries(t *testing.T, s *router.Server) uint64 {
	t.Helper()
	return streamCount(t, s, bus.DeliveriesStream)
}

// get fetches a subscription URL as an endpoint does, and decodes the answer.
func get(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// targetState is the state GET /v1/rules shows for the rule's one target,
// and the raw answer.
func targetState(t *testing.T, s *router.Server) (map[string]any, string) {
	t.Helper()
	_, _, body := call(t, s, http.MethodGet, "/v1/rules/tke-cluster-deleted", "", nil, nil)
	raw, _ := json.Marshal(body)
	tg := body["targets"].([]any)[0].(map[string]any)
	st, _ := tg["state"].(map[string]any)
	return st, string(raw)
}

// TestSMNConfirmationHoldsDeliveriesUntilConfirmed is the test:
// with confirm: true nothing is delivered before the endpoint GETs
// subscribe_url, everything after; unsubscribe_url stops deliveries again
// (held, not lost), and enabling the target asks for a new subscription.
func TestSMNConfirmationHoldsDeliveriesUntilConfirmed(t *testing.T) {
	hook := newWebhook(t, nil)
	s := start(t, t.TempDir(), nil, writeRules(t, strings.Replace(smnRule(hook.URL, false), "format: smn", "format: smn, confirm: true", 1)))
	base := "http://" + s.Addr()
	_, cert := fetchCert(t, base+sinks.SigningCertPath)
	for i := range 5 {
		sendEvent(t, s, fmt.Sprint("held-", i), "DeleteCluster")
	}
	waitFor(t, "a confirmation and 5 held deliveries", func() (bool, string) {
		n, q := len(smnMessages(t, hook, "SubscriptionConfirmation")), queuedDeliveries(t, s)
		return n == 1 && q == 5, fmt.Sprintf("%d confirmations, %d queued", n, q)
	})
	if got := smnMessages(t, hook, "Notification"); len(got) != 0 {
		t.Fatalf("%d notifications before confirmation", len(got))
	}
	conf := smnMessages(t, hook, "SubscriptionConfirmation")[0]
	hook.mu.Lock()
	confBody := hook.got[0].body
	hook.mu.Unlock()
	if err := verifyAsReceiver(t, cert, confBody); err != nil {
		t.Errorf("confirmation signature: %v", err)
	}
	asDocumented(t, "../sinks/README.md", "TestSMNConfirmationHoldsDeliveriesUntilConfirmed", jsonObject(t, confBody), false)
	t.Run("README shell recipe", func(t *testing.T) { runSMNRecipe(t, base, confBody) })
	st, raw := targetState(t, s)
	sub, _ := st["subscription"].(map[string]any)
	token := query(t, conf.SubscribeURL, "token")
	if sub["status"] != "pending" || strings.Contains(raw, token) {
		t.Errorf("state while pending: %s (must not show the token)", raw)
	}

	wrong := strings.Replace(conf.SubscribeURL, token, token[:len(token)-2]+"xx", 1)
	if status, body := get(t, wrong); status != http.StatusNotFound || body["error_code"] != "AB.4044" {
		t.Errorf("wrong token: %d %v", status, body)
	}
	if status, body := get(t, conf.SubscribeURL); status != http.StatusOK || body["status"] != "confirmed" {
		t.Fatalf("GET subscribe_url: %d %v", status, body)
	}
	settled(t, s)
	notes := smnMessages(t, hook, "Notification")
	if len(notes) != 5 {
		t.Fatalf("%d notifications after confirmation, want 5", len(notes))
	}
	unsub := notes[0].UnsubscribeURL
	if !strings.HasPrefix(unsub, base+"/v1/subscriptions/unsubscribe?") || query(t, unsub, "token") != token {
		t.Errorf("unsubscribe_url %q", unsub)
	}

	if status, body := get(t, unsub); status != http.StatusOK || body["status"] != "unsubscribed" {
		t.Fatalf("GET unsubscribe_url: %d %v", status, body)
	}
	waitFor(t, "unsubscribed state seen", func() (bool, string) {
		st, raw := targetState(t, s)
		sub, _ := st["subscription"].(map[string]any)
		return sub["status"] == "unsubscribed", raw
	})
	sendEvent(t, s, "after-unsubscribe", "DeleteCluster")
	waitFor(t, "the new delivery held", func() (bool, string) {
		q := queuedDeliveries(t, s)
		return q == 1, fmt.Sprint(q, " queued")
	})
	if status, body := get(t, conf.SubscribeURL); status != http.StatusNotFound {
		t.Errorf("confirming after unsubscribing: %d %v, want 404 (a new subscription is needed)", status, body)
	}

	if status, _, body := call(t, s, http.MethodPost, "/v1/rules/tke-cluster-deleted/targets/ops-hook:enable", "", nil, nil); status != http.StatusOK {
		t.Fatalf("enable: %d %v", status, body)
	}
	waitFor(t, "a second confirmation", func() (bool, string) {
		n := len(smnMessages(t, hook, "SubscriptionConfirmation"))
		return n == 2, fmt.Sprint(n, " confirmations")
	})
	again := smnMessages(t, hook, "SubscriptionConfirmation")[1]
	if query(t, again.SubscribeURL, "token") == token {
		t.Error("a new subscription reuses the old token")
	}
	if got := len(smnMessages(t, hook, "Notification")); got != 5 {
		t.Errorf("%d notifications before the new confirmation, want still 5", got)
	}
	if status, body := get(t, again.SubscribeURL); status != http.StatusOK {
		t.Fatalf("confirm again: %d %v", status, body)
	}
	settled(t, s)
	if got := len(smnMessages(t, hook, "Notification")); got != 6 {
		t.Errorf("%d notifications, want 6: the held one follows the new confirmation", got)
	}
}

func query(t *testing.T, u, key string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Query().Get(key)
}

// runSMNRecipe runs the smn verification recipe of sinks/README.md, read
// from the doc, on one message and on a tampered copy.
func runSMNRecipe(t *testing.T, base string, body []byte) {
	requireTools(t, "sh", "curl", "jq", "openssl")
	script := recipe(t, "TestSMNDeliveryVerifiesAsDocumented/smn", base)
	if out, err := runRecipe(t, script, nil, body); err != nil || !strings.Contains(out, "Verified OK") {
		t.Errorf("the smn recipe: %v\n%s", err, out)
	}
	tampered := bytes.Replace(body, []byte("subscribe"), []byte("subscribX"), 1)
	if out, err := runRecipe(t, script, nil, tampered); err == nil {
		t.Errorf("the smn recipe accepts a tampered confirmation:\n%s", out)
	}
}

// handshakeHook is a CloudEvents receiver that answers the OPTIONS
// validation request with answer's headers and records the callback URL.
type handshakeHook struct {
	*webhook
	mu       sync.Mutex
	options  []http.Header
	callback string
}

func newHandshakeHook(t *testing.T, answer func(n int) http.Header) *handshakeHook {
	h := &handshakeHook{}
	h.webhook = newWebhook(t, nil)
	inner := h.webhook.Config.Handler
	h.webhook.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions {
			inner.ServeHTTP(w, r)
			return
		}
		h.mu.Lock()
		h.options = append(h.options, r.Header.Clone())
		h.callback = r.Header.Get("WebHook-Request-Callback")
		n := len(h.options)
		h.mu.Unlock()
		for k, v := range answer(n) {
			w.Header()[k] = v
		}
		w.WriteHeader(http.StatusOK)
	})
	return h
}

// awaitCallback waits for the validation request and returns its
// WebHook-Request-Callback.
func (h *handshakeHook) awaitCallback(t *testing.T) string {
	t.Helper()
	waitFor(t, "a handshake", func() (bool, string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.callback != "", "no OPTIONS yet"
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.callback
}

// TestHandshakeConsent: with handshake: true, a 200 without
// WebHook-Allowed-Origin is no consent (deliveries stay queued); a GET of
// the callback URL is; and an answer with the header is consent at once,
// its WebHook-Allowed-Rate recorded.
func TestHandshakeConsent(t *testing.T) {
	t.Run("callback", func(t *testing.T) {
		hook := newHandshakeHook(t, func(int) http.Header { return http.Header{"Allow": {"POST"}} })
		s := start(t, t.TempDir(), nil, writeRules(t, strings.Replace(deleteRule(hook.URL), "timeout: 5s", "timeout: 5s, handshake: true", 1)))
		sendEvent(t, s, "hs-1", "DeleteCluster")
		waitFor(t, "a handshake and a held delivery", func() (bool, string) {
			hook.mu.Lock()
			n := len(hook.options)
			hook.mu.Unlock()
			q := queuedDeliveries(t, s)
			return n == 1 && q == 1, fmt.Sprintf("%d OPTIONS, %d queued", n, q)
		})
		hook.mu.Lock()
		origin, callback := hook.options[0].Get("WebHook-Request-Origin"), hook.callback
		hook.mu.Unlock()
		if origin != "127.0.0.1" {
			t.Errorf("WebHook-Request-Origin %q, want the public URL's host", origin)
		}
		if n := len(hook.ids()); n != 0 {
			t.Fatalf("%d deliveries before consent", n)
		}
		if status, body := get(t, callback); status != http.StatusOK || body["status"] != "confirmed" {
			t.Fatalf("GET callback: %d %v", status, body)
		}
		settled(t, s)
		r, ok := hook.byID("hs-1")
		if !ok || r.header.Get("WebHook-Request-Origin") != "127.0.0.1" {
			t.Errorf("delivery after consent: %v %v", ok, r.header)
		}
	})
	t.Run("granted with a rate", func(t *testing.T) {
		hook := newHandshakeHook(t, func(int) http.Header {
			return http.Header{"WebHook-Allowed-Origin": {"*"}, "WebHook-Allowed-Rate": {"600"}}
		})
		s := start(t, t.TempDir(), nil, writeRules(t, strings.Replace(deleteRule(hook.URL), "timeout: 5s", "timeout: 5s, handshake: true", 1)))
		sendEvent(t, s, "hs-2", "DeleteCluster")
		settled(t, s)
		if got := hook.ids(); got["hs-2"] != 1 {
			t.Errorf("delivered %v", got)
		}
		st, raw := targetState(t, s)
		sub, _ := st["subscription"].(map[string]any)
		if sub["status"] != "confirmed" || sub["rate_per_minute"] != float64(600) || sub["mode"] != "handshake" {
			t.Errorf("state %s", raw)
		}
	})
}
