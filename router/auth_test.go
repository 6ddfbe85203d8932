package router_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/dispatch"
)

// Tokens of the identities every auth test's file holds.
const (
	adminToken    = "abt_admin-token-for-tests"
	outsiderToken = "abt_outsider-token-for-tests" // valid, but granted only audit:read
	prodToken     = "abt_prod-token-for-tests"     // every action, bus prod only
)

// writeAuthFile writes an auth file with the test identities, and extra
// entries, returning its path.
func writeAuthFile(t testing.TB, extra string) string {
	t.Helper()
	doc := fmt.Sprintf(`identities:
  - name: admin
    tokens: [%q]
    actions: ["*"]
  - name: outsider
    tokens: [%q]
    actions: [audit:read]
  - name: prod-team
    tokens: [%q]
    actions: ["*"]
    buses: [prod]
`, auth.HashToken(adminToken), auth.HashToken(outsiderToken), auth.HashToken(prodToken)) + extra
	p := filepath.Join(t.TempDir(), "auth.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// endpointCase is one protected endpoint, called the way a client would.
type endpointCase struct {
	action, method, path, contentType, body string
	ok                                      int // status when allowed
}

func protectedEndpoints(t *testing.T, entryID func() string) []endpointCase {
	event, _ := json.Marshal(auditEvent(t, "auth-ok-1", "DeleteCluster", 0))
	record := `{"eventName":"DeleteCluster","eventSource":"tke.tencentcloudapi.com","eventType":"ApiCall","eventTime":1700000000,"requestID":"auth-req-1","userIdentity":{"principalId":"1"},"errorCode":0}`
	trace := `{"trace_id":"auth-trace-1","trace_name":"deleteServer","service_type":"ECS","resource_type":"ecs","time":1700000000000,"code":"200","trace_type":"ApiCall"}`
	k8s := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"a1","stage":"ResponseComplete","verb":"delete","requestURI":"/api/v1/namespaces/x","user":{"username":"u"},"objectRef":{"resource":"namespaces","name":"x"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2024-01-01T00:00:00Z","stageTimestamp":"2024-01-01T00:00:00Z"}]}`
	newRule := "name: auth-new\npattern:\n  type: [x]\ntargets:\n  - id: l\n    log: {}\n"
	test := `{"name":"tke-cluster-deleted","event":` + string(event) + `}`
	return []endpointCase{
		{auth.ActionEventsPut, "POST", "/v1/events", "application/cloudevents+json", string(event), 202},
		{auth.ActionSourcesPut, "POST", "/v1/sources/cloudaudit", "application/json", record, 202},
		{auth.ActionSourcesPut, "POST", "/v1/sources/cts", "application/json", trace, 202},
		{auth.ActionSourcesPut, "POST", "/v1/sources/k8s-audit?cluster=prod", "application/json", k8s, 202},
		{auth.ActionSourcesPut, "POST", "/v1/sources/k8s-audit/prod", "application/json", k8s, 202},
		{auth.ActionRulesRead, "GET", "/v1/rules", "", "", 200},
		{auth.ActionRulesRead, "GET", "/v1/rules/tke-cluster-deleted", "", "", 200},
		{auth.ActionRulesWrite, "PUT", "/v1/rules/auth-new", "application/yaml", newRule, 201},
		{auth.ActionRulesWrite, "DELETE", "/v1/rules/auth-doomed", "", "", 204},
		{auth.ActionRulesTest, "POST", "/v1/rules:test", "application/json", test, 200},
		{auth.ActionTargetsWrite, "POST", "/v1/rules/tke-cluster-deleted/targets/hook:enable", "", "", 200},
		{auth.ActionDLQRead, "GET", "/v1/dlq", "", "", 200},
		{auth.ActionDLQRedrive, "POST", "/v1/dlq:redrive", "application/json", `{"ids":[` + entryID() + `]}`, 200},
		{auth.ActionMetricsRead, "GET", "/metrics", "", "", 200},
	}
}

// snapshot is what a refused request must not change: the events and the
// DLQ stored, the rules (with their revisions) and their targets' states.
func snapshot(t *testing.T, s *router.Server) string {
	t.Helper()
	_, _, rules := call(t, s, "GET", "/v1/rules", "", nil, bearer(adminToken))
	raw, _ := json.Marshal(rules)
	return fmt.Sprintf("events=%d dlq=%d rules=%s", streamMsgs(t, s), streamCount(t, s, bus.DLQStream), raw)
}

// TestEveryEndpointNeedsItsAction: every protected endpoint answers 401
// without an identity or with a wrong token, 403 naming the action for a
// valid identity without it, and works with it; the refused requests
// change nothing.
func TestEveryEndpointNeedsItsAction(t *testing.T) {
	bad := newWebhook(t, func(*http.Request) int { return http.StatusBadRequest })
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") }, writeRules(t, deleteRule(bad.URL)))
	// A dead letter to redrive, and an API rule to delete.
	body, _ := json.Marshal(auditEvent(t, "auth-dlq-1", "DeleteCluster", 0))
	if status, _, answer := call(t, s, "POST", "/v1/events", "application/cloudevents+json", body, bearer(adminToken)); status != 202 {
		t.Fatalf("post: %d %v", status, answer)
	}
	doomed := "name: auth-doomed\npattern:\n  type: [x]\ntargets:\n  - id: l\n    log: {}\n"
	if status, _, answer := call(t, s, "PUT", "/v1/rules/auth-doomed", "application/yaml", []byte(doomed), bearer(adminToken)); status != 201 {
		t.Fatalf("put: %d %v", status, answer)
	}
	settled(t, s)
	entryID := func() string {
		_, _, page := call(t, s, "GET", "/v1/dlq", "", nil, bearer(adminToken))
		entries, _ := page["entries"].([]any)
		if len(entries) == 0 {
			t.Fatalf("no dead letter to redrive: %v", page)
		}
		return fmt.Sprint(entries[0].(map[string]any)["id"])
	}
	for _, ep := range protectedEndpoints(t, entryID) {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			before := snapshot(t, s)
			for _, refused := range []struct {
				name   string
				header http.Header
				status int
				code   string
			}{
				{"no identity", nil, 401, auth.CodeUnauthenticated},
				{"wrong token", bearer("abt_wrong"), 401, auth.CodeUnauthenticated},
				{"wrong x-auth-token", http.Header{"X-Auth-Token": {"abt_wrong"}}, 401, auth.CodeUnauthenticated},
				{"without the action", bearer(outsiderToken), 403, auth.CodeForbidden},
			} {
				status, header, answer := call(t, s, ep.method, ep.path, ep.contentType, []byte(ep.body), refused.header)
				if status != refused.status || answer["error_code"] != refused.code {
					t.Errorf("%s: %d %v, want %d %s", refused.name, status, answer, refused.status, refused.code)
				}
				if status == 401 && !strings.Contains(header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s: 401 without a Bearer challenge: %q", refused.name, header.Get("WWW-Authenticate"))
				}
				if msg, _ := answer["error_msg"].(string); status == 403 && !strings.Contains(msg, ep.action) {
					t.Errorf("%s: 403 does not name the action %s: %q", refused.name, ep.action, msg)
				}
			}
			if after := snapshot(t, s); after != before {
				t.Errorf("refused requests changed state:\nbefore %s\nafter  %s", before, after)
			}
			if status, _, answer := call(t, s, ep.method, ep.path, ep.contentType, []byte(ep.body), bearer(adminToken)); status != ep.ok {
				t.Errorf("with the action: %d %v, want %d", status, answer, ep.ok)
			}
			settled(t, s) // a redriven delivery dead-letters again before the next snapshot
		})
	}
}

// TestPublicEndpoints: health, readiness, the signing certificate and the
// subscription URLs need no identity.
func TestPublicEndpoints(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") })
	for path, want := range map[string]int{
		"/healthz":         200,
		"/readyz":          200,
		"/v1/signing-cert": 200,
		// A capability URL answers for itself (here: what is missing).
		dispatch.SubscriptionConfirmPath + "?urn=x&token=y": 400,
	} {
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestBusLimits: an identity limited to a bus can use it, and is refused
// on others, in every endpoint that names a bus; listings show only its
// buses.
func TestBusLimits(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") }, writeRules(t, deleteRule("http://127.0.0.1:1/")))
	event, _ := json.Marshal(auditEvent(t, "bus-1", "DeleteCluster", 0))
	prodRule := "name: prod-rule\nbus: prod\npattern:\n  type: [x]\ntargets:\n  - id: l\n    log: {}\n"
	defaultRule := "name: default-rule\npattern:\n  type: [x]\ntargets:\n  - id: l\n    log: {}\n"
	for _, tc := range []struct {
		method, path, contentType, body string
		status                          int
	}{
		{"POST", "/v1/events?bus=prod", "application/cloudevents+json", string(event), 202},
		{"POST", "/v1/events", "application/cloudevents+json", string(event), 403},
		{"POST", "/v1/sources/cts?bus=default", "application/json", `{"trace_id":"t"}`, 403},
		{"PUT", "/v1/rules/prod-rule", "application/yaml", prodRule, 201},
		{"PUT", "/v1/rules/default-rule", "application/yaml", defaultRule, 403},
		{"PUT", "/v1/rules/default-rule?bus=default", "application/yaml", defaultRule, 403},
		{"GET", "/v1/rules/prod-rule?bus=prod", "", "", 200},
		{"GET", "/v1/rules/tke-cluster-deleted", "", "", 403},
		{"DELETE", "/v1/rules/tke-cluster-deleted", "", "", 403},
		{"POST", "/v1/rules:test", "application/json", `{"name":"tke-cluster-deleted","event":` + string(event) + `}`, 403},
		{"POST", "/v1/rules/tke-cluster-deleted/targets/hook:enable", "", "", 403},
		{"GET", "/v1/dlq?bus=default", "", "", 403},
		{"GET", "/v1/dlq", "", "", 200},
		{"POST", "/v1/dlq:redrive", "application/json", `{"rule":"tke-cluster-deleted","bus":"default"}`, 403},
	} {
		status, _, answer := call(t, s, tc.method, tc.path, tc.contentType, []byte(tc.body), bearer(prodToken))
		if status != tc.status {
			t.Errorf("%s %s: %d %v, want %d", tc.method, tc.path, status, answer, tc.status)
		}
	}
	_, _, list := call(t, s, "GET", "/v1/rules", "", nil, bearer(prodToken))
	rules, _ := list["rules"].([]any)
	if len(rules) != 1 || rules[0].(map[string]any)["name"] != "prod-rule" {
		t.Errorf("prod-team's rule list: %v, want only prod-rule", list)
	}
}

// TestExposedWithoutAuthRefused: serving beyond loopback needs an auth
// file or an explicit --insecure-no-auth.
func TestExposedWithoutAuthRefused(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0", "example.internal:0"} {
		_, err := router.Start(t.Context(), router.Config{Listen: listen, DataDir: t.TempDir(), NATSListen: "-"})
		if err == nil || !strings.Contains(err.Error(), "--auth-file") {
			t.Errorf("listen %s without auth: %v, want a refusal naming --auth-file", listen, err)
		}
	}
	s := start(t, t.TempDir(), func(c *router.Config) { c.Listen, c.InsecureNoAuth = "0.0.0.0:0", true })
	_, port, _ := net.SplitHostPort(s.Addr())
	resp, err := http.Get("http://127.0.0.1:" + port + "/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("--insecure-no-auth: GET /v1/rules %d, want 200", resp.StatusCode)
	}
}

// TestIngestRate: a client over --ingest-rate is answered 429 with
// Retry-After and nothing is stored; the limit is per identity, so
// another identity from the same address still gets through.
func TestIngestRate(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.AuthFile, c.IngestRate, c.IngestBurst = writeAuthFile(t, ""), 0.001, 2
	})
	send := func(id, token string) (int, http.Header, map[string]any) {
		body, _ := json.Marshal(auditEvent(t, id, "DeleteCluster", 0))
		return call(t, s, "POST", "/v1/events", "application/cloudevents+json", body, bearer(token))
	}
	for i := range 2 {
		if status, _, answer := send(fmt.Sprint("rate-", i), adminToken); status != 202 {
			t.Fatalf("request %d within the burst: %d %v", i, status, answer)
		}
	}
	status, header, answer := send("rate-2", adminToken)
	if status != 429 || answer["error_code"] != "AB.4291" || header.Get("Retry-After") == "" {
		t.Errorf("over the rate: %d %v Retry-After %q, want 429 AB.4291 with Retry-After", status, answer, header.Get("Retry-After"))
	}
	if n := streamMsgs(t, s); n != 2 {
		t.Errorf("stream holds %d events, want the 2 within the burst", n)
	}
	if status, _, answer := send("rate-3", prodToken+"x"); status != 401 {
		t.Errorf("a wrong token is refused before the rate is counted: %d %v", status, answer)
	}
	body, _ := json.Marshal(auditEvent(t, "rate-4", "DeleteCluster", 0))
	if status, _, answer := call(t, s, "POST", "/v1/events?bus=prod", "application/cloudevents+json", body, bearer(prodToken)); status != 202 {
		t.Errorf("another identity: %d %v, want 202", status, answer)
	}
}

