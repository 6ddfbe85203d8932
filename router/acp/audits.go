package acp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/index"
)

// Index is what the audit query reads; an index.Store is the real one.
type Index interface {
	Search(ctx context.Context, q index.Query) ([]index.Record, error)
	Count(ctx context.Context, q index.Query) (int64, error)
}

// EventList is the query's answer, as ACP's example.
type EventList struct {
	Items      []Item `json:"Items"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	TotalItems int64  `json:"total_items"`
	TotalPage  int64  `json:"total_page"`
}

// Item is one audit event in ACP's shape: the audit.k8s.io/v1 Event with
// capitalized keys, the cluster, and ReferObject (the object's name).
// Every field is always present; objects the event lacks are null.
type Item struct {
	Annotations              json.RawMessage `json:"Annotations"`
	AuditID                  string          `json:"AuditID"`
	Cluster                  string          `json:"Cluster"`
	ImpersonatedUser         json.RawMessage `json:"ImpersonatedUser"`
	Level                    string          `json:"Level"`
	ObjectRef                ObjectRef       `json:"ObjectRef"`
	ReferObject              string          `json:"ReferObject"`
	RequestObject            json.RawMessage `json:"RequestObject"`
	RequestReceivedTimestamp string          `json:"RequestReceivedTimestamp"`
	RequestURI               string          `json:"RequestURI"`
	ResponseObject           json.RawMessage `json:"ResponseObject"`
	ResponseStatus           json.RawMessage `json:"ResponseStatus"`
	SourceIPs                []string        `json:"SourceIPs"`
	Stage                    string          `json:"Stage"`
	StageTimestamp           string          `json:"StageTimestamp"`
	User                     json.RawMessage `json:"User"`
	UserAgent                string          `json:"UserAgent"`
	Verb                     string          `json:"Verb"`
}

// ObjectRef is the object the request addressed, capitalized as ACP's.
type ObjectRef struct {
	APIGroup        string `json:"APIGroup"`
	APIVersion      string `json:"APIVersion"`
	Name            string `json:"Name"`
	Namespace       string `json:"Namespace"`
	Resource        string `json:"Resource"`
	ResourceVersion string `json:"ResourceVersion"`
	Subresource     string `json:"Subresource"`
	UID             string `json:"UID"`
}

// ListAudits answers an audit query over the given buses (nil: every
// bus): the Kubernetes audit events of cluster between start_time and
// end_time (both inclusive), newest first (event time, then stream
// sequence), page pageno (from 1) of size events. total_items counts
// every match, total_page the pages they fill. Bad parameters are a 400
// *Error; an index failure a 503.
func ListAudits(ctx context.Context, ix Index, buses []string, v url.Values) (EventList, *Error) {
	out := EventList{Items: []Item{}, APIVersion: "audit.k8s.io/v1", Kind: "EventList"}
	req, err := parse(v)
	if err != nil {
		return out, err
	}
	req.q.Buses = buses
	total, ierr := ix.Count(ctx, req.q)
	if ierr != nil {
		return out, unavailable(fmt.Errorf("index count: %w", ierr))
	}
	recs, ierr := ix.Search(ctx, req.q)
	if ierr != nil {
		return out, unavailable(fmt.Errorf("index search: %w", ierr))
	}
	out.TotalItems, out.TotalPage = total, (total+int64(req.size)-1)/int64(req.size)
	for _, rec := range recs {
		out.Items = append(out.Items, ToItem(rec))
	}
	return out, nil
}

// unavailable is the answer to an index failure, cause, which the
// client is not shown.
func unavailable(cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Msg: "the audit index did not answer; retrying is safe",
		Err: fmt.Errorf("ACP audit query: %w", cause)}
}

// event is the audit event as stored: the k8s-audit source's data, an
// ACP record, or the content of an HSS record. encoding/json matches keys
// case-insensitively, so one struct reads both spellings.
type event struct {
	Annotations      json.RawMessage `json:"annotations"`
	AuditID          string          `json:"auditID"`
	ImpersonatedUser json.RawMessage `json:"impersonatedUser"`
	Level            string          `json:"level"`
	ObjectRef        *struct {
		APIGroup        string `json:"apiGroup"`
		APIVersion      string `json:"apiVersion"`
		Name            string `json:"name"`
		Namespace       string `json:"namespace"`
		Resource        string `json:"resource"`
		ResourceVersion string `json:"resourceVersion"`
		Subresource     string `json:"subresource"`
		UID             string `json:"uid"`
	} `json:"objectRef"`
	RequestObject            json.RawMessage `json:"requestObject"`
	RequestReceivedTimestamp string          `json:"requestReceivedTimestamp"`
	RequestURI               string          `json:"requestURI"`
	ResponseObject           json.RawMessage `json:"responseObject"`
	ResponseStatus           json.RawMessage `json:"responseStatus"`
	SourceIPs                []string        `json:"sourceIPs"`
	Stage                    string          `json:"stage"`
	StageTimestamp           string          `json:"stageTimestamp"`
	User                     json.RawMessage `json:"user"`
	UserAgent                string          `json:"userAgent"`
	Verb                     string          `json:"verb"`
	Content                  *string         `json:"content"` // HSS
}

// ToItem answers an indexed Kubernetes audit event in ACP's shape; see
// router/README.md, "Kubernetes audit queries".
func ToItem(rec index.Record) Item {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(rec.Event, &env)
	var ev event
	// A field of an unexpected type is skipped and the rest still read.
	_ = json.Unmarshal(env.Data, &ev)
	if ev.Content != nil && ev.AuditID == "" {
		c := *ev.Content
		ev = event{}
		if strings.HasPrefix(strings.TrimSpace(c), "{") {
			_ = json.Unmarshal([]byte(c), &ev)
		}
	}
	stamp := rec.Time.Format(time.RFC3339Nano)
	it := Item{
		Annotations: null(ev.Annotations), AuditID: first(ev.AuditID, rec.RequestID, rec.ID), Cluster: rec.Cluster,
		ImpersonatedUser: null(ev.ImpersonatedUser), Level: ev.Level, RequestObject: null(ev.RequestObject),
		RequestReceivedTimestamp: first(ev.RequestReceivedTimestamp, stamp), RequestURI: ev.RequestURI,
		ResponseObject: null(ev.ResponseObject), ResponseStatus: null(ev.ResponseStatus), SourceIPs: ev.SourceIPs,
		Stage: ev.Stage, StageTimestamp: first(ev.StageTimestamp, stamp), User: null(ev.User), UserAgent: ev.UserAgent,
		Verb: first(ev.Verb, rec.Action),
	}
	if it.SourceIPs == nil {
		it.SourceIPs = []string{}
	}
	if r := ev.ObjectRef; r != nil {
		it.ObjectRef = ObjectRef{APIGroup: r.APIGroup, APIVersion: r.APIVersion, Name: r.Name, Namespace: r.Namespace,
			Resource: r.Resource, ResourceVersion: r.ResourceVersion, Subresource: r.Subresource, UID: r.UID}
	}
	it.ReferObject = it.ObjectRef.Name
	return it
}

// null is raw JSON, or JSON null when the event has none.
func null(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
