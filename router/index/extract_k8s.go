package index

import (
	"strconv"
	"strings"

	"github.com/auditbus/auditbus/router/bus"
)

// k8sKind is the kind of a Kubernetes audit event, the middle segment of
// its type (<product>:K8sAudit:<verb>).
const k8sKind = "K8sAudit"

// k8sFields fills the Kubernetes fields of r, an event of kind K8sAudit
// (the kind extension, or for a CloudEvent sent as is, its type), so the
// HSS and ACP audit queries find it whatever its source: the k8s-audit
// source sets the audit extensions x, and a CloudEvent posted to
// /v1/events with a K8sAudit type has them read from its data d where it
// lacks them. The data is an audit.k8s.io/v1 Event (ACP's capitalized
// keys match too, as keys match regardless of case), or an HSS cluster
// audit log record around one (content), whose fields are read over the
// record's.
func k8sFields(r *Record, x *extensions, d *dataState) {
	if _, kind := bus.ProductKind(r.Type); r.Kind == "" && kind == k8sKind {
		r.Kind = k8sKind
	}
	if r.Kind != k8sKind {
		return
	}
	r.HostID, r.HostName, r.HostIP = x.hostid, x.hostname, x.hostip
	hssID := d.clusterID
	if d.hasContent && strings.HasPrefix(strings.TrimSpace(d.content), "{") {
		// An HSS record: the audit event is its content, read into the
		// same fields (a content that is not valid JSON changes none).
		if c := []byte(d.content); validJSON(c) {
			d.read(c[skipWS(c, 0):])
		}
	}
	r.Cluster = first(r.Cluster, d.clusterName, d.cluster, hssID)
	r.ClusterID = first(hssID, r.Cluster)
	if d.user.set {
		r.Principal = first(r.Principal, d.user.username)
	}
	r.Action = first(r.Action, d.verb)
	if d.hasSourceIPs {
		r.SourceIP = first(r.SourceIP, d.sourceIP)
	}
	if ref := d.ref; ref.set {
		rt := ref.resource
		if ref.subresource != "" && rt != "" {
			rt += "/" + ref.subresource
		}
		r.ResourceType, r.ResourceName = first(r.ResourceType, rt), first(r.ResourceName, ref.name)
	}
	if s := d.status; s.set && r.Outcome == "" {
		r.Outcome = k8sOutcome(s.code, s.status)
		if s.code != 0 {
			r.Code = first(r.Code, strconv.Itoa(s.code))
		}
	}
	r.Scope = "user"
	if r.Principal == "" || strings.HasPrefix(r.Principal, "system:") {
		// kube-apiserver's own components and service accounts all
		// authenticate as system: users; an event without a user is no
		// person's either.
		r.Scope = "system"
	}
}

// k8sOutcome reads an audit event's response status as the k8s-audit
// source does: the HTTP code, else Success or Failure.
func k8sOutcome(code int, status string) string {
	switch {
	case code >= 100 && code < 400:
		return "success"
	case code >= 400:
		return "failure"
	case status == "Success":
		return "success"
	case status == "Failure":
		return "failure"
	}
	return ""
}
