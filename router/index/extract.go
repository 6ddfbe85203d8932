package index

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
)

// ErrUndecodable marks a stored message that is not an event auditbus
// wrote; the indexer skips it (and counts it) rather than stall on it.
var ErrUndecodable = fmt.Errorf("undecodable stored event")

// FromMessage builds the Record of the message stored at seq on subject
// with body data. stored is when JetStream stored it, the time of an
// event that has none.
func FromMessage(seq uint64, subject string, data []byte, stored time.Time) (Record, error) {
	rest, ok := strings.CutPrefix(subject, bus.SubjectPrefix+".")
	busName, _, _ := strings.Cut(rest, ".")
	if !ok || busName == "" {
		return Record{}, fmt.Errorf("%w: seq %d: subject %q is not an event subject", ErrUndecodable, seq, subject)
	}
	return fromEvent(seq, busName, data, stored)
}

// fromEvent is FromMessage once the bus is known: what the indexer and
// the backfill of an older index (fillColumns) both derive a row from.
func fromEvent(seq uint64, busName string, data []byte, stored time.Time) (Record, error) {
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
	k8sFields(&r, &e)
	r.TraceRating = Rating(r.TraceRating, r.Outcome)
	if r.Time.IsZero() {
		r.Time = stored
	}
	r.Time = r.Time.UTC()
	r.ResourceID, r.RequestID = dataIDs(&e)
	return r, nil
}

// Rating is the trace rating of an event with extensions tracerating and
// outcome: CTS rates every trace (tracerating); other sources' events are
// rated the way CTS would, warning for a failure, else normal, so a
// rating filter or search finds them too. router/cts compiles a
// notification's trace_rating filter to the same rule (ratingExpr there;
// its tests compare the two).
func Rating(tracerating, outcome string) string {
	switch {
	case tracerating != "":
		return tracerating
	case outcome == "failure":
		return "warning"
	}
	return "normal"
}

// idFields are the record fields each source names its resource id and
// request id by; CTS, Tencent CloudAudit, and Kubernetes audit.
type idFields struct {
	CTSResourceID string `json:"resource_id"`
	CTSRequestID  string `json:"request_id"`
	TCResourceID  string `json:"resourceId"`
	TCRequestID   string `json:"requestID"`
	K8sAuditID    string `json:"auditID"`
	ObjectRef     *struct {
		UID string `json:"uid"`
	} `json:"objectRef"`
}

// dataIDs reads the resource id and request id from JSON object data; a
// field that is not a string, or data that is not an object, gives "".
func dataIDs(e *event.Event) (resourceID, requestID string) {
	d := e.Data()
	if len(d) == 0 || d[0] != '{' {
		return "", ""
	}
	var f idFields
	// A field of another type is skipped and the rest still read, so the
	// error is no reason to give up the others.
	_ = json.Unmarshal(d, &f)
	resourceID = first(f.CTSResourceID, f.TCResourceID)
	if resourceID == "" && f.ObjectRef != nil {
		resourceID = f.ObjectRef.UID
	}
	return resourceID, first(f.CTSRequestID, f.TCRequestID, f.K8sAuditID)
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
