package sources

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// Huawei Cloud CTS trace -> CloudEvent (fields of GET /v3/{project_id}/traces),
// named as Huawei EventGrid names CTS events, so that EventGrid rules match:
//
//	id            trace_id (required)
//	source        HC.<SERVICE>, SERVICE = upper-case service_type (required): HC.VPC
//	type          <SERVICE>:CloudTrace:<trace_type>, trace_type as sent (ApiCall,
//	              ConsoleAction, SystemAction, ObsSDK, ObsAPI, ...): VPC:CloudTrace:ConsoleAction;
//	              absent -> Others, EventGrid's name for a trace of no listed kind
//	subject       <resource_type>/<resource_id>, resource_name when there is no
//	              resource_id; just the id or name without a resource_type;
//	              absent when the trace names no resource
//	time          time (epoch ms, number or numeric string), else record_time
//	region        region_id, else region (location_info is error-locating
//	              detail, not a region)
//	data          the trace as posted, secrets redacted (also inside the
//	              request/response JSON strings)
//	principal     user.name, else user.id
//	action        trace_name (required)
//	resourcetype  resource_type
//	resourcename  resource_name, else resource_id
//	outcome       from code, the HTTP status: 100-399 success, >= 400 failure,
//	              absent or not a number -> none; trace_rating is a severity,
//	              not a result
//	sourceip      source_ip
//	kind          trace_type (Others when absent), as in type
//	tracerating   trace_rating
//	apiversion    api_version
//	code          code as written (200, "404")

// ctsSourcePrefix and ctsTypeSeparator are EventGrid's: HC.VPC, VPC:CloudTrace:ApiCall.
const (
	ctsSourcePrefix  = "HC."
	ctsTypeSeparator = ":CloudTrace:"
	ctsDefaultKind   = "Others"
)

// CTS converts Huawei Cloud CTS traces: one trace object, an array of them,
// NDJSON, or {"traces": [...]}. It returns every event or a *BatchError.
func CTS(body []byte, r *Redactor) ([]event.Event, error) {
	recs, err := Records(body, "traces")
	if err != nil {
		return nil, err
	}
	return Convert(recs, r, parseCTS)
}

// ctsTrace holds the trace fields the mapping reads; everything else
// reaches data untouched through the raw record.
type ctsTrace struct {
	TraceID      string          `json:"trace_id"`
	TraceName    string          `json:"trace_name"`
	TraceType    string          `json:"trace_type"`
	TraceRating  string          `json:"trace_rating"`
	APIVersion   string          `json:"api_version"`
	ServiceType  string          `json:"service_type"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	ResourceName string          `json:"resource_name"`
	SourceIP     string          `json:"source_ip"`
	RegionID     string          `json:"region_id"`
	Region       string          `json:"region"`
	Code         json.RawMessage `json:"code"`
	Time         json.RawMessage `json:"time"`
	RecordTime   json.RawMessage `json:"record_time"`
	User         struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"user"`
}

func parseCTS(rec json.RawMessage) ([]Envelope, error) {
	var t ctsTrace
	if err := unmarshalRecord(rec, &t, "trace"); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, value string }{
		{"trace_id", t.TraceID}, {"trace_name", t.TraceName}, {"service_type", t.ServiceType},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nil, &ingest.Error{Kind: ingest.ErrMissingAttribute, Index: -1,
				Msg: fmt.Sprintf("trace has no %s, which every CTS trace carries", f.name)}
		}
	}
	at, err := ctsTime(t)
	if err != nil {
		return nil, err
	}
	service := strings.TrimSpace(t.ServiceType)
	if !caPlainName(strings.ToLower(service)) {
		// It becomes the type's first segment, the source's last and a
		// subject token.
		return nil, &ingest.Error{Kind: ingest.ErrInvalidAttribute, Index: -1,
			Msg: fmt.Sprintf("service_type %s is not a service name (letters, digits, '-')", ingest.Quote(t.ServiceType))}
	}
	service = strings.ToUpper(service)
	kind, err := ctsKind(t.TraceType)
	if err != nil {
		return nil, err
	}
	env := Envelope{
		ID:      t.TraceID,
		Source:  ctsSourcePrefix + service,
		Type:    service + ctsTypeSeparator + kind,
		Subject: ctsSubject(t),
		Time:    at,
		Region:  firstOf(t.RegionID, t.Region),
		Audit: Audit{
			Principal:    firstOf(t.User.Name, t.User.ID),
			Action:       t.TraceName,
			ResourceType: t.ResourceType,
			ResourceName: firstOf(t.ResourceName, t.ResourceID),
			Outcome:      statusCodeOutcome(ctsCode(t.Code)),
			SourceIP:     t.SourceIP,
			Kind:         kind,
			TraceRating:  t.TraceRating,
			APIVersion:   t.APIVersion,
			Code:         jsonScalarText(t.Code),
		},
		Record: rec,
	}
	return []Envelope{env}, nil
}

