package router_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestInputShapesThePayload checks the input transformer end to end: a
// map input is delivered as JSON, a string input as text, and a condition
// filters first (the root call is not delivered).
func TestInputShapesThePayload(t *testing.T) {
	asJSON, asText := newWebhook(t, nil), newWebhook(t, nil)
	s := start(t, t.TempDir(), nil, writeRules(t, fmt.Sprintf(`name: deletes
pattern:
  data: {eventName: ["DeleteCluster"]}
condition: data.userIdentity.type != "root"
targets:
  - id: as-json
    webhook: {url: %q, format: raw}
    input: '{"cluster": subject, "code": data.errorCode, "who": data.userIdentity.principalId}'
  - id: as-text
    webhook: {url: %q, format: raw}
    input: '"deleted " + subject'
`, asJSON.URL, asText.URL)))

	sendEvent(t, s, "by-cam-user", "DeleteCluster")
	root := auditEvent(t, "by-root", "DeleteCluster", 0)
	if err := root.SetData("application/json", map[string]any{"eventName": "DeleteCluster", "userIdentity": map[string]any{"type": "root"}}); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(root)
	if status, answer := post(t, s, "application/cloudevents+json", body, nil); status != http.StatusAccepted {
		t.Fatalf("post: %d %v", status, answer)
	}
	settled(t, s)

	const subject = "qcs::tke:ap-guangzhou:uin/100000000011:cluster/cls-8x2k9d1f"
	js, text := asJSON.received(), asText.received()
	if len(js) != 1 || len(text) != 1 {
		t.Fatalf("deliveries: json %d, text %d; want 1 each (the root call filtered out)", len(js), len(text))
	}
	var got map[string]any
	if err := json.Unmarshal(js[0].body, &got); err != nil {
		t.Fatalf("JSON input body %q: %v", js[0].body, err)
	}
	if got["cluster"] != subject || got["code"] != 0.0 || got["who"] != "100000000011" ||
		js[0].header.Get("Content-Type") != "application/json" {
		t.Errorf("JSON input delivered %s (%s)", js[0].body, js[0].header.Get("Content-Type"))
	}
	if string(text[0].body) != "deleted "+subject || text[0].header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("text input delivered %q (%s)", text[0].body, text[0].header.Get("Content-Type"))
	}
}

// received returns a copy of the requests accepted so far.
func (w *webhook) received() []received {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]received(nil), w.got...)
}
