// Package cts is auditbus's Huawei Cloud CTS face: the v3 trace query
// (GET /v3/{project_id}/traces, CTS API reference §4.2.1) answered from the
// audit index, with CTS's parameters, response shape and error codes, so
// the CTS SDKs and tools work against auditbus unchanged.
//
// Every stored event is answered as a trace, whatever its source: a CTS
// trace as it was received (its fields normalized to the types the API
// documents), a Tencent CloudAudit record or a Kubernetes audit event by
// the mapping in router/README.md, "CTS traces".
//
// It also holds the key-operation notifications (CTS API reference §4.1):
// their fields and checks (ParseNotification), and their compilation to a
// rule document (Notification.RuleDocument), which is how they are
// stored and run: a notification is a rule on the rule engine.
//
// The package owns the CTS shapes only; router/api routes the requests,
// authorizes them (cts:trace:list, cts:notification:*), stores
// notifications in the rule store and decides which buses they may read.
package cts
