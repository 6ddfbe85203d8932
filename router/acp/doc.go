// Package acp is auditbus's Alauda Container Platform face: the
// Kubernetes audit query (GET /v1/kubernetes-audits, ACP API "查询审计")
// answered from the audit index, with ACP's parameters and its
// audit.k8s.io/v1 EventList answer (capitalized keys, total_items and
// total_page), so ACP's tools read auditbus as they read ACP.
//
// Every stored Kubernetes audit event is answered, whatever its source: a
// kube-apiserver webhook event, an ACP or HSS record posted to the
// k8s-audit source, or a CloudEvent of a K8sAudit type; router/README.md,
// "Kubernetes audit queries", has the mapping.
//
// The package owns the ACP shapes only; router/api routes the requests,
// authorizes them (audit:read), decides which buses they may read, and
// writes errors as Kubernetes Status objects, as ACP's apiserver does.
package acp
