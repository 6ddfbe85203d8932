package router_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/ruleset"
)

// apiRule is an API rule document without a name: DeleteCluster calls go
// to url.
func apiRule(url string) string {
	return fmt.Sprintf(`description: from the API
pattern:
  data:
    eventName: ["DeleteCluster"]
targets:
  - id: hook
    webhook: {url: %q}
`, url)
}

// fileRule is a rule file defining a rule of that name with a log target.
func fileRule(name string) string {
	return fmt.Sprintf("name: %s\npattern:\n  data:\n    eventName: [Nothing]\ntargets:\n  - id: out\n    log: {}\n", name)
}

// TestAPIRulesReachEveryReplica stores a rule through one server and
// routes events with it through another on the same NATS; updating with
// If-Match and deleting work the same way.
func TestAPIRulesReachEveryReplica(t *testing.T) {
	t.Parallel()
	external := bustest.Start(t, "")
	hook := newWebhook(t, nil)
	files := writeRules(t, fileRule("from-file"))
	useExternal := func(c *router.Config) { c.NATSURL = external.NS.ClientURL() }
	a := start(t, t.TempDir(), useExternal, files)
	b := start(t, t.TempDir(), useExternal, files)

	status, header, body := call(t, a, http.MethodPut, "/v1/rules/api-deleted", "application/yaml", []byte(apiRule(hook.URL)), nil)
	origin, _ := body["origin"].(map[string]any)
	if status != http.StatusCreated || body["name"] != "api-deleted" || origin["kind"] != "api" || !body["running"].(bool) {
		t.Fatalf("PUT: %d %v", status, body)
	}
	etag := header.Get("ETag")
	if etag != fmt.Sprintf(`"%v"`, body["revision"]) {
		t.Errorf("ETag %s, revision %v", etag, body["revision"])
	}
	waitFor(t, "the other replica runs the API rule", func() (bool, string) {
		status, _, body := call(t, b, http.MethodGet, "/v1/rules/api-deleted", "", nil, nil)
		return status == http.StatusOK && body["running"] == true, fmt.Sprint(status, body)
	})
	if err := a.Stop(context.Background()); err != nil { // from now on only b routes
		t.Fatal(err)
	}
	sendEvent(t, b, "api-1", "DeleteCluster")
	settled(t, b)
	if hook.ids()["api-1"] != 1 {
		t.Fatalf("the replica that did not store the rule did not deliver with it: %v", hook.ids())
	}

	_, _, list := call(t, b, http.MethodGet, "/v1/rules", "", nil, nil)
	if got := listed(list); !slices.Equal(got, []string{"default/api-deleted:api", "default/from-file:file"}) {
		t.Errorf("GET /v1/rules lists %v", got)
	}
	if strings.Contains(fmt.Sprint(list), hook.URL) {
		t.Errorf("GET /v1/rules shows target settings: %v", list)
	}

	stale := http.Header{"If-Match": {fmt.Sprintf(`"%v"`, body["revision"].(float64)+100)}}
	if status, _, body := call(t, b, http.MethodPut, "/v1/rules/api-deleted", "application/json", []byte(`{"targets": [{"id": "out", "log": {}}]}`), stale); status != http.StatusPreconditionFailed || body["error_code"] != "AB.4120" {
		t.Errorf("PUT with a stale If-Match: %d %v", status, body)
	}
	status, header, body = call(t, b, http.MethodPut, "/v1/rules/api-deleted", "application/json", []byte(`{"targets": [{"id": "out", "log": {}}]}`), http.Header{"If-Match": {etag}})
	if status != http.StatusOK || header.Get("ETag") == etag || body["description"] != nil {
		t.Errorf("PUT with the current If-Match: %d %s %v", status, header.Get("ETag"), body)
	}

	if status, _, body := call(t, b, http.MethodDelete, "/v1/rules/api-deleted", "", nil, nil); status != http.StatusNoContent || body != nil {
		t.Fatalf("DELETE: %d %v", status, body)
	}
	if status, _, body := call(t, b, http.MethodGet, "/v1/rules/api-deleted", "", nil, nil); status != http.StatusNotFound || body["error_code"] != "AB.4041" {
		t.Errorf("GET after DELETE: %d %v", status, body)
	}
	if status, _, _ := call(t, b, http.MethodDelete, "/v1/rules/api-deleted", "", nil, nil); status != http.StatusNotFound {
		t.Errorf("second DELETE: %d, want 404", status)
	}
	sendEvent(t, b, "api-2", "DeleteCluster")
	settled(t, b)
	if hook.ids()["api-2"] != 0 {
		t.Errorf("a deleted API rule still delivered: %v", hook.ids())
	}
}

// listed renders GET /v1/rules as "bus/name:origin" entries.
func listed(body map[string]any) []string {
	var out []string
	items, _ := body["rules"].([]any)
	for _, it := range items {
		r := it.(map[string]any)
		out = append(out, fmt.Sprintf("%v/%v:%v", r["bus"], r["name"], r["origin"].(map[string]any)["kind"]))
	}
	return out
}

