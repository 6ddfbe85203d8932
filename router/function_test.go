package router_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router"
)

// TestFunctionCommandTargetEndToEnd routes an event to a function target
// whose command appends its standard input to a file: the event arrives
// there as structured CloudEvent JSON.
func TestFunctionCommandTargetEndToEnd(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "events.ndjson")
	s := start(t, t.TempDir(), nil, writeRules(t, fmt.Sprintf(`name: tke-cluster-deleted
pattern:
  data:
    eventName: ["DeleteCluster"]
targets:
  - id: on-delete
    function:
      urn: "urn:fss:ap-guangzhou:123:function:default:on-delete:latest"
      command: ["sh", "-c", "cat >> \"$1\" && echo >> \"$1\"", "sh", %q]
      timeout: 10s
`, out)))
	sendEvent(t, s, "fn-1", "DeleteCluster")
	sendEvent(t, s, "fn-2", "CreateCluster")
	settled(t, s)

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the command never ran: %v", err)
	}
	var got []map[string]any
	for sc := bufio.NewScanner(bytes.NewReader(b)); sc.Scan(); {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, e)
	}
	if len(got) != 1 || got[0]["id"] != "fn-1" || got[0]["type"] != "tke:CloudEvent:ApiCall" ||
		got[0]["data"].(map[string]any)["eventName"] != "DeleteCluster" {
		t.Errorf("the command received %s, want the one DeleteCluster event", b)
	}
}

// TestAPIRulesCannotRunCommands: a command target runs a program on the
// server, so the rules API refuses it; HTTP function targets are fine.
func TestAPIRulesCannotRunCommands(t *testing.T) {
	t.Parallel()
	s := start(t, t.TempDir(), nil)
	doc := "targets:\n  - id: fn\n    function: {urn: 'urn:fss:r:1:function:default:f:latest', command: [sh, -c, 'id > /tmp/owned']}\n"
	for _, path := range []string{"/v1/rules/cmd", "/v1/rules/cmd?bus=default"} {
		status, _, body := call(t, s, http.MethodPut, path, "application/yaml", []byte(doc), nil)
		if status != http.StatusBadRequest || body["error_code"] != "AB.1007" || !strings.Contains(fmt.Sprint(body), "only rule files may define them") {
			t.Errorf("%s with a command target: %d %v", path, status, body)
		}
	}
	if keys := bucketKeys(t, s); len(keys) != 0 {
		t.Errorf("refused rules stored: %v", keys)
	}
	doc = "targets:\n  - id: fn\n    function: {urn: 'urn:fss:r:1:function:default:f:latest', url: 'https://fn.example/invoke'}\n"
	if status, _, body := call(t, s, http.MethodPut, "/v1/rules/url", "application/yaml", []byte(doc), nil); status >= 300 {
		t.Errorf("PUT with a url function target: %d %v", status, body)
	}
}

// TestPrivateTargetsRefusedUnlessAllowed: without the server's permission
// a webhook on 127.0.0.1 gets nothing and the delivery is rejected for
// good; an allowlist that covers it lets it through.
func TestPrivateTargetsRefusedUnlessAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		allow   func(*router.Config)
		deliver bool
	}{
		{"default", func(c *router.Config) { c.AllowPrivateTargets = false }, false},
		{"other block allowed", func(c *router.Config) {
			c.AllowPrivateTargets, c.AllowTargetCIDRs = false, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, false},
		{"allowlisted", func(c *router.Config) {
			c.AllowPrivateTargets, c.AllowTargetCIDRs = false, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		}, true},
		{"allowed by flag", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hook := newWebhook(t, nil)
			s := start(t, t.TempDir(), tt.allow, writeRules(t, deleteRule(hook.URL)))
			sendEvent(t, s, "ssrf-1", "DeleteCluster")
			settled(t, s)
			if delivered := len(hook.ids()) == 1; delivered != tt.deliver {
				t.Errorf("delivered %v, want %v", delivered, tt.deliver)
			}
			rejected := `auditbus_target_deliveries_total{bus="default",outcome="dead_lettered",rule="tke-cluster-deleted",target="hook"} 1`
			if counted := strings.Contains(metrics(t, s), rejected); counted == tt.deliver {
				t.Errorf("metrics: a rejected delivery counted: %v, want %v", counted, !tt.deliver)
			}
		})
	}
}
