package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/auditbus/auditbus/router/ingest"
)

// caFirst returns the first value that is not blank; a blank id or name
// says nothing, and would make an invalid attribute.
func caFirst(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// caObject reads the fields of a JSON object on demand, by exact name
// (encoding/json's struct decoding would let EventName stand for
// eventName). The first field that cannot be read is kept in err, shared
// with nested objects, so a reader reads everything, then checks once.
type caObject struct {
	fields map[string]json.RawMessage
	path   string // how error messages name the object: "", "data.", ...
	err    *error
}

func caDecode(raw []byte) (*caObject, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, &ingest.Error{Kind: ingest.ErrMalformed, Index: -1, Msg: "a record must be a JSON object"}
	}
	return &caObject{fields: fields, err: new(error)}, nil
}

func (o *caObject) error() error { return *o.err }

func (o *caObject) has(key string) bool {
	_, ok := o.fields[key]
	return ok
}

func (o *caObject) fail(key, format string, args ...any) {
	if *o.err == nil {
		*o.err = caInvalid("%s%s %s", o.path, key, fmt.Sprintf(format, args...))
	}
}

// value returns a field's JSON, nil when absent or null: producers write
// null for what they do not know.
func (o *caObject) value(key string) json.RawMessage {
	v := o.fields[key]
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	return v
}

func (o *caObject) str(key string) string {
	v := o.value(key)
	if v == nil {
		return ""
	}
	// Most values are plain strings, which need no decoding: this halves
	// the time spent reading a record.
	if n := len(v); n >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return string(v[1 : n-1])
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		o.fail(key, "must be a string, not %s", caJSONKind(v))
	}
	return s
}

// text reads an identifier that producers write as a string or a number
// (AccountID, principalId), keeping a number's digits as written.
func (o *caObject) text(key string) string {
	v := o.value(key)
	if v == nil || v[0] == '"' {
		return o.str(key)
	}
	if caJSONKind(v) != "a number" {
		o.fail(key, "must be a string or a number, not %s", caJSONKind(v))
		return ""
	}
	return string(v)
}

// outcome reads an error code: 0 (number or string) is success, any other
// code failure, none at all leaves the outcome unknown.
func (o *caObject) outcome(key string) string {
	code := o.text(key)
	switch f, err := strconv.ParseFloat(code, 64); {
	case code == "":
		return ""
	case err == nil && f == 0:
		return OutcomeSuccess
	}
	return OutcomeFailure
}

// object reads a nested object; an absent one reads as empty.
func (o *caObject) object(key string) *caObject {
	sub := &caObject{path: o.path + key + ".", err: o.err}
	v := o.value(key)
	if v == nil {
		return sub
	}
	if v[0] != '{' || json.Unmarshal(v, &sub.fields) != nil {
		o.fail(key, "must be an object, not %s", caJSONKind(v))
	}
	return sub
}

// embedded reads an object that the producer may have encoded as a JSON
// string, as LookUpEvents does with CloudAuditEvent; nil when absent or "".
func (o *caObject) embedded(key string) *caObject {
	switch v := o.value(key); {
	case v == nil:
		return nil
	case v[0] != '"':
		return o.object(key)
	}
	s := o.str(key)
	if strings.TrimSpace(s) == "" {
		return nil
	}
	sub := &caObject{path: o.path + key + ".", err: o.err}
	if json.Unmarshal([]byte(s), &sub.fields) != nil || sub.fields == nil {
		o.fail(key, "must hold a JSON object")
	}
	return sub
}

// jsonText returns a field holding an array (open '[') or an object (open
// '{') as compact JSON text, "" when absent or empty.
func (o *caObject) jsonText(key string, open byte) string {
	v := o.value(key)
	if v == nil {
		return ""
	}
	if v[0] != open {
		o.fail(key, "must be %s, not %s", caJSONKind([]byte{open}), caJSONKind(v))
		return ""
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil || b.Len() <= 2 {
		return ""
	}
	return b.String()
}

// caJSONKind names the kind of a JSON value for error messages, rather
// than quoting a value that may be huge.
func caJSONKind(v []byte) string {
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// caChinaTime is UTC+8, the zone in which the CloudAudit console and
// API show local times; China has no daylight saving time, so a fixed
// zone is exact and needs no time zone database.
var caChinaTime = time.FixedZone("UTC+8", 8*60*60)

// caMaxUnix is 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const caMaxUnix = 253402300799

// time reads a time field. Tencent writes epoch numbers: seconds in
// records (eventTime as a number, EventTime as a string of digits),
// milliseconds in the EventBridge envelope; perSecond says which (1 or
// 1000). As strings it also accepts "2006-01-02 15:04:05", read as China
// time (UTC+8) like the console shows it, and RFC 3339. Times before 1970
// or after year 9999 are refused: they are producer bugs, and the latter
// cannot be written as RFC 3339.
func (o *caObject) time(key string, perSecond int64) time.Time {
	v := o.value(key)
	if v == nil {
		return time.Time{}
	}
	s := string(v)
	if v[0] == '"' {
		s = o.str(key)
	} else if caJSONKind(v) != "a number" {
		o.fail(key, "must be an epoch number or a time string, not %s", caJSONKind(v))
		return time.Time{}
	}
	t, err := caTime(s, v[0] == '"', perSecond)
	if err != nil {
		o.fail(key, "%s", err)
		return time.Time{}
	}
	return t
}

func caTime(s string, quoted bool, perSecond int64) (time.Time, error) {
	unit := "seconds"
	if perSecond == 1000 {
		unit = "milliseconds"
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n/perSecond > caMaxUnix {
			return time.Time{}, fmt.Errorf("%d is out of range for epoch %s", n, unit)
		}
		return time.Unix(n/perSecond, n%perSecond*(int64(time.Second)/perSecond)).UTC(), nil
	}
	if !quoted {
		return time.Time{}, fmt.Errorf("must be whole epoch %s", unit)
	}
	t, err := time.ParseInLocation(time.DateTime, s, caChinaTime)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, fmt.Errorf("%s is not epoch %s, \"2006-01-02 15:04:05\" (UTC+8) or RFC 3339", ingest.Quote(s), unit)
		}
	}
	if t.Before(time.Unix(0, 0)) || t.UTC().Year() > 9999 {
		return time.Time{}, fmt.Errorf("%s is before 1970 or after 9999", ingest.Quote(s))
	}
	return t.UTC(), nil
}
