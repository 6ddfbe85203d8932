package cts

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/auditbus/auditbus/router/index"
)

// Trace is one trace as GET /v3/{project_id}/traces answers it (CTS API
// reference, table 4-55). Every field is always present; request,
// response and code are strings as the API documents them (the SDK's
// models decode them so), whatever type the stored record gave them.
type Trace struct {
	TraceID      string `json:"trace_id"`
	TraceName    string `json:"trace_name"`
	TraceRating  string `json:"trace_rating"`
	TraceType    string `json:"trace_type"`
	Request      string `json:"request"`
	Response     string `json:"response"`
	Code         string `json:"code"`
	APIVersion   string `json:"api_version"`
	Message      string `json:"message"`
	RecordTime   int64  `json:"record_time"`
	Time         int64  `json:"time"`
	User         User   `json:"user"`
	SourceIP     string `json:"source_ip"`
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	ResourceID   string `json:"resource_id"`
	ServiceType  string `json:"service_type"`
	RequestID    string `json:"request_id"`
	LocationInfo string `json:"location_info"`
	Endpoint     string `json:"endpoint"`
	ResourceURL  string `json:"resource_url"`
}

// User is a trace's user (UserInfo) and Domain its domain (BaseUser).
type User struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Domain Domain `json:"domain"`
}

// Domain is a user's account.
type Domain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// record holds what the trace mapping reads from the data of each source:
// a CTS trace, a Tencent CloudAudit record, a Kubernetes audit event.
type record struct {
	// CTS
	Request      json.RawMessage `json:"request"`
	Response     json.RawMessage `json:"response"`
	Code         json.RawMessage `json:"code"`
	Message      json.RawMessage `json:"message"`
	RecordTime   json.RawMessage `json:"record_time"`
	TraceType    string          `json:"trace_type"`
	LocationInfo string          `json:"location_info"`
	Endpoint     string          `json:"endpoint"`
	ResourceURL  string          `json:"resource_url"`
	APIVersion   string          `json:"api_version"`
	// CTS (id, name, domain) and Kubernetes (username, uid)
	User *struct {
		ID       string  `json:"id"`
		Name     string  `json:"name"`
		Username string  `json:"username"`
		UID      string  `json:"uid"`
		Domain   *Domain `json:"domain"`
	} `json:"user"`
	// Tencent
	RequestParameters json.RawMessage `json:"requestParameters"`
	ResponseElements  json.RawMessage `json:"responseElements"`
	ErrorMessage      json.RawMessage `json:"errorMessage"`
	UserIdentity      *struct {
		PrincipalID string `json:"principalId"`
		UserName    string `json:"userName"`
		AccountID   string `json:"accountId"`
	} `json:"userIdentity"`
	// Kubernetes
	RequestObject  json.RawMessage `json:"requestObject"`
	ResponseObject json.RawMessage `json:"responseObject"`
	ResponseStatus *struct {
		Message string `json:"message"`
	} `json:"responseStatus"`
}

// ToTrace answers an indexed event as a trace: the index's fields, then
// what the source's record adds (see router/README.md, "CTS traces").
func ToTrace(rec index.Record) Trace {
	t := Trace{
		TraceID: rec.ID, TraceName: rec.Action, TraceRating: index.Rating(rec.TraceRating, rec.Outcome), TraceType: rec.Kind, Code: rec.Code,
		Time: rec.Time.UnixMilli(), RecordTime: rec.Time.UnixMilli(), User: User{Name: rec.Principal},
		SourceIP: rec.SourceIP, ResourceType: rec.ResourceType, ResourceName: rec.ResourceName,
		ResourceID: rec.ResourceID, ServiceType: rec.Product, RequestID: rec.RequestID,
	}
	var env struct {
		Data record `json:"data"`
	}
	// One pass over the stored event: a field of an unexpected type (data
	// that is not an object included) is skipped and the rest still read.
	_ = json.Unmarshal(rec.Event, &env)
	d := env.Data
	switch {
	case strings.Contains(rec.Type, ":CloudTrace:"):
		fromCTS(&t, d)
	case rec.Kind == "K8sAudit":
		t.Request, t.Response = text(d.RequestObject), text(d.ResponseObject)
		if d.ResponseStatus != nil {
			t.Message = d.ResponseStatus.Message
		}
		if d.User != nil {
			t.User.ID, t.User.Name = d.User.UID, first(d.User.Username, t.User.Name)
		}
	default:
		t.Request, t.Response, t.Message = text(d.RequestParameters), text(d.ResponseElements), text(d.ErrorMessage)
		if u := d.UserIdentity; u != nil {
			t.User = User{ID: u.PrincipalID, Name: first(u.UserName, t.User.Name), Domain: Domain{ID: u.AccountID}}
		}
	}
	if t.APIVersion == "" {
		t.APIVersion = apiVersion(rec)
	}
	return t
}

func fromCTS(t *Trace, d record) {
	t.Request, t.Response, t.Message = text(d.Request), text(d.Response), text(d.Message)
	t.Code = first(text(d.Code), t.Code)
	t.TraceType = first(d.TraceType, t.TraceType)
	t.LocationInfo, t.Endpoint, t.ResourceURL, t.APIVersion = d.LocationInfo, d.Endpoint, d.ResourceURL, d.APIVersion
	if ms, err := strconv.ParseInt(text(d.RecordTime), 10, 64); err == nil {
		t.RecordTime = ms
	}
	if d.User != nil {
		t.User.ID, t.User.Name = d.User.ID, first(d.User.Name, t.User.Name)
		if d.User.Domain != nil {
			t.User.Domain = *d.User.Domain
		}
	}
}

// apiVersion is the apiversion extension the sources set.
func apiVersion(rec index.Record) string {
	var env struct {
		APIVersion string `json:"apiversion"`
	}
	_ = json.Unmarshal(rec.Event, &env)
	return env.APIVersion
}

// text is a JSON value as a trace's string field holds it: a string as it
// is, anything else (an object, a number) as its compact JSON text, null
// and absence as "".
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
