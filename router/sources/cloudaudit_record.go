package sources

import (
	"strings"
	"time"
)

// caRecord is what a CloudAudit record says, in one vocabulary for both
// record shapes.
type caRecord struct {
	eventName, eventSource, eventType, region string
	// id is the record's own id: EventId (event list) or eventId, failing
	// that the call's request id, RequestID or requestID: one API request
	// is one audit record, so it identifies the record as well. Without
	// either, the caller falls back to caContentID.
	id                                  string
	principal, accountID, sourceIP      string
	resourceType, resourceName, outcome string
	apiVersion, code                    string
	time                                time.Time
}

// caNames spells a shape's fields for error messages.
type caNames struct{ eventName, eventSource, eventTime, eventType string }

// caReadRecord reads either record shape; a record without the event-list
// keys is taken for a call's record, so a record of neither shape is told
// what a call's record lacks.
func caReadRecord(o *caObject) (caRecord, caNames) {
	if o.has("CloudAuditEvent") || o.has("EventName") || o.has("EventId") {
		inner := o.path + "CloudAuditEvent."
		return caReadList(o), caNames{
			eventName:   o.path + "EventName",
			eventSource: o.path + "EventSource",
			eventTime:   o.path + "EventTime",
			eventType:   inner + "eventType",
		}
	}
	return caReadCall(o), caNames{
		eventName:   o.path + "eventName",
		eventSource: o.path + "eventSource",
		eventTime:   o.path + "eventTime",
		eventType:   o.path + "eventType",
	}
}

// caReadCall reads the record CloudAudit writes for one call: what
// LookUpEvents returns in CloudAuditEvent and EventBridge carries as data.
func caReadCall(o *caObject) caRecord {
	user := o.object("userIdentity")
	return caRecord{
		eventName:    o.str("eventName"),
		eventSource:  o.str("eventSource"),
		eventType:    o.str("eventType"),
		region:       o.str("eventRegion"),
		id:           caFirst(o.str("eventId"), o.str("requestID")),
		principal:    caFirst(user.text("principalId"), user.str("userName")),
		accountID:    user.text("accountId"),
		sourceIP:     o.str("sourceIPAddress"),
		resourceType: o.str("resourceType"),
		resourceName: o.str("resourceName"),
		outcome:      o.outcome("errorCode"),
		apiVersion:   o.str("apiVersion"),
		code:         o.text("errorCode"),
		time:         o.time("eventTime", 1),
	}
}

// caReadList reads an event-list record. Its own fields win; the call's
// record in CloudAuditEvent fills the gaps, among them eventType, which
// only it has, and the principal: userIdentity says who (principalId),
// where Username is "root" for every main account.
func caReadList(o *caObject) caRecord {
	res := o.object("Resources")
	rec := caRecord{
		eventName:    o.str("EventName"),
		eventSource:  o.str("EventSource"),
		region:       o.str("EventRegion"),
		id:           caFirst(o.str("EventId"), o.str("RequestID")),
		accountID:    o.text("AccountID"),
		sourceIP:     o.str("SourceIPAddress"),
		resourceType: res.str("ResourceType"),
		resourceName: res.str("ResourceName"),
		outcome:      o.outcome("ErrorCode"),
		code:         o.text("ErrorCode"),
		time:         o.time("EventTime", 1),
	}
	if inner := o.embedded("CloudAuditEvent"); inner != nil {
		rec.fill(caReadCall(inner))
	}
	if rec.principal == "" {
		rec.principal = o.str("Username")
	}
	return rec
}

// fill sets the fields r lacks from other.
func (r *caRecord) fill(other caRecord) {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&r.eventName, other.eventName}, {&r.eventSource, other.eventSource},
		{&r.eventType, other.eventType}, {&r.region, other.region}, {&r.id, other.id},
		{&r.principal, other.principal}, {&r.accountID, other.accountID},
		{&r.sourceIP, other.sourceIP}, {&r.resourceType, other.resourceType},
		{&r.resourceName, other.resourceName}, {&r.outcome, other.outcome},
		{&r.apiVersion, other.apiVersion}, {&r.code, other.code},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	if r.time.IsZero() {
		r.time = other.time
	}
}

// require checks what every event needs: what happened, to which
// product, and when.
func (r caRecord) require(n caNames) error {
	switch {
	case strings.TrimSpace(r.eventName) == "":
		return caMissing(n.eventName)
	case strings.TrimSpace(r.eventSource) == "":
		return caMissing(n.eventSource)
	case r.time.IsZero():
		return caMissing(n.eventTime)
	}
	return nil
}

// audit fills the audit extensions; kind is the type's last segment.
// Records of some products leave resourceType out; the catalog knows it
// for the operations it lists. CloudAudit has no trace rating.
func (r caRecord) audit(product, kind string) Audit {
	rt := r.resourceType
	if rt == "" {
		if e, ok := LookupEvent(product, r.eventName); ok {
			rt = e.ResourceType
		}
	}
	return Audit{
		Principal:    r.principal,
		Action:       r.eventName,
		ResourceType: rt,
		ResourceName: r.resourceName,
		Outcome:      r.outcome,
		SourceIP:     r.sourceIP,
		Kind:         kind,
		APIVersion:   r.apiVersion,
		Code:         r.code,
	}
}
