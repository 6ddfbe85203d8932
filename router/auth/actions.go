package auth

import (
	"slices"
	"strings"
)

// Actions an identity may be granted. Each protected endpoint requires
// exactly one; "*" grants all, and a trailing "*" after a colon grants a
// family ("rules:*", "cts:notification:*").
const (
	ActionEventsPut    = "events:put"    // POST /v1/events
	ActionSourcesPut   = "sources:put"   // POST /v1/sources/*
	ActionRulesRead    = "rules:read"    // GET /v1/rules, GET /v1/rules/{name}
	ActionRulesWrite   = "rules:write"   // PUT and DELETE /v1/rules/{name}
	ActionRulesTest    = "rules:test"    // POST /v1/rules:test
	ActionDLQRead      = "dlq:read"      // GET /v1/dlq
	ActionDLQRedrive   = "dlq:redrive"   // POST /v1/dlq:redrive
	ActionTargetsWrite = "targets:write" // POST /v1/rules/{name}/targets/{id}:enable
	ActionTopicsRead   = "topics:read"
	ActionTopicsWrite  = "topics:write"
	ActionMetricsRead  = "metrics:read"  // GET /metrics
	ActionAuditRead    = "audit:read"    // audit search
	ActionReplaysRead  = "replays:read"  // GET /v1/replays, GET /v1/replays/{id}
	ActionReplaysWrite = "replays:write" // POST /v1/replays, POST /v1/replays/{id}:cancel
	// The CTS-compatible endpoints use CTS's own action names (CTS API
	// reference, permissions).
	ActionCTSTraceList          = "cts:trace:list"
	ActionCTSNotificationCreate = "cts:notification:create"
	ActionCTSNotificationUpdate = "cts:notification:update"
	ActionCTSNotificationDelete = "cts:notification:delete"
	ActionCTSNotificationList   = "cts:notification:list"
	ActionCTSTrackerCreate      = "cts:tracker:create"
	ActionCTSTrackerUpdate      = "cts:tracker:update"
	ActionCTSTrackerDelete      = "cts:tracker:delete"
	ActionCTSTrackerList        = "cts:tracker:list"
	ActionCTSQuotaGet           = "cts:quota:get"
	// The HSS-compatible cluster audit log query uses HSS's action name
	// for its container management APIs.
	ActionHSSContainerList = "hss:container:list"
)

// Actions is every action, for validating auth files and `token create`.
var Actions = []string{
	ActionEventsPut, ActionSourcesPut, ActionRulesRead, ActionRulesWrite, ActionRulesTest,
	ActionDLQRead, ActionDLQRedrive, ActionTargetsWrite, ActionTopicsRead, ActionTopicsWrite,
	ActionMetricsRead, ActionAuditRead, ActionReplaysRead, ActionReplaysWrite,
	ActionCTSTraceList, ActionCTSNotificationCreate, ActionCTSNotificationUpdate,
	ActionCTSNotificationDelete, ActionCTSNotificationList, ActionCTSTrackerCreate,
	ActionCTSTrackerUpdate, ActionCTSTrackerDelete, ActionCTSTrackerList, ActionCTSQuotaGet,
	ActionHSSContainerList,
}

// validGrant reports whether g names an action or a family of them, so a
// typo in an auth file is an error rather than a grant of nothing.
func validGrant(g string) bool {
	if g == "*" || slices.Contains(Actions, g) {
		return true
	}
	prefix, ok := strings.CutSuffix(g, ":*")
	if !ok {
		return false
	}
	return slices.ContainsFunc(Actions, func(a string) bool { return strings.HasPrefix(a, prefix+":") })
}

// grants reports whether grant g covers action a.
func grants(g, a string) bool {
	if g == "*" || g == a {
		return true
	}
	prefix, ok := strings.CutSuffix(g, "*")
	return ok && strings.HasSuffix(prefix, ":") && strings.HasPrefix(a, prefix)
}
