package sources

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// CloudAudit converts Tencent CloudAudit records to events. The body is one
// JSON object, an array of them, or NDJSON, and each record may take any
// of three shapes, told apart by their keys:
//
//   - an EventBridge envelope (it has "specversion"): Tencent's CloudEvents
//     look-alike, normalized by caEventBridge;
//   - an event-list record as the LookUpEvents API returns it (it has
//     "EventName", "EventId" or "CloudAuditEvent"): capitalized fields plus
//     the call's record as a JSON string in CloudAuditEvent;
//   - the call's record itself (anything else): userIdentity, eventName,
//     eventSource, eventType, eventTime, ...
//
// For the two record shapes the event is built the way Tencent EventBridge
// builds it: product = the first label of eventSource (tke for
// tke.tencentcloudapi.com), type <product>:CloudEvent:<eventType> (ApiCall
// when the record has none), source <product>.cloud.tencent, subject the
// resource's QCS string (see caSubject), id per caRecord.id, time from
// eventTime (see caTime). data is always the record as received, secrets
// redacted by r.
func CloudAudit(body []byte, r *Redactor) ([]event.Event, error) {
	recs, err := Records(body, "")
	if err != nil {
		return nil, err
	}
	return Convert(recs, r, parseCloudAudit)
}

// caKinds are the eventType values CloudAudit records: how the call was
// made. They become the last part of the event type and a NATS subject
// token, so nothing else is let through.
var caKinds = map[string]bool{"ApiCall": true, "ConsoleCall": true, "MiniProgramCall": true}

const (
	caDefaultKind   = "ApiCall"
	caSourceSuffix  = ".cloud.tencent"
	caTypeSeparator = ":CloudEvent:"
)

func parseCloudAudit(raw json.RawMessage) ([]Envelope, error) {
	o, err := caDecode(raw)
	if err != nil {
		return nil, err
	}
	var env Envelope
	if o.has("specversion") {
		env, err = caEventBridge(o)
	} else {
		env, err = caRecordEnvelope(o, raw)
	}
	if err != nil {
		return nil, err
	}
	return []Envelope{env}, nil
}

// caRecordEnvelope wraps an event-list record or a call's record.
func caRecordEnvelope(o *caObject, raw json.RawMessage) (Envelope, error) {
	rec, names := caReadRecord(o)
	if err := o.error(); err != nil {
		return Envelope{}, err
	}
	if err := rec.require(names); err != nil {
		return Envelope{}, err
	}
	product, err := caProduct(rec.eventSource, names.eventSource)
	if err != nil {
		return Envelope{}, err
	}
	kind, err := caKind(rec.eventType, names.eventType)
	if err != nil {
		return Envelope{}, err
	}
	id := rec.id
	if id == "" {
		id = caContentID(raw)
	}
	audit := rec.audit(product, kind)
	return Envelope{
		ID:      id,
		Source:  product + caSourceSuffix,
		Type:    product + caTypeSeparator + kind,
		Subject: caSubject(product, rec.region, rec.accountID, audit.ResourceType, audit.ResourceName),
		Time:    rec.time,
		Region:  rec.region,
		Audit:   audit,
		Record:  raw,
	}, nil
}

// caEventBridge normalizes Tencent's EventBridge envelope, which is not a
// valid CloudEvent: its time is epoch milliseconds, and resource (an array
// of QCS strings) and tags (an object) are not CloudEvents types.
//
// id, type, source, subject and region are kept as sent, time becomes RFC
// 3339, and resource and tags become string extensions holding their
// compact JSON text (["qcs::tke:…"], {"env":"prod"}): nothing is lost, and
// a rule condition reads them back with fromJSON. data stays the audit
// record the envelope carries, and the audit extensions come from it; its
// eventTime, eventRegion and resource stand in for envelope attributes
// that are missing. datacontenttype is not carried over: data is a JSON
// object, so it is application/json. Other envelope fields are not part
// of Tencent's format and are dropped.
func caEventBridge(o *caObject) (Envelope, error) {
	env := Envelope{
		ID: o.str("id"), Source: o.str("source"), Type: o.str("type"),
		Subject: o.str("subject"), Region: o.str("region"), Time: o.time("time", 1000),
		Extra:  map[string]string{"resource": o.jsonText("resource", '['), "tags": o.jsonText("tags", '{')},
		Record: o.value("data"),
	}
	spec, data := o.str("specversion"), o.object("data")
	rec, names := caReadRecord(data)
	if err := o.error(); err != nil {
		return Envelope{}, err
	}
	product, kind, err := caCheckEnvelope(spec, env)
	if err != nil {
		return Envelope{}, err
	}
	if strings.TrimSpace(rec.eventName) == "" {
		return Envelope{}, caMissing(names.eventName)
	}
	if env.Time.IsZero() {
		if env.Time = rec.time; env.Time.IsZero() {
			return Envelope{}, caAttrError(ingest.ErrMissingAttribute, "time", "is missing, and so is %s", names.eventTime)
		}
	}
	env.Region = caFirst(env.Region, rec.region)
	env.Audit = rec.audit(product, kind)
	if env.Subject == "" {
		env.Subject = caSubject(product, env.Region, rec.accountID, env.Audit.ResourceType, env.Audit.ResourceName)
	}
	return env, nil
}

