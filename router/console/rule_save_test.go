package console_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// unknownTopicRule names a topic no one created.
const unknownTopicRule = `name: console-edited
pattern:
  source: ["cloudaudit.tencentcloudapi.com"]
targets:
  - id: alerts
    topic: {urn: "urn:smn:ap-guangzhou:0123456789abcdef0123456789abcdef:nobody-made-it"}
`

// TestSaveRefusedAsTheAPIRefuses: the editor stores only what PUT
// /v1/rules/{name} stores: a topic target naming no topic is refused by
// both, with the same problem, and nothing is stored.
func TestSaveRefusedAsTheAPIRefuses(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	putRule(t, r, "console-edited", apiRule)
	req, _ := http.NewRequest(http.MethodPut, r.URL+"/v1/rules/console-edited", strings.NewReader(unknownTopicRule))
	req.Header.Set("Authorization", "Bearer "+consoletest.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Code   string `json:"error_code"`
		Errors []struct {
			Line, Col int
			Msg       string
		} `json:"errors"`
	}
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(raw.Bytes(), &answer); err != nil || resp.StatusCode != http.StatusBadRequest || len(answer.Errors) != 1 {
		t.Fatalf("the API: %d %s (%v), want 400 with one problem", resp.StatusCode, raw.String(), err)
	}
	p := answer.Errors[0]
	want := strings.ReplaceAll(fmt.Sprintf("%d:%d: %s", p.Line, p.Col, p.Msg), `"`, "&#34;")

	c := client(t)
	csrf := signIn(t, c, r, consoletest.AdminToken)
	edit := r.Console + "rules/default/console-edited/edit"
	status, _, body := call(t, c, http.MethodPost, edit, form, url.Values{"csrf": {csrf}, "document": {unknownTopicRule}}.Encode())
	if status != http.StatusBadRequest || !strings.Contains(body, want) {
		t.Errorf("the console: %d, want 400 with the API's problem %q:\n%s", status, want, body)
	}
	_, _, page := call(t, c, http.MethodGet, edit, nil, "")
	if strings.Contains(page, "nobody-made-it") {
		t.Error("the console stored a rule the API refuses")
	}
	for _, bad := range []struct{ bus, name, want string }{
		{"default", "cts-notification-x", "belong to CTS notifications"},
		{"Default", "console-edited", `bus &#34;Default&#34;: want [a-z0-9][a-z0-9-]{0,63}`},
	} {
		status, _, body := call(t, c, http.MethodPost, r.Console+"rules/"+bad.bus+"/"+bad.name+"/edit", form,
			url.Values{"csrf": {csrf}, "document": {apiRule}}.Encode())
		if status/100 != 4 || !strings.Contains(body, bad.want) {
			t.Errorf("saving %s/%s: %d, want a refusal saying %q:\n%s", bad.bus, bad.name, status, bad.want, body)
		}
	}
}
