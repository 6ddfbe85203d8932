package cts

import (
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/auditbus/auditbus/router/index"
)

// Trace query limits (CTS API reference, table 4-53).
const (
	DefaultLimit = 10
	MaxLimit     = 200
	// DefaultWindow is how far back from goes when it is not given: the
	// last hour, as CTS.
	DefaultWindow = time.Hour
)

// Trace types.
const (
	TraceTypeSystem = "system"
	TraceTypeData   = "data"
)

// filters are the query parameters that select traces, by the index
// field each tests.
var filters = map[string]index.Field{
	"service_type": index.FieldProduct, "user": index.FieldPrincipal, "resource_id": index.FieldResourceID,
	"resource_name": index.FieldResourceName, "resource_type": index.FieldResourceType,
	"trace_name": index.FieldAction, "trace_rating": index.FieldTraceRating,
}

// others are the parameters beside the filters.
var others = []string{"trace_type", "limit", "from", "to", "next", "tracker_name", "trace_id"}

// request is a parsed trace query.
type request struct {
	traceType   string
	trackerName string
	next        string
	q           index.Query
}

// parse reads and checks the query parameters; now anchors the default
// time window.
func parse(v url.Values, now time.Time) (request, *Error) {
	req := request{traceType: TraceTypeSystem, q: index.Query{Limit: DefaultLimit, Equal: map[index.Field][]string{},
		After: now.Add(-DefaultWindow), Before: now}}
	for name, vals := range v {
		if _, ok := filters[name]; !ok && !slices.Contains(others, name) {
			return req, badQuery("query parameter %s is not supported (supported: trace_type, limit, from, to, next, tracker_name, service_type, user, resource_id, resource_name, resource_type, trace_id, trace_name, trace_rating)", name)
		}
		if len(vals) > 1 {
			return req, badQuery("query parameter %s is given %d times; give it once", name, len(vals))
		}
	}
	if t := v.Get("trace_type"); t != "" {
		if t != TraceTypeSystem && t != TraceTypeData {
			return req, badQuery("trace_type %q: want system or data", t)
		}
		req.traceType = t
	}
	req.trackerName = v.Get("tracker_name")
	if err := req.limits(v); err != nil {
		return req, err
	}
	if r := v.Get("trace_rating"); r != "" && r != "normal" && r != "warning" && r != "incident" {
		return req, badQuery("trace_rating %q: want normal, warning or incident", r)
	}
	if id := v.Get("trace_id"); id != "" {
		// "When trace_id is given, the other conditions do not apply."
		req.q.Equal = map[index.Field][]string{index.FieldID: {id}}
		req.q.After, req.q.Before = time.Time{}, time.Time{}
		return req, nil
	}
	for name, f := range filters {
		if val := v.Get(name); val != "" {
			req.q.Equal[f] = []string{val}
		}
	}
	req.next = v.Get("next")
	return req, nil
}

// limits reads limit, from and to.
func (req *request) limits(v url.Values) *Error {
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return badQuery("limit %q: want an integer from 1 to %d", s, MaxLimit)
		}
		req.q.Limit = n
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &req.q.After}, {"to", &req.q.Before}} {
		s := v.Get(p.name)
		if s == "" {
			continue
		}
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms < 0 {
			return badQuery("%s %q: want a UTC timestamp in milliseconds (13 digits)", p.name, s)
		}
		*p.dst = time.UnixMilli(ms).UTC()
	}
	if !req.q.After.Before(req.q.Before) {
		return badQuery("from %d is not before to %d", req.q.After.UnixMilli(), req.q.Before.UnixMilli())
	}
	return nil
}