// TestAPIRulesRefuseBadWrites: every refused write answers its code and
// stores nothing.
func TestAPIRulesRefuseBadWrites(t *testing.T) {
	t.Parallel()
	s := start(t, t.TempDir(), func(c *router.Config) { c.MaxBodyBytes = 4096 }, writeRules(t, fileRule("from-file")))
	tests := []struct {
		name, method, path, contentType, body string
		header                                http.Header
		status                                int
		code                                  string
		fragment                              string // of error_msg, or of the first errors[] entry as "line:col: msg"
	}{
		{"invalid rule lists every problem", http.MethodPut, "/v1/rules/bad", "application/yaml",
			"pattern:\n  data: 3\ntargets:\n  - id: out\n    lgo: {}\n", nil, 400, "AB.1007", "2:9: "},
		{"environment reference refused", http.MethodPut, "/v1/rules/env", "application/yaml",
			"targets:\n  - id: out\n    webhook: {url: 'https://x.example/${PATH}'}\n", nil, 400, "AB.1007",
			"3:20: environment references (${NAME}) are not expanded"},
		{"name differs from the path", http.MethodPut, "/v1/rules/one", "application/json",
			`{"name": "two", "targets": [{"id": "out", "log": {}}]}`, nil, 400, "AB.1007", `1:10: name "two" differs`},
		{"name of a rule file", http.MethodPut, "/v1/rules/from-file", "application/yaml",
			"targets: [{id: out, log: {}}]\n", nil, 409, "AB.4090", "change it there"},
		{"If-Match on a rule that does not exist", http.MethodPut, "/v1/rules/new", "application/yaml",
			"targets: [{id: out, log: {}}]\n", http.Header{"If-Match": {`"7"`}}, 412, "AB.4120", "not at revision 7"},
		{"not YAML or JSON", http.MethodPut, "/v1/rules/form", "application/x-www-form-urlencoded",
			"targets=1", nil, 415, "AB.1004", "application/yaml"},
		{"too large", http.MethodPut, "/v1/rules/big", "application/yaml",
			"description: " + strings.Repeat("x", 5000) + "\n", nil, 413, "AB.1005", "4096"},
		{"bad bus", http.MethodPut, "/v1/rules/x?bus=Bad", "application/yaml",
			"targets: [{id: out, log: {}}]\n", nil, 400, "AB.1006", "bus"},
		{"delete a file rule", http.MethodDelete, "/v1/rules/from-file", "", "", nil, 409, "AB.4090", "defined at"},
		{"delete an unknown rule", http.MethodDelete, "/v1/rules/nope", "", "", nil, 404, "AB.4041", "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := call(t, s, tt.method, tt.path, tt.contentType, []byte(tt.body), tt.header)
			if status != tt.status || body["error_code"] != tt.code {
				t.Fatalf("%d %v, want %d %s", status, body, tt.status, tt.code)
			}
			got := fmt.Sprint(body["error_msg"])
			if errs, ok := body["errors"].([]any); ok && len(errs) > 0 {
				e := errs[0].(map[string]any)
				got = fmt.Sprintf("%v:%v: %v", e["line"], e["col"], e["msg"])
			}
			if !strings.Contains(got, tt.fragment) {
				t.Errorf("got %q, want it to contain %q", got, tt.fragment)
			}
			if strings.Contains(fmt.Sprint(body), os.Getenv("PATH")) {
				t.Errorf("the answer leaks the environment: %v", body)
			}
		})
	}
	if keys := bucketKeys(t, s); len(keys) != 0 {
		t.Errorf("refused writes stored %v", keys)
	}
}

// bucketKeys lists the keys of the API rules bucket.
func bucketKeys(t *testing.T, s *router.Server) []string {
	t.Helper()
	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), ruleset.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(context.Background())
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestAPIRuleSecretsAreMasked: GET shows an API rule's document with the
// secrets of its targets masked, and the revision as ETag.
func TestAPIRuleSecretsAreMasked(t *testing.T) {
	t.Parallel()
	s := start(t, t.TempDir(), nil)
	doc := `{"bus": "prod", "targets": [{"id": "hook", "webhook": {
	  "url": "https://user:pa55@hooks.example/x?token=t0k3n&team=ops",
	  "headers": {"Authorization": "Bearer s3cret", "X-Api-Key": "k3y", "X-Team": "ops"}}}]}`
	if status, _, body := call(t, s, http.MethodPut, "/v1/rules/masked?bus=prod", "application/json", []byte(doc), nil); status != http.StatusCreated {
		t.Fatalf("PUT: %d %v", status, body)
	}
	status, header, body := call(t, s, http.MethodGet, "/v1/rules/masked?bus=prod", "", nil, nil)
	if status != http.StatusOK || header.Get("ETag") != fmt.Sprintf(`"%v"`, body["revision"]) {
		t.Fatalf("GET: %d ETag %s %v", status, header.Get("ETag"), body)
	}
	shown := fmt.Sprint(body)
	for _, secret := range []string{"pa55", "t0k3n", "s3cret", "k3y"} {
		if strings.Contains(shown, secret) {
			t.Errorf("GET shows secret %q: %s", secret, shown)
		}
	}
	hook := body["document"].(map[string]any)["targets"].([]any)[0].(map[string]any)["webhook"].(map[string]any)
	headers := hook["headers"].(map[string]any)
	if headers["Authorization"] != "***" || headers["X-Team"] != "ops" || hook["url"] != "https://user:***@hooks.example/x?team=***&token=***" {
		t.Errorf("masked webhook settings: %v", hook)
	}
}
