package index

import (
	"errors"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/auditbus/auditbus/router/cejson"
)

// envelope is what the index reads of a stored event but its data.
type envelope struct {
	id, source, typ, subject, contentType string
	time                                  time.Time
	ext                                   extensions
	// data is the event's data as sdk-go would hold it (Event.Data);
	// dataValid says it is known to be valid JSON.
	data      []byte
	dataValid bool
}

// extensions are the extensions the index reads (string values only,
// as the index only ever read strings).
type extensions struct {
	kind, principal, resourcetype, resourcename, outcome, code, sourceip, region,
	cluster, tracerating, action, hostid, hostname, hostip string
}

// field is the field of x that holds extension name, nil for one the
// index does not read.
func (x *extensions) field(name string) *string {
	switch name {
	case "kind":
		return &x.kind
	case "principal":
		return &x.principal
	case "resourcetype":
		return &x.resourcetype
	case "resourcename":
		return &x.resourcename
	case "outcome":
		return &x.outcome
	case "code":
		return &x.code
	case "sourceip":
		return &x.sourceip
	case "region":
		return &x.region
	case "cluster":
		return &x.cluster
	case "tracerating":
		return &x.tracerating
	case "action":
		return &x.action
	case "hostid":
		return &x.hostid
	case "hostname":
		return &x.hostname
	case "hostip":
		return &x.hostip
	}
	return nil
}

// set records extension name's value v.
func (x *extensions) set(name, v string) {
	if f := x.field(name); f != nil {
		*f = v
	}
}

// readEnvelope reads a stored event. An event in the form auditbus
// stores (cejson.Marshal: specversion 1.0 first, string attributes and
// extensions, JSON data) is read in one pass over its bytes
// (plainEnvelope); any other is decoded by cejson.Unmarshal, so what is
// accepted, refused and read is exactly what sdk-go decides. The error is
// cejson.Unmarshal's.
func readEnvelope(b []byte) (envelope, error) {
	if env, ok := plainEnvelope(b); ok {
		return env, nil
	}
	var e event.Event
	if err := cejson.Unmarshal(b, &e); err != nil {
		return envelope{}, err
	}
	env := envelope{id: e.ID(), source: e.Source(), typ: e.Type(), subject: e.Subject(),
		contentType: e.DataContentType(), time: e.Time(), data: e.Data()}
	for name, v := range e.Extensions() {
		if s, ok := v.(string); ok {
			env.ext.set(name, s)
		}
	}
	return env, nil
}

// errNotPlain says plainEnvelope leaves an event to sdk-go.
var errNotPlain = errors.New("not a plain event")

// plainEnvelope reads b when it is valid JSON in the plain form and
// sdk-go would decode it without error; ok is false for any other b. It
// follows sdk-go's reading of a 1.0 event whose first member is
// specversion: members in order, a later one of a name replacing an
// earlier, the source parsed as a URI reference and written back, the
// time as RFC 3339, data of a JSON (or no) content type as its bytes from
// the colon on. Whatever would take another path in sdk-go (escapes or
// invalid UTF-8 in a member, a value not a string, an extension name
// sdk-go changes or refuses, base64 data, data of another content type, a
// second data or datacontenttype, an empty name, which ends sdk-go's
// reading) makes it give up.
func plainEnvelope(b []byte) (env envelope, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' || !validJSON(b) {
		return env, false
	}
	// The record's strings are cut from one copy of the event rather
	// than copied one by one.
	doc := string(b)
	var dct *string
	var data []byte
	i++
	for n := 0; ; n++ {
		if i = skipWS(b, i); b[i] == '}' {
			if n == 0 {
				return env, false // no specversion
			}
			break
		}
		k := skipString(b, i)
		key, plain := plainText(doc[i:k])
		colon := skipWS(b, k)
		v := skipWS(b, colon+1)
		end := skipValue(b, v)
		if i = skipWS(b, end); b[i] == ',' {
			i++
		}
		if !plain || key == "" || (n == 0) != (key == "specversion") {
			return env, false
		}
		if key == "data" {
			if data != nil {
				return env, false
			}
			data = b[colon+1 : end]
			continue
		}
		if b[v] != '"' {
			return env, false
		}
		if err := env.attribute(key, doc[v:end], &dct); err != nil {
			return env, false
		}
	}
	if data != nil {
		if dct != nil && !sdkJSONType(*dct) {
			return env, false
		}
		env.data, env.dataValid = data, true
	}
	return env, true
}

// attribute records member name with string value tok (quoted) of a
// plain event. A value the index reads must be plain too; an extension
// it does not read may be any string.
func (env *envelope) attribute(name, tok string, dct **string) error {
	v, plain := plainText(tok)
	var ext *string
	if isExtension(name) {
		if ext = env.ext.field(name); ext == nil {
			return nil // any string, not read
		}
	}
	if !plain {
		return errNotPlain
	}
	switch name {
	case "specversion":
		if v != event.CloudEventsVersionV1 {
			return errNotPlain
		}
	case "id":
		env.id = v
	case "type":
		env.typ = v
	case "source":
		u := types.ParseURIRef(v)
		if u == nil {
			return errNotPlain
		}
		env.source = u.String()
	case "subject":
		env.subject = v
	case "time":
		if v == "" {
			env.time = time.Time{}
			break
		}
		t, err := types.ParseTime(v)
		if err != nil {
			return errNotPlain
		}
		env.time = t
	case "datacontenttype":
		if *dct != nil {
			return errNotPlain
		}
		*dct, env.contentType = &v, v
	case "dataschema":
	case "data_base64":
		return errNotPlain
	default:
		if ext == nil {
			return errNotPlain
		}
		*ext = v
	}
	return nil
}

// isExtension is whether name is an extension sdk-go takes as written:
// lower-case ASCII letters and digits, and no attribute's name.
func isExtension(name string) bool {
	switch name {
	case "specversion", "id", "type", "source", "subject", "time", "datacontenttype", "dataschema", "data_base64":
		return false
	}
	for _, c := range []byte(name) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// sdkJSONType is whether sdk-go keeps data of content type ct as its JSON
// bytes: a media type (before any parameters) of application/json,
// text/json, the CloudEvents JSON types, or none.
func sdkJSONType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	switch ct {
	case "", event.ApplicationJSON, event.TextJSON, event.ApplicationCloudEventsJSON, event.ApplicationCloudEventsBatchJSON:
		return true
	}
	return false
}
