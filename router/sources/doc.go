// Package sources turns cloud audit records into normalized CloudEvents:
// Tencent CloudAudit records and EventBridge envelopes, Huawei CTS traces,
// and Kubernetes audit events (audit.k8s.io/v1, ACP and HSS shapes).
//
// Every adapter parses its records into an Envelope (the CloudEvents
// attributes in the cloud's own event-bus convention, plus the audit
// extensions principal, action, resourcetype, resourcename, outcome,
// sourceip, kind, tracerating, apiversion and code, which let one rule serve
// every cloud), and Build turns envelopes into events whose data is the record
// itself, with secrets redacted before anything is stored. A batch is all
// or nothing: Build's callers return every event of a request, or a
// *BatchError naming every bad record.
package sources