// TestChangesLogged: who changed a rule is in the log, with the outcome;
// a refused change is logged as a refusal, not as a change.
func TestChangesLogged(t *testing.T) {
	var logs syncBuffer
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.AuthFile, c.Log = writeAuthFile(t, ""), zerolog.New(&logs)
	})
	doc := []byte("name: logged\npattern:\n  type: [x]\ntargets:\n  - id: l\n    log: {}\n")
	if status, _, answer := call(t, s, "PUT", "/v1/rules/logged", "application/yaml", doc, bearer(adminToken)); status != 201 {
		t.Fatalf("put: %d %v", status, answer)
	}
	call(t, s, "DELETE", "/v1/rules/logged", "", nil, bearer(outsiderToken))
	var changes []map[string]any
	for line := range strings.Lines(logs.String()) {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) == nil && entry["message"] == "API change" {
			changes = append(changes, entry)
		}
	}
	if len(changes) != 1 || changes[0]["identity"] != "admin" || changes[0]["method"] != "PUT" || changes[0]["status"] != float64(201) {
		t.Errorf("API change log entries: %v, want the admin's PUT with 201", changes)
	}
}

// TestReadyzKeepsRuleProblemsPrivate: with auth, the public /readyz only
// counts broken rule sources (their messages quote target URLs, which may
// hold secrets), and GET /v1/rules has the messages for rules:read.
func TestReadyzKeepsRuleProblemsPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	replaceFile(t, path, deleteRule("https://hooks.example/ok"))
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.AuthFile, c.RulesReloadInterval = writeAuthFile(t, ""), 10*time.Millisecond
	}, dir)
	replaceFile(t, path, strings.Replace(deleteRule("htps://hooks.example/services/s3cr3t-w3bh00k"), "tke-cluster-deleted", "typo", 1))
	waitFor(t, "the broken edit counted by /readyz", func() (bool, string) {
		_, _, body := call(t, s, "GET", "/readyz", "", nil, nil)
		detail, _ := body["rules"].(map[string]any)
		return detail["broken"] == float64(1), fmt.Sprint(body)
	})
	_, _, body := call(t, s, "GET", "/readyz", "", nil, nil)
	if raw, _ := json.Marshal(body); strings.Contains(string(raw), "s3cr3t") || strings.Contains(string(raw), path) {
		t.Errorf("public /readyz quotes the problem: %s", raw)
	}
	_, _, list := call(t, s, "GET", "/v1/rules", "", nil, bearer(adminToken))
	if errs, _ := list["errors"].([]any); len(errs) != 1 || !strings.Contains(fmt.Sprint(errs[0]), path) {
		t.Errorf("GET /v1/rules errors: %v, want the problem", list["errors"])
	}
	_, _, list = call(t, s, "GET", "/v1/rules", "", nil, bearer(prodToken))
	if _, shown := list["errors"]; shown {
		t.Errorf("a bus-limited identity sees rule file problems: %v", list["errors"])
	}
}

