package router_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBacklogIsVisible: deliveries held for a disabled target show as its
// backlog in GET /v1/rules (how many, and the age of the oldest) and in
// the gauges; once it is enabled and drained, the backlog is gone.
func TestBacklogIsVisible(t *testing.T) {
	hook := newWebhook(t, func(*http.Request) int { return http.StatusGone })
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(hook.URL)))
	for i := range 4 {
		sendEvent(t, s, fmt.Sprint("lag-", i), "DeleteCluster")
	}
	backlog := func() map[string]any {
		_, _, body := call(t, s, http.MethodGet, "/v1/rules", "", nil, nil)
		rules, _ := body["rules"].([]any)
		if len(rules) != 1 {
			return nil
		}
		bl, _ := rules[0].(map[string]any)["targets"].([]any)[0].(map[string]any)["backlog"].(map[string]any)
		return bl
	}
	waitFor(t, "the held deliveries shown as the target's backlog", func() (bool, string) {
		bl := backlog()
		age, ok := bl["oldest_waiting_seconds"].(float64)
		return bl["deliveries"] == float64(4) && ok && age >= 0, fmt.Sprint(bl)
	})
	m := metrics(t, s)
	for _, want := range []string{`auditbus_target_queue_depth{bus="default",rule="tke-cluster-deleted",target="hook"} 4`,
		`auditbus_target_oldest_waiting_seconds{bus="default",rule="tke-cluster-deleted",target="hook"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
