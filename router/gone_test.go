package router_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
)

// TestGoneTargetIsDisabledAndEnabledThroughTheAPI: a 410 disables the
// target, GET /v1/rules shows it, its delivery stays queued, and POST
// .../targets/hook:enable resumes it.
func TestGoneTargetIsDisabledAndEnabledThroughTheAPI(t *testing.T) {
	var calls atomic.Int64
	hook := newWebhook(t, func(*http.Request) int {
		if calls.Add(1) == 1 {
			return http.StatusGone
		}
		return http.StatusOK
	})
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(hook.URL)))
	sendEvent(t, s, "gone-1", "DeleteCluster")
	waitFor(t, "target shown disabled", func() (bool, string) {
		_, _, body := call(t, s, http.MethodGet, "/v1/rules", "", nil, nil)
		rules, _ := body["rules"].([]any)
		if len(rules) != 1 {
			return false, fmt.Sprint(body)
		}
		tg := rules[0].(map[string]any)["targets"].([]any)[0].(map[string]any)
		st, _ := tg["state"].(map[string]any)
		return st["disabled"] == true && st["status"] == float64(410), fmt.Sprint(tg)
	})
	status, _, body := call(t, s, http.MethodPost, "/v1/rules/tke-cluster-deleted/targets/nope:enable", "", nil, nil)
	if status != http.StatusNotFound || body["error_code"] != "AB.4043" {
		t.Errorf("enable a missing target: %d %v", status, body)
	}
	status, _, body = call(t, s, http.MethodPost, "/v1/rules/tke-cluster-deleted/targets/hook:enable", "", nil, nil)
	if status != http.StatusOK || body["state"].(map[string]any)["disabled"] != false {
		t.Fatalf("enable: %d %v", status, body)
	}
	settled(t, s)
	if got := hook.ids(); got["gone-1"] != 1 {
		t.Errorf("delivered %v after enabling, want gone-1 once", got)
	}
}
