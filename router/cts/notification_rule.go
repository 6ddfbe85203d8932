package cts

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RulePrefix starts the name of every notification's rule: the rule of
// notification ID is RulePrefix + ID, on bus NotificationBus. The API
// refuses to write rules of that name (they belong to /v3 notifications).
const (
	RulePrefix      = "cts-notification-"
	NotificationBus = "default"
	// TargetID is the id of a notification rule's one target.
	TargetID = "notify"
	// header starts a notification rule's document: the notification
	// itself, as JSON, on the first line, so the rules bucket holds the
	// one copy every replica reads it from.
	header = "# cts-notification: "
)

// RuleName is the rule of notification id.
func RuleName(id string) string { return RulePrefix + id }

// Groups resolves a user group to its users (the topics file's directory).
type Groups func(group string) []string

// RuleDocument compiles n to its rule document (see router/README.md,
// "Key-operation notifications"): operations to a pattern, users and the
// filter to the condition, status to enabled, topic_id to a topic
// target. Groups are resolved through groups now. The first line carries
// n itself (FromRuleDocument reads it back).
func (n Notification) RuleDocument(groups Groups) []byte {
	doc := map[string]any{
		"name": RuleName(n.NotificationID), "bus": NotificationBus,
		"description": "CTS key-operation notification " + n.NotificationName,
		"enabled":     n.Status == StatusEnabled && n.TopicID != "",
	}
	if n.OperationType == OperationCustomized {
		doc["pattern"] = operationsPattern(n.Operations)
	}
	if cond := joinAND(usersCondition(n.NotifyUserList, groups), filterCondition(n.Filter)); cond != "" {
		doc["condition"] = cond
	}
	target := map[string]any{"id": TargetID, "log": map[string]any{}}
	if n.TopicID != "" {
		target = map[string]any{"id": TargetID, "topic": map[string]any{"urn": n.TopicID}}
	}
	doc["targets"] = []any{target}
	self, _ := json.Marshal(n)
	body, _ := json.MarshalIndent(doc, "", "  ")
	return append([]byte(header+string(self)+"\n"), body...)
}

// FromRuleDocument reads back the notification a rule document was
// compiled from; ok is false for any other document.
func FromRuleDocument(doc []byte) (n Notification, ok bool) {
	line, _, _ := bytes.Cut(doc, []byte("\n"))
	raw, found := bytes.CutPrefix(line, []byte(header))
	if !found || json.Unmarshal(raw, &n) != nil {
		return Notification{}, false
	}
	return n, true
}

// operationsPattern is an OR over the operations of (service, resource
// type, event name), each over the audit extensions of every source,
// under a top-level action clause (every trace name), which the rule
// index keys the rule on.
func operationsPattern(ops []Operation) map[string]any {
	var all []string
	or := make([]any, 0, len(ops))
	for _, op := range ops {
		names := nameVariants(op.TraceNames)
		all = append(all, names...)
		or = append(or, map[string]any{"source": Sources(op.ServiceType),
			"resourcetype": nameVariants([]string{op.ResourceType, strings.ToLower(op.ResourceType)}), "action": names})
	}
	slices.Sort(all)
	return map[string]any{"action": slices.Compact(all), "$or": or}
}

// Sources are the event sources of service_type s: CTS's HC.<S>, Tencent
// CloudAudit's <s>.cloud.tencent, Kubernetes audit's <s>.k8s (and k8s for
// the service K8S).
func Sources(s string) []string {
	low := strings.ToLower(s)
	out := []string{"HC." + strings.ToUpper(s), low + ".cloud.tencent", low + ".k8s"}
	if low == "k8s" {
		out = append(out, "k8s")
	}
	return out
}

// nameVariants are the names with their first letter in either case
// (CTS's deleteCluster is Tencent's DeleteCluster), sorted, once each.
func nameVariants(names []string) []string {
	var out []string
	for _, n := range names {
		r, size := utf8.DecodeRuneInString(n)
		out = append(out, n, string(unicode.ToUpper(r))+n[size:], string(unicode.ToLower(r))+n[size:])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// usersCondition: for each entry of the list, the principal is one of
// its users, or, when its user_list is empty, a member of its group in
// the directory, or the event carries the group (Kubernetes user.groups).
func usersCondition(list []NotificationUsers, groups Groups) string {
	if len(list) == 0 {
		return ""
	}
	var users, whole []string
	for _, u := range list {
		if len(u.UserList) > 0 {
			users = append(users, u.UserList...)
			continue
		}
		whole = append(whole, u.UserGroup)
		if groups != nil {
			users = append(users, groups(u.UserGroup)...)
		}
	}
	slices.Sort(users)
	cond := "principal in " + quoteList(slices.Compact(users))
	if len(whole) > 0 {
		slices.Sort(whole)
		cond += " || any(data?.user?.groups ?? [], # in " + quoteList(slices.Compact(whole)) + ")"
	}
	return cond
}

// filterAttrs are the expressions a filter key reads, each the value
// ToTrace renders in that field for an event of any source (a filter
// tests the trace subscribers receive): the audit extensions every source
// sets, for resource_id the record's own field (CTS resource_id, Tencent
// resourceId, Kubernetes objectRef.uid), and for trace_rating the rating
// index.Rating gives (ratingExpr). TestNotificationFilterIsTheTrace
// checks each key against ToTrace for every source.
var filterAttrs = map[string]string{
	"api_version": "apiversion", "code": "code", "trace_rating": ratingExpr, "trace_type": "kind",
	"resource_name": "resourcename", "resource_id": "(data?.resource_id ?? data?.resourceId ?? data?.objectRef?.uid)",
}

// ratingExpr is index.Rating as a rule expression: only CTS events carry
// tracerating; the others are rated warning on failure, else normal.
const ratingExpr = `((tracerating ?? "") != "" ? tracerating : (outcome == "failure" ? "warning" : "normal"))`

// filterCondition is the filter as an expression, "" when it is off.
func filterCondition(f *Filter) string {
	if f == nil || !f.IsSupportFilter || len(f.Rule) == 0 {
		return ""
	}
	parts := make([]string, 0, len(f.Rule))
	for _, s := range f.Rule {
		fr, _ := parseFilterRule(s) // checked when parsed
		op := "=="
		if fr.op == "!=" {
			op = "!="
		}
		parts = append(parts, filterAttrs[fr.key]+" "+op+" "+quote(fr.value))
	}
	sep := " && "
	if f.Condition == ConditionOR {
		sep = " || "
	}
	return strings.Join(parts, sep)
}

func joinAND(conds ...string) string {
	var parts []string
	for _, c := range conds {
		if c != "" {
			parts = append(parts, "("+c+")")
		}
	}
	return strings.Join(parts, " && ")
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
