package router_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/bus"
)

// TestPlusJSONDataStoredAsData: a binary-mode body of a vendor +json type
// is stored as the JSON value it is ("data": {...}, not data_base64), a
// rule's pattern reads inside it, and a structured-mode webhook receives it
// as a JSON value; a quoted-string header value is stored unescaped.
func TestPlusJSONDataStoredAsData(t *testing.T) {
	hook := newWebhook(t, nil)
	s := start(t, t.TempDir(), nil, writeRules(t, fmt.Sprintf(`name: vendor-json
pattern:
  data: {eventName: ["DeleteCluster"]}
targets:
  - id: hook
    webhook: {url: %q, format: cloudevents-structured}
`, hook.URL)))
	body := `{"eventName": "DeleteCluster", "n": [1, 2.50]}`
	header := http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"vnd-1"}, "Ce-Source": {"/vendor"},
		"Ce-Type": {"com.example.audit"}, "Ce-Subject": {`"cluster \"cls-1\""`}}
	if status, answer := post(t, s, "application/vnd.example.audit+json", []byte(body), header); status != http.StatusAccepted {
		t.Fatalf("POST: %d %v", status, answer)
	}
	settled(t, s)
	msg, err := streamOf(t, s, bus.StreamName).GetLastMsgForSubject(context.Background(), bus.SubjectPrefix+".default._.com_example_audit.DeleteCluster")
	if err != nil {
		t.Fatal(err)
	}
	stored := string(msg.Data)
	if !strings.Contains(stored, `"data":`+body) || strings.Contains(stored, "data_base64") || !strings.Contains(stored, `"subject":"cluster \"cls-1\""`) {
		t.Errorf("stored %s, want data as the JSON value sent and the subject unquoted", stored)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.got) != 1 {
		t.Fatalf("the rule matched %d times, want once", len(hook.got))
	}
	r := hook.got[0]
	var sent map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &sent); err != nil || string(sent["id"]) != `"vnd-1"` || string(sent["data"]) != body || sent["data_base64"] != nil {
		t.Errorf("webhook got %s (%v), want event vnd-1 with data %s", r.body, err, body)
	}
}
