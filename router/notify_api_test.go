package router_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
)

const listerToken = "abt_notification-lister-token" // cts:notification:list and topics:read only

// TestNotificationAndTopicActions: each notification endpoint needs its
// CTS action (answering CTS.0002 otherwise) and the bus its rules run
// on; the topics endpoints need topics:read or topics:write.
func TestNotificationAndTopicActions(t *testing.T) {
	extra := fmt.Sprintf("  - name: lister\n    tokens: [%q]\n    actions: [\"cts:notification:list\", topics:read]\n", auth.HashToken(listerToken))
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, extra) })
	topic := `{"subscriptions":[{"id":"soc","protocol":"https","endpoint":"https://soc.example/smn","secret":"a-secret-of-at-least-24-bytes"}]}`
	create := `{"notification_name":"n","operation_type":"complete","topic_id":"urn:smn:auditbus:default:sec"}`
	for _, c := range []struct {
		name, method, path, body, token string
		status                          int
		code                            string
	}{
		{"topic without identity", "PUT", "/v1/topics/sec", topic, "", 401, auth.CodeUnauthenticated},
		{"topic without topics:write", "PUT", "/v1/topics/sec", topic, listerToken, 403, auth.CodeForbidden},
		{"topic", "PUT", "/v1/topics/sec", topic, adminToken, 201, ""},
		{"topic read", "GET", "/v1/topics/sec", "", listerToken, 200, ""},
		{"topic read without topics:read", "GET", "/v1/topics", "", outsiderToken, 403, auth.CodeForbidden},
		// Topics serve every bus: a bus-limited identity may neither add
		// itself as a subscriber nor see where others' events go.
		{"subscription by a bus-limited identity", "PUT", "/v1/topics/sec/subscriptions/mine",
			`{"protocol":"https","endpoint":"https://evil.example/x"}`, prodToken, 403, auth.CodeForbidden},
		{"topic by a bus-limited identity", "PUT", "/v1/topics/other", topic, prodToken, 403, auth.CodeForbidden},
		{"topic delete by a bus-limited identity", "DELETE", "/v1/topics/sec", "", prodToken, 403, auth.CodeForbidden},
		{"subscription delete by a bus-limited identity", "DELETE", "/v1/topics/sec/subscriptions/soc", "", prodToken, 403, auth.CodeForbidden},
		{"topics read by a bus-limited identity", "GET", "/v1/topics", "", prodToken, 403, auth.CodeForbidden},
		{"topic read by a bus-limited identity", "GET", "/v1/topics/sec", "", prodToken, 403, auth.CodeForbidden},
		{"subscriptions read by a bus-limited identity", "GET", "/v1/topics/sec/subscriptions", "", prodToken, 403, auth.CodeForbidden},
		{"topic unchanged", "GET", "/v1/topics/sec/subscriptions", "", adminToken, 200, ""},
		{"create without identity", "POST", "/v3/p1/notifications", create, "", 401, "CTS.0002"},
		{"create without the action", "POST", "/v3/p1/notifications", create, listerToken, 403, "CTS.0002"},
		{"create off the identity's buses", "POST", "/v3/p1/notifications", create, prodToken, 403, "CTS.0002"},
		{"create", "POST", "/v3/p1/notifications", create, adminToken, 201, ""},
		{"list", "GET", "/v3/p1/notifications/smn", "", listerToken, 200, ""},
		{"list without the action", "GET", "/v3/p1/notifications/smn", "", outsiderToken, 403, "CTS.0002"},
		{"update without the action", "PUT", "/v3/p1/notifications", `{}`, listerToken, 403, "CTS.0002"},
		{"delete without the action", "DELETE", "/v3/p1/notifications?notification_id=x", "", listerToken, 403, "CTS.0002"},
	} {
		h := http.Header{}
		if c.token != "" {
			h = bearer(c.token)
		}
		status, _, out := call(t, s, c.method, c.path, "application/json", []byte(c.body), h)
		if status != c.status || (c.code != "" && out["error_code"] != c.code) {
			t.Errorf("%s: %d %v, want %d %s", c.name, status, out, c.status, c.code)
		}
		if c.name == "topic read" && !strings.Contains(fmt.Sprint(out), "secret:***") {
			t.Errorf("topic read shows the secret: %v", out)
		}
		if c.status == 403 && c.token == prodToken && strings.HasPrefix(c.path, "/v1/topics") &&
			!strings.Contains(fmt.Sprint(out["error_msg"]), "limited to buses") {
			t.Errorf("%s: %v, want the refusal to say the identity is limited to buses", c.name, out)
		}
		if c.name == "topic unchanged" && fmt.Sprint(out) != "map[subscriptions:[map[endpoint:https://soc.example/smn id:soc protocol:https secret:***]]]" {
			t.Errorf("after the refusals, the topic is %v", out)
		}
	}
}

