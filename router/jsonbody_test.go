package router_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestJSONBodiesRefused: the replay and redrive endpoints read their
// bodies alike: an unknown field, or anything after the JSON object (two
// objects sent at once), is refused with what is wrong, and nothing runs.
func TestJSONBodiesRefused(t *testing.T) {
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule("http://127.0.0.1:1/")))
	for _, c := range []struct{ path, what string }{{"/v1/replays", "replay request"}, {"/v1/dlq:redrive", "redrive request"}} {
		for _, b := range []struct{ body, msg string }{
			{`{"nosuch":1}`, `json: unknown field "nosuch"`},
			{`{} {}`, "data after the JSON value, at byte"},
			{`{}]`, "data after the JSON value, at byte"},
		} {
			status, _, answer := call(t, s, "POST", c.path, "application/json", []byte(b.body), nil)
			msg, _ := answer["error_msg"].(string)
			if status != http.StatusBadRequest || answer["error_code"] != "AB.1001" || !strings.HasPrefix(msg, c.what+": ") || !strings.Contains(msg, b.msg) {
				t.Errorf("%s %s: %d %v, want 400 AB.1001 %q containing %q", c.path, b.body, status, answer, c.what, b.msg)
			}
		}
	}
	if _, _, answer := call(t, s, "GET", "/v1/replays", "", nil, nil); len(answer["replays"].([]any)) != 0 {
		t.Errorf("refused requests started replays: %v", answer)
	}
}
