package index

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
)

// The extraction as it was before the index read events' bytes directly
// (extract.go): every stored event decoded with sdk-go, its data decoded
// again by encoding/json into the structs below. It is the reference the
// differential tests and FuzzExtract hold the new extraction to; nothing
// else uses it.

// refFromEvent is fromEvent as it was.
func refFromEvent(seq uint64, busName string, data []byte, stored time.Time) (Record, error) {
	var e event.Event
	if err := cejson.Unmarshal(data, &e); err != nil {
		return Record{}, fmt.Errorf("%w: seq %d: %v", ErrUndecodable, seq, err)
	}
	product, _ := bus.ProductKind(e.Type())
	// Extensions copies the map on every call: once per event, not per field.
	exts := e.Extensions()
	ext := func(name string) string {
		v, _ := exts[name].(string)
		return v
	}
	r := Record{
		Seq: seq, Bus: busName, Time: e.Time(), ID: e.ID(), Source: e.Source(), Type: e.Type(),
		Subject: e.Subject(), Kind: ext("kind"), Product: product, Action: bus.Action(&e),
		Principal: ext("principal"), ResourceType: ext("resourcetype"), ResourceName: ext("resourcename"),
		Outcome: ext("outcome"), Code: ext("code"), SourceIP: ext("sourceip"), Region: ext("region"),
		Cluster: ext("cluster"), TraceRating: ext("tracerating"), Event: data,
	}
	refK8sFields(&r, &e)
	r.TraceRating = Rating(r.TraceRating, r.Outcome)
	if r.Time.IsZero() {
		r.Time = stored
	}
	r.Time = r.Time.UTC()
	r.ResourceID, r.RequestID = refDataIDs(&e)
	return r, nil
}

// refIDFields are the record fields each source names its resource id and
// request id by; CTS, Tencent CloudAudit, and Kubernetes audit.
type refIDFields struct {
	CTSResourceID string `json:"resource_id"`
	CTSRequestID  string `json:"request_id"`
	TCResourceID  string `json:"resourceId"`
	TCRequestID   string `json:"requestID"`
	K8sAuditID    string `json:"auditID"`
	ObjectRef     *struct {
		UID string `json:"uid"`
	} `json:"objectRef"`
}

// refDataIDs reads the resource id and request id from JSON object data; a
// field that is not a string, or data that is not an object, gives "".
func refDataIDs(e *event.Event) (resourceID, requestID string) {
	d := e.Data()
	if len(d) == 0 || d[0] != '{' {
		return "", ""
	}
	var f refIDFields
	// A field of another type is skipped and the rest still read, so the
	// error is no reason to give up the others.
	_ = json.Unmarshal(d, &f)
	resourceID = first(f.CTSResourceID, f.TCResourceID)
	if resourceID == "" && f.ObjectRef != nil {
		resourceID = f.ObjectRef.UID
	}
	return resourceID, first(f.CTSRequestID, f.TCRequestID, f.K8sAuditID)
}

// refK8sData is what the index reads from a Kubernetes audit event's data:
// an audit.k8s.io/v1 Event (ACP's capitalized keys match too, as
// encoding/json matches keys case-insensitively), or an HSS cluster audit
// log record around one (content).
type refK8sData struct {
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

// refK8sFields fills the Kubernetes fields of r, an event of kind K8sAudit
// (the kind extension, or for a CloudEvent sent as is, its type), so the
// HSS and ACP audit queries find it whatever its source: the k8s-audit
// source sets the audit extensions, and a CloudEvent posted to /v1/events
// with a K8sAudit type has them read from its data where it lacks them.
func refK8sFields(r *Record, e *event.Event) {
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
	var d refK8sData
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
