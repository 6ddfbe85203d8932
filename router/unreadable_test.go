package router_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestUnreadableEventThroughTheAPI: an event another NATS client put on
// the events stream, which the router cannot read, is listed by GET
// /v1/dlq with its reason, and its redrive is a 400 saying why.
func TestUnreadableEventThroughTheAPI(t *testing.T) {
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(newWebhook(t, nil).URL)))
	if err := s.NATS().Publish("auditbus.events.default._._._", []byte("not a cloudevent")); err != nil {
		t.Fatal(err)
	}
	var entry map[string]any
	waitFor(t, "the dead letter of the unreadable event", func() (bool, string) {
		_, _, page := call(t, s, http.MethodGet, "/v1/dlq?bus=default", "", nil, nil)
		entries, _ := page["entries"].([]any)
		if len(entries) != 1 {
			return false, fmt.Sprint(page)
		}
		entry = entries[0].(map[string]any)
		return true, ""
	})
	if entry["reason"] != "unreadable event" || entry["rule"] != "" || entry["target"] != "" ||
		entry["event_text"] != "not a cloudevent" || entry["event_subject"] != "auditbus.events.default._._._" ||
		!strings.Contains(fmt.Sprint(entry["last_error"]), "not a structured CloudEvent") {
		t.Errorf("entry %v", entry)
	}
	asDocumented(t, "README.md", "TestUnreadableEventThroughTheAPI", entry, true)
	body := fmt.Sprintf(`{"ids": [%v]}`, entry["id"])
	status, _, answer := call(t, s, http.MethodPost, "/v1/dlq:redrive", "application/json", []byte(body), nil)
	if status != http.StatusBadRequest || answer["error_code"] != "AB.1008" || !strings.Contains(fmt.Sprint(answer["error_msg"]), "could not read") {
		t.Errorf("redrive: %d %v", status, answer)
	}
}