// caCheckEnvelope checks the envelope's attributes and returns the product
// and kind its type names.
func caCheckEnvelope(spec string, env Envelope) (product, kind string, err error) {
	switch {
	case spec != event.CloudEventsVersionV1:
		return "", "", caAttrError(ingest.ErrInvalidAttribute, "specversion", "%s is not supported: only \"1.0\" is", ingest.Quote(spec))
	case strings.TrimSpace(env.ID) == "":
		return "", "", caAttrError(ingest.ErrMissingAttribute, "id", "is required but missing or empty")
	case env.Source == "":
		return "", "", caAttrError(ingest.ErrMissingAttribute, "source", "is required but missing or empty")
	case !caCanonicalURI(env.Source):
		return "", "", caAttrError(ingest.ErrInvalidAttribute, "source", "%s is not a URI-reference in canonical form", ingest.Quote(env.Source))
	case env.Record == nil:
		return "", "", caAttrError(ingest.ErrMissingAttribute, "data", "is required: the CloudAudit record")
	}
	product, kind, ok := strings.Cut(env.Type, caTypeSeparator)
	if !ok || !caPlainName(product) || !caKinds[kind] {
		return "", "", caAttrError(ingest.ErrInvalidAttribute, "type", "%s is not <product>:CloudEvent:ApiCall, ConsoleCall or MiniProgramCall", ingest.Quote(env.Type))
	}
	return product, kind, nil
}

// caCanonicalURI accepts a URI-reference that url.URL writes back
// unchanged: the SDK would store the re-encoded form, and source is half
// of the bus's deduplication key, so it must stay what Tencent sent.
func caCanonicalURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.String() == s
}

func caAttrError(kind error, attr, format string, args ...any) *ingest.Error {
	return &ingest.Error{Kind: kind, Index: -1, Attribute: attr, Msg: fmt.Sprintf(format, args...)}
}

// caProduct takes the product from an event source: its first DNS label,
// lower-cased, which must be a plain name since it becomes part of the
// event's source, type and NATS subject.
func caProduct(eventSource, field string) (string, error) {
	label, _, _ := strings.Cut(eventSource, ".")
	label = strings.ToLower(label)
	if !caPlainName(label) {
		return "", caInvalid("%s %s does not start with a product name such as tke (tke.tencentcloudapi.com)", field, ingest.Quote(eventSource))
	}
	return label, nil
}

// caPlainName accepts a DNS label: what Tencent product names are.
func caPlainName(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

func caKind(eventType, field string) (string, error) {
	if eventType == "" {
		return caDefaultKind, nil
	}
	if !caKinds[eventType] {
		return "", caInvalid("%s %s is not one of ApiCall, ConsoleCall, MiniProgramCall", field, ingest.Quote(eventType))
	}
	return eventType, nil
}

// caSubject builds the QCS string of the resource,
// qcs::<product>:<region>:uin/<account>:<resourceType>/<resourceName>,
// from what the record says; segments it does not say stay empty, as QCS
// leaves the region of global resources empty. Without a resource name
// there is no resource to point at, so there is no subject.
func caSubject(product, region, account, resourceType, resourceName string) string {
	if resourceName == "" {
		return ""
	}
	if account != "" {
		account = "uin/" + account
	}
	resource := resourceName
	if resourceType != "" {
		resource = resourceType + "/" + resourceName
	}
	return "qcs::" + product + ":" + region + ":" + account + ":" + resource
}

// caContentID identifies a record that carries no id by its content, so
// that a record sent twice gets the same id and the bus drops the copy.
// White space is left out of the hash because senders re-indent freely;
// 128 bits of SHA-256 make an accidental collision negligible.
func caContentID(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		b.Write(raw) // Compact leaves b empty on error
	}
	sum := sha256.Sum256(b.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// caInvalid reports a record field that cannot be used.
func caInvalid(format string, args ...any) *ingest.Error {
	return &ingest.Error{Kind: ingest.ErrInvalidAttribute, Index: -1, Msg: fmt.Sprintf(format, args...)}
}

// caMissing reports a required record field that is absent or empty.
func caMissing(field string) *ingest.Error {
	return &ingest.Error{Kind: ingest.ErrMissingAttribute, Index: -1, Msg: field + " is required but missing or empty"}
}