// TestTopicAndNotificationErrors: bad topics and notifications answer
// their codes and store nothing; file topics and notification rules are
// not the API's to change.
func TestTopicAndNotificationErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "topics.yaml")
	if err := os.WriteFile(file, []byte("topics:\n  - {name: ops}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, t.TempDir(), func(c *router.Config) { c.TopicsFile = file })
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"bad protocol", "PUT", "/v1/topics/a", `{"subscriptions":[{"id":"s","protocol":"ftp","endpoint":"x"}]}`, 400, "AB.1020"},
		{"masked secret sent back", "PUT", "/v1/topics/a", `{"subscriptions":[{"id":"s","protocol":"https","endpoint":"https://x.example/","secret":"***"}]}`, 400, "AB.1020"},
		{"unknown field", "PUT", "/v1/topics/a", `{"subs":[]}`, 400, "AB.1001"},
		{"bad name", "PUT", "/v1/topics/a%20b", `{}`, 400, "AB.1020"},
		{"file topic", "PUT", "/v1/topics/ops", `{}`, 409, "AB.4092"},
		{"file topic delete", "DELETE", "/v1/topics/ops", ``, 409, "AB.4092"},
		{"no topic", "GET", "/v1/topics/a", ``, 404, "AB.4046"},
		{"no topic delete", "DELETE", "/v1/topics/a", ``, 404, "AB.4046"},
		{"no subscription", "DELETE", "/v1/topics/ops/subscriptions/x", ``, 404, "AB.4046"},
		{"unknown topic_id", "POST", "/v3/p1/notifications", `{"notification_name":"n","operation_type":"complete","topic_id":"urn:smn:auditbus:default:a"}`, 400, "CTS.0262"},
		{"empty body", "POST", "/v3/p1/notifications", ``, 400, "CTS.0003"},
		{"update unknown id", "PUT", "/v3/p1/notifications", `{"notification_id":"x","notification_name":"n","operation_type":"complete","status":"disabled"}`, 404, "CTS.0261"},
		{"delete unknown id", "DELETE", "/v3/p1/notifications?notification_id=x,y", ``, 404, "CTS.0261"},
		{"delete without id", "DELETE", "/v3/p1/notifications", ``, 400, "CTS.0300"},
		{"list bad type", "GET", "/v3/p1/notifications/sms", ``, 400, "CTS.0300"},
		{"list bad parameter", "GET", "/v3/p1/notifications/smn?limit=1", ``, 400, "CTS.0300"},
		{"notification rule through /v1/rules", "PUT", "/v1/rules/cts-notification-x", "name: x\ntargets: [{id: l, log: {}}]\n", 409, "AB.4090"},
	} {
		status, _, out := call(t, s, c.method, c.path, "application/json", []byte(c.body), nil)
		if status != c.status || out["error_code"] != c.code || out["error_msg"] == "" {
			t.Errorf("%s: %d %v, want %d %s", c.name, status, out, c.status, c.code)
		}
	}
	_, _, list := call(t, s, "GET", "/v1/topics", "", nil, nil)
	if raw, _ := json.Marshal(list); !strings.Contains(string(raw), `"origin":"file"`) || strings.Count(string(raw), `"name"`) != 1 {
		t.Errorf("topics after the refusals: %s", raw)
	}
	ok := `{"notification_name":"n","operation_type":"complete","topic_id":"urn:smn:auditbus:default:ops"}`
	if status, _, out := call(t, s, "POST", "/v3/p1/notifications", "application/json", []byte(ok), nil); status != 201 {
		t.Fatalf("create: %d %v", status, out)
	}
	if status, _, out := call(t, s, "POST", "/v3/p1/notifications", "application/json", []byte(ok), nil); status != 403 || out["error_code"] != "CTS.0260" {
		t.Errorf("second of the name: %d %v, want 403 CTS.0260", status, out)
	}
	if status, _, out := call(t, s, "POST", "/v3/p2/notifications", "application/json", []byte(ok), nil); status != 201 {
		t.Errorf("the name in another project: %d %v", status, out)
	}
	_, _, fun := call(t, s, "GET", "/v3/p1/notifications/fun", "", nil, nil)
	if len(fun["notifications"].([]any)) != 0 {
		t.Errorf("fun lists an smn notification: %v", fun)
	}
}

// TestCheckConfigReadsTopicsFile: `auditbus check` reads the topics file
// as serve does: a broken one is the error, a good one a summary line.
func TestCheckConfigReadsTopicsFile(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	for p, src := range map[string]string{good: "topics: [{name: sec}]\ngroups: {admin: [alice]}\n", bad: "topics: [{name: sec}, {name: sec}]\n"} {
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := router.CheckConfig(router.Config{DataDir: t.TempDir(), TopicsFile: good})
	if err != nil || !strings.Contains(strings.Join(sum, "\n"), "topics:   1 topic(s), 0 function(s), 1 group(s) from "+good) {
		t.Errorf("good file: %v %q", err, sum)
	}
	if _, err := router.CheckConfig(router.Config{DataDir: t.TempDir(), TopicsFile: bad}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v", err)
	}
	if _, err := router.Start(t.Context(), router.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", NATSListen: "-", TopicsFile: bad}); err == nil ||
		!strings.Contains(err.Error(), "declared twice") {
		t.Errorf("start with a bad file: %v", err)
	}
}
