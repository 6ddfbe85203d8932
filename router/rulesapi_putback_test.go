package router_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestAPIRulePutBackKeepsSecrets: a document PUT back as GET showed it,
// masks and all, with If-Match, keeps the stored secrets: the target still
// gets its real token and header. Without If-Match the masks are refused
// (400, nothing stored), never stored in place of the secrets.
func TestAPIRulePutBackKeepsSecrets(t *testing.T) {
	t.Parallel()
	var token, auth string
	hook := newWebhook(t, func(r *http.Request) int {
		token, auth = r.URL.Query().Get("token"), r.Header.Get("Authorization")
		return http.StatusOK
	})
	s := start(t, t.TempDir(), nil)
	doc := fmt.Sprintf(`{"pattern": {"data": {"eventName": ["DeleteCluster"]}}, "targets": [{"id": "hook", "webhook": {
	  "url": %q, "headers": {"Authorization": "Bearer s3cret"}}}]}`, hook.URL+"/x?token=t0k3n")
	if status, _, body := call(t, s, http.MethodPut, "/v1/rules/putback", "application/json", []byte(doc), nil); status != http.StatusCreated {
		t.Fatalf("PUT: %d %v", status, body)
	}
	_, header, body := call(t, s, http.MethodGet, "/v1/rules/putback", "", nil, nil)
	shown, err := json.Marshal(body["document"])
	if err != nil {
		t.Fatal(err)
	}
	status, _, refused := call(t, s, http.MethodPut, "/v1/rules/putback", "application/json", shown, nil)
	if status != http.StatusBadRequest {
		t.Errorf("PUT back without If-Match: %d %v, want 400", status, refused)
	}
	status, header2, body := call(t, s, http.MethodPut, "/v1/rules/putback", "application/json", shown,
		http.Header{"If-Match": {header.Get("ETag")}})
	if status != http.StatusOK {
		t.Fatalf("PUT back with If-Match %s: %d %v", header.Get("ETag"), status, body)
	}
	if header2.Get("ETag") == header.Get("ETag") {
		t.Errorf("PUT back stored nothing new: ETag still %s", header2.Get("ETag"))
	}
	sendEvent(t, s, "putback-1", "DeleteCluster")
	waitFor(t, "the delivery", func() (bool, string) { return hook.ids()["putback-1"] == 1, fmt.Sprint(hook.ids()) })
	if token != "t0k3n" || auth != "Bearer s3cret" {
		t.Errorf("after the PUT back the target got token %q and Authorization %q, want the stored t0k3n and Bearer s3cret", token, auth)
	}
}
