package cts

import (
	"testing"

	"github.com/auditbus/auditbus/rules"
)

// FuzzParseNotification: any body is refused with a 400 CTS.xxxx error
// saying what is wrong, or gives a notification within the seed's limits
// whose rule document is a valid rule.
func FuzzParseNotification(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"notification_name":"n","operation_type":"complete"}`,
		`{"notification_name":"n","operation_type":"customized","operations":[{"service_type":"CTS","resource_type":"tracker","trace_names":["createTracker"]}],
		  "notify_user_list":[{"user_group":"admin","user_list":["a"]}],"topic_id":"urn:smn:r1:p1:security",
		  "filter":{"condition":"OR","is_support_filter":true,"rule":["code != 200","api_version = v1.0","resource_name = a\"b"]}}`,
		`{"notification_id":"x","notification_name":"n","operation_type":"complete","status":"disabled"}`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, update bool) {
		n, err := ParseNotification(body, update, known)
		if err != nil {
			if err.Status != 400 || len(err.Code) != 8 || err.Msg == "" {
				t.Fatalf("%q: error %+v", body, err)
			}
			return
		}
		if len(n.NotifyUserList) > MaxUserGroups || n.NotificationName == "" ||
			(n.OperationType == OperationCustomized) != (len(n.Operations) > 0) {
			t.Fatalf("%q: accepted %+v", body, n)
		}
		n.NotificationID = "id"
		if _, err := rules.ParseFile("n", n.RuleDocument(nil)); err != nil {
			t.Fatalf("%q: rule document does not parse: %v\n%s", body, err, n.RuleDocument(nil))
		}
		if got, ok := FromRuleDocument(n.RuleDocument(nil)); !ok || got.NotificationName != n.NotificationName {
			t.Fatalf("%q: does not read back: %+v", body, got)
		}
	})
}
