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
// The package owns the CTS shapes only; router/api routes the requests,
// authorizes them (cts:trace:list) and decides which buses they may read.
package cts
