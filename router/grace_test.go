package router_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router"
)

// TestRuleBrieflyMissingFromItsFile: without a settle time (a negative
// --rules-settle), a hot reload of a rule file that parses with one rule
// missing (a half-written edit) removes that rule; back within the
// removed-target grace, its queued deliveries are delivered, none
// dead-lettered.
func TestRuleBrieflyMissingFromItsFile(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	hook := newWebhook(t, func(*http.Request) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	other := strings.Replace(strings.Replace(deleteRule(newWebhook(t, nil).URL), "tke-cluster-deleted", "other-rule", 1), "id: hook", "id: spare", 1)
	full := deleteRule(hook.URL) + "\n---\n" + other
	path := filepath.Join(t.TempDir(), "rules.yaml")
	replaceFile(t, path, full)
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.RulesReloadInterval, c.RulesSettle = 10*time.Millisecond, -1
		c.RetryBase, c.RetryCap = time.Millisecond, 20*time.Millisecond
	}, path)
	for _, id := range []string{"m1", "m2", "m3"} {
		sendEvent(t, s, id, "DeleteCluster")
	}
	waitFor(t, "the target failing", func() (bool, string) { return len(hook.seen) >= 3, fmt.Sprint(len(hook.seen)) })
	rulesLoaded := func(n int) func() (bool, string) {
		return func() (bool, string) {
			_, _, list := call(t, s, http.MethodGet, "/v1/rules", "", nil, nil)
			rules, _ := list["rules"].([]any)
			return len(rules) == n, fmt.Sprint(list)
		}
	}
	replaceFile(t, path, other)
	waitFor(t, "the half-written file loaded", rulesLoaded(1))
	time.Sleep(time.Second) // the target keeps failing; without the grace this dead-letters everything
	replaceFile(t, path, full)
	waitFor(t, "the whole file back", rulesLoaded(2))
	up.Store(true)
	settled(t, s)
	if got := hook.ids(); len(got) != 3 {
		t.Errorf("delivered %v, want m1, m2, m3", got)
	}
	if _, _, page := call(t, s, http.MethodGet, "/v1/dlq", "", nil, nil); fmt.Sprint(page["entries"]) != "[]" {
		t.Errorf("dead letters %v, want none", page["entries"])
	}
}
