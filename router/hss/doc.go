// Package hss is auditbus's Huawei Cloud HSS face: the Kubernetes cluster
// audit log query (GET /v5/{project_id}/container/kubernetes/cluster/audit-logs,
// HSS API reference, "Querying the Audit Log List of the Kubernetes
// Cluster") answered from the audit index, with HSS's parameters, response
// shape and error codes, so the HSS SDKs' ListClusterAuditLogs works
// against auditbus unchanged.
//
// Every stored Kubernetes audit event is answered, whatever its source: a
// kube-apiserver webhook event, an HSS record posted to the k8s-audit
// source (its own cluster and host fields), or a CloudEvent of a K8sAudit
// type; router/README.md, "Kubernetes audit queries", has the mapping.
//
// The package owns the HSS shapes only; router/api routes the requests,
// authorizes them (hss:container:list) and decides which buses they may
// read.
package hss
