package router_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router"
)

// readyRules returns /readyz's status and its rules detail.
func readyRules(t *testing.T, s *router.Server) (int, []any, string) {
	t.Helper()
	status, _, body := call(t, s, http.MethodGet, "/readyz", "", nil, nil)
	detail, _ := body["rules"].(map[string]any)
	errs, _ := detail["errors"].([]any)
	return status, errs, fmt.Sprint(status, body)
}

// TestHotReloadEndToEnd edits the rule file of a running server: a broken
// edit keeps the old rule delivering and shows up in /readyz and the
// metrics, the fix takes effect without a restart, and removing the file
// removes its rule (once it stayed gone for the settle time, short here).
func TestHotReloadEndToEnd(t *testing.T) {
	t.Parallel()
	hook := newWebhook(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "tke.yaml")
	replaceFile(t, path, deleteRule(hook.URL))
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.RulesReloadInterval, c.RulesSettle = 10*time.Millisecond, 50*time.Millisecond
	}, dir)

	replaceFile(t, path, "name: tke-cluster-deleted\npattern: {type: [\n")
	waitFor(t, "broken edit reported by /readyz", func() (bool, string) {
		status, errs, state := readyRules(t, s)
		return status == http.StatusOK && len(errs) == 1 && strings.HasPrefix(fmt.Sprint(errs[0]), path+":2:1: invalid YAML"), state
	})
	for _, want := range []string{`auditbus_rules_reloads_total{result="error"} 1`, "auditbus_rules_broken_sources 1", "auditbus_rules_loaded 1"} {
		if m := metrics(t, s); !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	sendEvent(t, s, "while-broken", "DeleteCluster")
	settled(t, s)
	if hook.ids()["while-broken"] != 1 {
		t.Fatalf("the last good rule did not deliver while the file was broken: %v", hook.ids())
	}

	replaceFile(t, path, strings.Replace(deleteRule(hook.URL), "DeleteCluster", "CreateCluster", 1))
	waitFor(t, "fixed rule running", func() (bool, string) {
		_, _, rule := call(t, s, http.MethodGet, "/v1/rules/tke-cluster-deleted", "", nil, nil)
		_, errs, state := readyRules(t, s)
		return strings.Contains(fmt.Sprint(rule["expr"]), "CreateCluster") && len(errs) == 0, fmt.Sprint(rule, state)
	})
	sendEvent(t, s, "fixed-create", "CreateCluster")
	sendEvent(t, s, "fixed-delete", "DeleteCluster")
	settled(t, s)
	if got := hook.ids(); got["fixed-create"] != 1 || got["fixed-delete"] != 0 {
		t.Fatalf("after the fix delivered %v, want fixed-create only", got)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rule removed with its file", func() (bool, string) {
		_, _, list := call(t, s, http.MethodGet, "/v1/rules", "", nil, nil)
		rules, _ := list["rules"].([]any)
		return list != nil && len(rules) == 0, fmt.Sprint(list)
	})
	sendEvent(t, s, "after-removal", "CreateCluster")
	settled(t, s)
	if got := hook.ids(); got["after-removal"] != 0 {
		t.Errorf("a removed rule still delivered: %v", got)
	}
	// ok: start, the fix, the file found gone (its removal pending), the removal.
	if m := metrics(t, s); !strings.Contains(m, "auditbus_rules_loaded 0\n") || !strings.Contains(m, `auditbus_rules_reloads_total{result="ok"} 4`+"\n") {
		t.Errorf("metrics after removal:\n%s", grep(m, "auditbus_rules_"))
	}
}

// grep keeps the lines of text that contain s.
func grep(text, s string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
