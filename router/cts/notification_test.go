package cts

import (
	"encoding/json"
	"strings"
	"testing"
)

func known(urn string) bool {
	return urn == "urn:smn:r1:p1:security" || urn == "urn:fss:r1:p1:function:default:f:latest"
}

// valid is a create body every field of which is set; each case changes one.
func valid() map[string]any {
	return map[string]any{"notification_name": "n1", "operation_type": "customized",
		"operations":       []any{map[string]any{"service_type": "CTS", "resource_type": "tracker", "trace_names": []any{"createTracker"}}},
		"notify_user_list": []any{map[string]any{"user_group": "admin", "user_list": []any{"u1"}}},
		"topic_id":         "urn:smn:r1:p1:security",
		"filter":           map[string]any{"condition": "OR", "is_support_filter": true, "rule": []any{"code != 200", "api_version = v1.0"}}}
}

func users(groups, per int) []any {
	var out []any
	for g := range groups {
		var us []any
		for u := range per {
			us = append(us, "u"+strings.Repeat("x", g)+string(rune('a'+u%26))+strings.Repeat("y", u/26))
		}
		out = append(out, map[string]any{"user_group": "g" + strings.Repeat("x", g), "user_list": us})
	}
	return out
}

// TestNotificationFieldValidation: each field alone, at and past the
// seed's limits and enumerations, with the code it answers.
func TestNotificationFieldValidation(t *testing.T) {
	for _, c := range []struct {
		name   string
		update bool
		set    func(m map[string]any)
		code   string // "" valid
	}{
		{"all fields", false, func(map[string]any) {}, ""},
		{"empty body", false, nil, CodeBody},
		{"unknown field", false, func(m map[string]any) { m["color"] = "red" }, CodeBody},
		{"name missing", false, func(m map[string]any) { delete(m, "notification_name") }, CodeBody},
		{"name too long", false, func(m map[string]any) { m["notification_name"] = strings.Repeat("n", 65) }, CodeBody},
		{"name 64", false, func(m map[string]any) { m["notification_name"] = strings.Repeat("n", 64) }, ""},
		{"operation_type missing", false, func(m map[string]any) { delete(m, "operation_type") }, CodeBody},
		{"operation_type other", false, func(m map[string]any) { m["operation_type"] = "partial" }, CodeBody},
		{"complete without operations", false, func(m map[string]any) { m["operation_type"] = "complete"; delete(m, "operations") }, ""},
		{"complete with operations", false, func(m map[string]any) { m["operation_type"] = "complete" }, CodeBody},
		{"customized without operations", false, func(m map[string]any) { delete(m, "operations") }, CodeBody},
		{"service_type empty", false, func(m map[string]any) {
			m["operations"] = []any{map[string]any{"service_type": "", "resource_type": "t", "trace_names": []any{"x"}}}
		}, CodeBody},
		{"resource_type missing", false, func(m map[string]any) {
			m["operations"] = []any{map[string]any{"service_type": "ECS", "trace_names": []any{"x"}}}
		}, CodeBody},
		{"trace_names empty", false, func(m map[string]any) {
			m["operations"] = []any{map[string]any{"service_type": "ECS", "resource_type": "t", "trace_names": []any{}}}
		}, CodeBody},
		{"10 groups", false, func(m map[string]any) { m["notify_user_list"] = users(10, 5) }, ""},
		{"11 groups", false, func(m map[string]any) { m["notify_user_list"] = users(11, 1) }, CodeBody},
		{"50 users", false, func(m map[string]any) { m["notify_user_list"] = users(2, 25) }, ""},
		{"51 users", false, func(m map[string]any) { m["notify_user_list"] = users(3, 17) }, CodeBody},
		{"user_group empty", false, func(m map[string]any) {
			m["notify_user_list"] = []any{map[string]any{"user_group": "", "user_list": []any{}}}
		}, CodeBody},
		{"user_list missing", false, func(m map[string]any) { m["notify_user_list"] = []any{map[string]any{"user_group": "g"}} }, CodeBody},
		{"topic_id absent", false, func(m map[string]any) { delete(m, "topic_id") }, ""},
		{"topic_id not a urn", false, func(m map[string]any) { m["topic_id"] = "security" }, CodeBody},
		{"topic_id unknown", false, func(m map[string]any) { m["topic_id"] = "urn:smn:r1:p1:nope" }, CodeUnknownTopic},
		{"topic_id function", false, func(m map[string]any) { m["topic_id"] = "urn:fss:r1:p1:function:default:f:latest" }, ""},
		{"filter condition missing", false, func(m map[string]any) { delete(m["filter"].(map[string]any), "condition") }, CodeBody},
		{"filter condition other", false, func(m map[string]any) { m["filter"].(map[string]any)["condition"] = "XOR" }, CodeBody},
		{"filter is_support_filter missing", false, func(m map[string]any) { delete(m["filter"].(map[string]any), "is_support_filter") }, CodeBody},
		{"filter rule missing", false, func(m map[string]any) { delete(m["filter"].(map[string]any), "rule") }, CodeBody},
		{"filter rule bad key", false, func(m map[string]any) { m["filter"].(map[string]any)["rule"] = []any{"user = x"} }, CodeBody},
		{"filter rule bad op", false, func(m map[string]any) { m["filter"].(map[string]any)["rule"] = []any{"code > 200"} }, CodeBody},
		{"api_version bad", false, func(m map[string]any) { m["filter"].(map[string]any)["rule"] = []any{"api_version = v 1"} }, CodeBody},
		{"api_version 65", false, func(m map[string]any) {
			m["filter"].(map[string]any)["rule"] = []any{"api_version = " + strings.Repeat("v", 65)}
		}, CodeBody},
		{"code 256", false, func(m map[string]any) {
			m["filter"].(map[string]any)["rule"] = []any{"code = " + strings.Repeat("1", 256)}
		}, ""},
		{"code 257", false, func(m map[string]any) {
			m["filter"].(map[string]any)["rule"] = []any{"code = " + strings.Repeat("1", 257)}
		}, CodeBody},
		{"code empty", false, func(m map[string]any) { m["filter"].(map[string]any)["rule"] = []any{"code = "} }, CodeBody},
		{"trace_rating other", false, func(m map[string]any) { m["filter"].(map[string]any)["rule"] = []any{"trace_rating = high"} }, CodeBody},
		{"trace_rating incident", false, func(m map[string]any) { m["filter"].(map[string]any)["rule"] = []any{"trace_rating = incident"} }, ""},
		{"trace_type other", false, func(m map[string]any) { m["filter"].(map[string]any)["rule"] = []any{"trace_type = ConsoleCall"} }, CodeBody},
		{"resource_id 350", false, func(m map[string]any) {
			m["filter"].(map[string]any)["rule"] = []any{"resource_id = " + strings.Repeat("r", 350)}
		}, ""},
		{"resource_id 351", false, func(m map[string]any) {
			m["filter"].(map[string]any)["rule"] = []any{"resource_id = " + strings.Repeat("r", 351)}
		}, CodeBody},
		{"resource_name 257", false, func(m map[string]any) {
			m["filter"].(map[string]any)["rule"] = []any{"resource_name != " + strings.Repeat("r", 257)}
		}, CodeBody},
		{"status in a create", false, func(m map[string]any) { m["status"] = "enabled" }, CodeBody},
		{"update", true, func(m map[string]any) { m["notification_id"], m["status"] = "x", "disabled" }, ""},
		{"update without id", true, func(m map[string]any) { m["status"] = "enabled" }, CodeBody},
		{"update without status", true, func(m map[string]any) { m["notification_id"] = "x" }, CodeBody},
		{"update status other", true, func(m map[string]any) { m["notification_id"], m["status"] = "x", "paused" }, CodeStatus},
		{"update enabled without topic", true, func(m map[string]any) {
			m["notification_id"], m["status"] = "x", "enabled"
			delete(m, "topic_id")
		}, CodeBody},
		{"update disabled without topic", true, func(m map[string]any) {
			m["notification_id"], m["status"] = "x", "disabled"
			delete(m, "topic_id")
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.set != nil {
				m := valid()
				c.set(m)
				body, _ = json.Marshal(m)
			}
			_, err := ParseNotification(body, c.update, known)
			switch {
			case c.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.code != "" && err == nil:
				t.Fatalf("accepted, want %s", c.code)
			case c.code != "" && (err.Code != c.code || err.Status != 400 || err.Msg == ""):
				t.Fatalf("got %+v, want 400 %s", err, c.code)
			}
		})
	}
}
