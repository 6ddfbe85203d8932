package router_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/auditbus/auditbus/router"
)

// TestTopicTargetsFollowTheRegistry: a rule names a topic and a function
// by URN; the function gets the CTS trace as its payload; a subscription
// added to the topic afterwards receives the next event without touching
// the rule; a notification's rule is explained by rules:test.
func TestTopicTargetsFollowTheRegistry(t *testing.T) {
	var mu sync.Mutex
	var calls []map[string]any
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		calls = append(calls, m)
		mu.Unlock()
	}))
	t.Cleanup(fn.Close)
	const fnURN = "urn:fss:r1:p1:function:default:on-delete:latest"
	file := filepath.Join(t.TempDir(), "topics.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf("functions:\n  - {urn: %q, url: %q}\n", fnURN, fn.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, t.TempDir(), func(c *router.Config) { c.TopicsFile = file })
	if status, _, out := call(t, s, "PUT", "/v1/topics/live", "application/json", []byte(`{"subscriptions":[]}`), nil); status != 201 {
		t.Fatalf("topic: %d %v", status, out)
	}
	rule := fmt.Sprintf(`name: cce-deletes
pattern:
  source: ["HC.CCE"]
targets:
  - id: alert
    topic: {urn: "urn:smn:auditbus:default:live"}
  - id: fn
    topic: {urn: %q}
`, fnURN)
	if status, _, out := call(t, s, "PUT", "/v1/rules/cce-deletes", "application/yaml", []byte(rule), nil); status != 201 {
		t.Fatalf("rule: %d %v", status, out)
	}
	postTrace := func(id string) {
		t.Helper()
		body := strings.ReplaceAll(ctsDeleteCluster, "ct-1", id)
		if status, _, out := call(t, s, "POST", "/v1/sources/cts", "application/json", []byte(body), nil); status != 202 {
			t.Fatalf("post: %d %v", status, out)
		}
	}
	postTrace("live-1")
	waitFor(t, "the function's call", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(calls) == 1, fmt.Sprint(calls)
	})
	mu.Lock()
	first := calls[0]
	mu.Unlock()
	if first["trace_id"] != "live-1" || first["trace_name"] != "deleteCluster" {
		t.Fatalf("function payload is not the trace: %v", first)
	}

	sub := newSubscriber(t)
	if status, _, out := call(t, s, "PUT", "/v1/topics/live/subscriptions/soc", "application/json",
		[]byte(fmt.Sprintf(`{"protocol":"http","endpoint":%q}`, sub.URL)), nil); status != 201 {
		t.Fatalf("subscription: %d %v", status, out)
	}
	_, _, topic := call(t, s, "GET", "/v1/topics/live/subscriptions", "", nil, nil)
	if len(topic["subscriptions"].([]any)) != 1 {
		t.Fatalf("subscriptions: %v", topic)
	}
	// The registry change reaches this replica's rules through the
	// bucket's watch: once the router runs the subscription's target, the
	// next event is for it too.
	waitFor(t, "the router to run the new subscription", func() (bool, string) {
		for _, r := range s.Router().Rules().Rules() {
			for _, tg := range r.Targets {
				if r.Name == "cce-deletes" && tg.ID == "alert-soc" && tg.Kind == "subscription" {
					return true, ""
				}
			}
		}
		return false, "not yet"
	})
	postTrace("live-2")
	waitFor(t, "the new subscription to receive", func() (bool, string) { return len(sub.got()) == 1, fmt.Sprint(len(sub.got())) })
	if !strings.Contains(string(sub.got()[0]), `live-2`) {
		t.Fatalf("subscription got %s", sub.got()[0])
	}
	_, _, rules := call(t, s, "GET", "/v1/rules/cce-deletes", "", nil, nil)
	if !strings.Contains(fmt.Sprint(rules["targets"]), "kind:topic") {
		t.Errorf("GET /v1/rules shows the expansion, not the rule as written: %v", rules["targets"])
	}

	status, _, n := call(t, s, "POST", "/v3/p1/notifications", "application/json",
		[]byte(`{"notification_name":"n","operation_type":"customized","operations":[{"service_type":"CCE","resource_type":"cluster","trace_names":["deleteCluster"]}],"topic_id":"urn:smn:auditbus:default:live"}`), nil)
	if status != 201 {
		t.Fatalf("create: %d %v", status, n)
	}
	ev := `{"specversion":"1.0","id":"x","source":"HC.CCE","type":"CCE:CloudTrace:ApiCall","action":"createCluster","resourcetype":"cluster"}`
	status, _, explained := call(t, s, "POST", "/v1/rules:test", "application/json",
		[]byte(fmt.Sprintf(`{"name":"cts-notification-%s","event":%s}`, n["notification_id"], ev)), nil)
	if status != 200 || explained["matched"] != false || !strings.Contains(fmt.Sprint(explained["explanation"]), "createCluster") {
		t.Fatalf("rules:test of the notification: %d %v", status, explained)
	}
}
