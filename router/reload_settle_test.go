package router_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router"
)

// twoRules are rule documents for the events "DeleteCluster" (rule
// tke-deleted) and "CreateCluster" (tke-created), both delivered to url,
// the first and second halves of a file cut at their `---`.
func twoRules(url string) (first, second string) {
	doc := func(name, eventName string) string {
		return fmt.Sprintf("name: %s\npattern:\n  source: [tke.cloud.tencent]\n  data:\n    eventName: [%s]\ntargets:\n  - id: hook\n    webhook:\n      url: %q\n", name, eventName, url)
	}
	return doc("tke-deleted", "DeleteCluster") + "---\n", doc("tke-created", "CreateCluster")
}

// pendingRemovals is /readyz's list of removals waiting for the settle time.
func pendingRemovals(t *testing.T, s *router.Server) (int, []any, string) {
	t.Helper()
	status, _, body := call(t, s, http.MethodGet, "/readyz", "", nil, nil)
	detail, _ := body["rules"].(map[string]any)
	pending, _ := detail["pending_removals"].([]any)
	return status, pending, fmt.Sprint(status, body)
}

// TestRewriteInHalvesDeliversThroughout: the rules file of a running server
// is rewritten in place the way that lost events before: empty, then cut
// at the `---` between its two rules, then whole. Each state lasts until
// /readyz shows what auditbus made of it, and at each an event for each
// rule is sent: every one is delivered, once.
func TestRewriteInHalvesDeliversThroughout(t *testing.T) {
	t.Parallel()
	hook := newWebhook(t, nil)
	path := filepath.Join(t.TempDir(), "tke.yaml")
	first, second := twoRules(hook.URL)
	overwrite(t, path, first+second)
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.RulesReloadInterval, c.RulesSettle = 10*time.Millisecond, time.Hour
	}, path)
	for _, step := range []struct {
		name, content, pending string // pending: what /readyz says stops, "" for nothing
	}{
		{"empty", "", "rules default/tke-created, default/tke-deleted stop running"},
		{"cut at ---", first, "rules default/tke-created stop running"},
		{"whole", first + second, ""},
	} {
		overwrite(t, path, step.content)
		waitFor(t, step.name+" seen by /readyz", func() (bool, string) {
			status, pending, state := pendingRemovals(t, s)
			if step.pending == "" {
				return status == http.StatusOK && len(pending) == 0, state
			}
			return status == http.StatusOK && len(pending) == 1 && strings.Contains(fmt.Sprint(pending[0]), path+": "+step.pending), state
		})
		sendEvent(t, s, step.name+"-delete", "DeleteCluster")
		sendEvent(t, s, step.name+"-create", "CreateCluster")
	}
	settled(t, s)
	got := hook.ids()
	for _, id := range []string{"empty-delete", "empty-create", "cut at ----delete", "cut at ----create", "whole-delete", "whole-create"} {
		if got[id] != 1 {
			t.Errorf("event %s delivered %d times, want 1 (all: %v)", id, got[id], got)
		}
	}
}

// TestRuleRemovalAfterSettle: a real removal, the file rewritten without
// one of its rules, takes effect once the settle time has passed, not
// before: an event for the rule sent meanwhile is delivered, one sent
// after is not, and the log says which rules were removed.
func TestRuleRemovalAfterSettle(t *testing.T) {
	t.Parallel()
	const settle = time.Second
	hook := newWebhook(t, nil)
	path := filepath.Join(t.TempDir(), "tke.yaml")
	first, second := twoRules(hook.URL)
	overwrite(t, path, first+second)
	var logs syncBuffer
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.RulesReloadInterval, c.RulesSettle = 10*time.Millisecond, settle
		c.Log = c.Log.Output(&logs)
	}, path)
	replaceFile(t, path, first)
	edited := time.Now()
	sendEvent(t, s, "in-the-window", "CreateCluster")
	waitFor(t, "tke-created removed", func() (bool, string) {
		status, _, rule := call(t, s, http.MethodGet, "/v1/rules/tke-created", "", nil, nil)
		return status == http.StatusNotFound, fmt.Sprint(status, rule)
	})
	if took := time.Since(edited); took < settle {
		t.Errorf("the rule was removed %v after the edit, before the settle time (%v)", took, settle)
	}
	if _, pending, state := pendingRemovals(t, s); len(pending) != 0 {
		t.Errorf("/readyz after the removal: %s", state)
	}
	sendEvent(t, s, "after-removal", "CreateCluster")
	sendEvent(t, s, "kept-rule", "DeleteCluster")
	settled(t, s)
	got := hook.ids()
	if got["in-the-window"] != 1 || got["after-removal"] != 0 || got["kept-rule"] != 1 {
		t.Errorf("delivered %v, want in-the-window and kept-rule once, after-removal never", got)
	}
	for _, want := range []string{`"rules":["default/tke-created"]`, "rules removed: the file stayed without them for the settle time"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
}

// overwrite writes path in place, as an editor or `cat >` does (not the
// atomic rename), so a poll may read it in any state.
func overwrite(t *testing.T, path, content string) {
	t.Helper()
	writeFile(t, path, []byte(content))
}