// ctsKind keeps trace_type as CTS wrote it, as EventGrid does: the kinds
// are CTS's to name (OBS data events add ObsSDK and ObsAPI), so any plain
// name passes. It ends the type and is a subject token, so a value with
// other characters is refused rather than rewritten.
func ctsKind(traceType string) (string, error) {
	if traceType == "" {
		return ctsDefaultKind, nil
	}
	ok := len(traceType) <= 64
	for i := 0; ok && i < len(traceType); i++ {
		c := traceType[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if !ok {
		return "", &ingest.Error{Kind: ingest.ErrInvalidAttribute, Index: -1, Attribute: "type",
			Msg: fmt.Sprintf("trace_type %.70s is not a kind such as ApiCall, ConsoleAction or SystemAction (1-64 ASCII letters or digits)", ingest.Quote(traceType))}
	}
	return traceType, nil
}

// jsonScalarText is a string's value or a number's digits as written; ""
// for anything else (absent, null, objects).
func jsonScalarText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	}
	if raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' {
		return string(raw)
	}
	return ""
}

// ctsSubject prefers resource_id: names may change and are not unique.
func ctsSubject(t ctsTrace) string {
	res := firstOf(t.ResourceID, t.ResourceName)
	if res == "" || t.ResourceType == "" {
		return res
	}
	return t.ResourceType + "/" + res
}

func ctsTime(t ctsTrace) (time.Time, error) {
	if len(t.Time) > 0 && string(t.Time) != "null" {
		return epochMillis(t.Time, "time")
	}
	return epochMillis(t.RecordTime, "record_time")
}

// ctsCode reads code, which CTS sends as a number or a string; 0 means
// it is absent or not an HTTP status.
func ctsCode(raw json.RawMessage) int {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// statusCodeOutcome reads an HTTP status. 1xx counts as success because
// Kubernetes answers exec, attach and port-forward with 101; anything
// below 100 is "not set" and says nothing.
func statusCodeOutcome(code int) string {
	switch {
	case code >= 400:
		return OutcomeFailure
	case code >= 100:
		return OutcomeSuccess
	}
	return ""
}

// maxEpochMillis is 9999-12-31T23:59:59.999Z: RFC 3339 has no later time.
const maxEpochMillis = 253402300799999

// epochMillis reads an epoch-milliseconds timestamp sent as a JSON number
// or numeric string; absent or null gives the zero time.
func epochMillis(raw json.RawMessage, field string) (time.Time, error) {
	s := strings.Trim(string(raw), `"`)
	if s == "" || s == "null" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 || ms > maxEpochMillis {
		return time.Time{}, &ingest.Error{Kind: ingest.ErrInvalidAttribute, Index: -1, Attribute: "time",
			Msg: fmt.Sprintf("%s %.40s is not epoch milliseconds between 1970 and 9999", field, raw)}
	}
	return time.UnixMilli(ms).UTC(), nil
}

// unmarshalRecord decodes rec into v, saying which field has the wrong
// JSON type rather than naming Go types the sender never sees.
func unmarshalRecord(rec json.RawMessage, v any, what string) error {
	err := json.Unmarshal(rec, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &ingest.Error{Kind: ingest.ErrMalformed, Index: -1,
			Msg: fmt.Sprintf("%s field %s must be a JSON %s (got %s)", what, te.Field, jsonKind(te.Type.Kind().String()), te.Value)}
	}
	return &ingest.Error{Kind: ingest.ErrMalformed, Index: -1, Msg: fmt.Sprintf("%s is not valid JSON: %v", what, err)}
}

// jsonKind names a Go kind the way a JSON sender thinks of it.
func jsonKind(goKind string) string {
	switch goKind {
	case "struct", "map":
		return "object"
	case "slice":
		return "array"
	case "int", "int32", "int64":
		return "integer"
	}
	return goKind
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
