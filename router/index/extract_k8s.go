package index

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
)

// k8sKind is the kind of a Kubernetes audit event, the middle segment of
// its type (<product>:K8sAudit:<verb>).
const k8sKind = "K8sAudit"

// k8sData is what the index reads from a Kubernetes audit event's data:
// an audit.k8s.io/v1 Event (ACP's capitalized keys match too, as
// encoding/json matches keys case-insensitively), or an HSS cluster audit
// log record around one (content).
type k8sData struct {
	ClusterID   string  `json:"cluster_id"`
	ClusterName string  `json:"cluster_name"`
	Cluster     string  `json:"cluster"`
	Content     *string `json:"content"`
	Verb        string  `json:"verb"`
	User        *struct {
		Username string `json:"username"`
	} `json:"user"`
	SourceIPs []string `json:"sourceIPs"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code   int    `json:"code"`
		Status string `json:"status"`
	} `json:"responseStatus"`
}

// k8sFields fills the Kubernetes fields of r, an event of kind K8sAudit
// (the kind extension, or for a CloudEvent sent as is, its type), so the
// HSS and ACP audit queries find it whatever its source: the k8s-audit
// source sets the audit extensions, and a CloudEvent posted to /v1/events
// with a K8sAudit type has them read from its data where it lacks them.
func k8sFields(r *Record, e *event.Event) {
	if _, kind := bus.ProductKind(r.Type); r.Kind == "" && kind == k8sKind {
		r.Kind = k8sKind
	}
	if r.Kind != k8sKind {
		return
	}
	ext := func(name string) string {
		v, _ := e.Extensions()[name].(string)
		return v
	}
	r.HostID, r.HostName, r.HostIP = ext("hostid"), ext("hostname"), ext("hostip")
	var d k8sData
	if body := e.Data(); len(body) > 0 && body[0] == '{' {
		// A field of another type is skipped and the rest still read.
		_ = json.Unmarshal(body, &d)
	}
	hssID := d.ClusterID
	if d.Content != nil && strings.HasPrefix(strings.TrimSpace(*d.Content), "{") {
		// An HSS record: the audit event is its content.
		_ = json.Unmarshal([]byte(*d.Content), &d)
	}
	r.Cluster = first(r.Cluster, d.ClusterName, d.Cluster, hssID)
	r.ClusterID = first(hssID, r.Cluster)
	if d.User != nil {
		r.Principal = first(r.Principal, d.User.Username)
	}
	r.Action = first(r.Action, d.Verb)
	if len(d.SourceIPs) > 0 {
		r.SourceIP = first(r.SourceIP, d.SourceIPs[0])
	}
	if ref := d.ObjectRef; ref != nil {
		rt := ref.Resource
		if ref.Subresource != "" && rt != "" {
			rt += "/" + ref.Subresource
		}
		r.ResourceType, r.ResourceName = first(r.ResourceType, rt), first(r.ResourceName, ref.Name)
	}
	if s := d.ResponseStatus; s != nil && r.Outcome == "" {
		r.Outcome = k8sOutcome(s.Code, s.Status)
		if s.Code != 0 {
			r.Code = first(r.Code, strconv.Itoa(s.Code))
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