// TestAuthFileReloadedWhileServing: a token added to the auth file of a
// running server works within the poll interval, and one removed stops.
func TestAuthFileReloadedWhileServing(t *testing.T) {
	path := writeAuthFile(t, "")
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = path })
	const newToken = "abt_added-while-serving"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	without := strings.Replace(string(doc), "  - name: outsider\n", "  - name: newcomer\n    tokens: [\""+auth.HashToken(newToken)+"\"]\n    actions: [rules:read]\n  - name: outsider\n", 1)
	replaceFile(t, path, strings.Replace(without, auth.HashToken(adminToken), auth.HashToken("abt_admin-rotated"), 1))
	waitFor(t, "the added token admitted", func() (bool, string) {
		status, _, answer := call(t, s, "GET", "/v1/rules", "", nil, bearer(newToken))
		return status == 200, fmt.Sprint(status, answer)
	})
	if status, _, _ := call(t, s, "GET", "/v1/rules", "", nil, bearer(adminToken)); status != 401 {
		t.Errorf("the rotated-out token: %d, want 401", status)
	}
}

// TestKubernetesEndpointErrorsAreStatus: the kube-apiserver's webhook
// client (client-go) reads an error only as a Kubernetes Status, so the
// audit endpoints' errors are Status objects too, beside error_code and
// error_msg; other endpoints' are not.
func TestKubernetesEndpointErrorsAreStatus(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") })
	for _, tc := range []struct {
		name, path, body, token string
		status                  int
		reason, code            string
	}{
		{"wrong token", "/v1/sources/k8s-audit/prod", "{}", "abt_wrong", 401, "Unauthorized", auth.CodeUnauthenticated},
		{"without the action", "/v1/sources/k8s-audit/prod", "{}", outsiderToken, 403, "Forbidden", auth.CodeForbidden},
		{"bad body", "/v1/sources/k8s-audit/prod", "{", adminToken, 400, "BadRequest", "AB.1001"},
		{"no cluster", "/v1/sources/k8s-audit", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"a","stage":"ResponseComplete","verb":"get","requestURI":"/","user":{"username":"u"},"stageTimestamp":"2024-01-01T00:00:00Z"}]}`, adminToken, 400, "BadRequest", ""},
	} {
		status, _, answer := call(t, s, "POST", tc.path, "application/json", []byte(tc.body), bearer(tc.token))
		msg, _ := answer["message"].(string)
		if status != tc.status || answer["kind"] != "Status" || answer["apiVersion"] != "v1" || answer["status"] != "Failure" ||
			answer["reason"] != tc.reason || answer["code"] != float64(tc.status) || !strings.Contains(msg, fmt.Sprint(answer["error_msg"])) ||
			(tc.code != "" && answer["error_code"] != tc.code) {
			t.Errorf("%s: %d %v, want a %d Status with reason %s and the error_msg in its message", tc.name, status, answer, tc.status, tc.reason)
		}
	}
	if _, _, answer := call(t, s, "POST", "/v1/sources/cts", "application/json", []byte("{"), bearer(adminToken)); answer["kind"] != nil {
		t.Errorf("a CTS endpoint error is a Kubernetes Status: %v", answer)
	}
}
