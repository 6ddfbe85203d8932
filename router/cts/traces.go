package cts

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/auditbus/auditbus/router/index"
)

// Index is what the trace query reads; an index.Store is the real one.
type Index interface {
	Search(ctx context.Context, q index.Query) ([]index.Record, error)
}

// TracesResponse is GET /v3/{project_id}/traces's answer.
type TracesResponse struct {
	Traces   []Trace  `json:"traces"`
	MetaData MetaData `json:"meta_data"`
}

// MetaData says how many traces the page holds and, when more match, the
// marker (the last trace's id) that the next page's next continues from;
// null on the last page.
type MetaData struct {
	Count  int     `json:"count"`
	Marker *string `json:"marker"`
}

// ListTraces answers a trace query over the given buses (nil: every
// bus): newest first, from and to exclusive, at most limit traces. now
// anchors the default window (the last hour). trace_type data answers
// no traces (auditbus has no data trackers), and a data tracker_name is
// CTS.0214. Bad parameters are a 400 *Error with code CTS.0300; an index
// failure is a 503 CTS.0005.
func ListTraces(ctx context.Context, ix Index, buses []string, v url.Values, now time.Time) (TracesResponse, *Error) {
	empty := TracesResponse{Traces: []Trace{}}
	req, err := parse(v, now)
	if err != nil {
		return empty, err
	}
	switch {
	case req.traceType == TraceTypeData && req.trackerName != "":
		return empty, &Error{Status: http.StatusNotFound, Code: CodeNoTracker, Msg: "data tracker " + req.trackerName + " does not exist: auditbus has no data trackers"}
	case req.traceType == TraceTypeData:
		return empty, nil
	case req.trackerName != "" && req.trackerName != TraceTypeSystem:
		return empty, &Error{Status: http.StatusBadRequest, Code: CodeManagementName, Msg: "tracker_name of the management tracker can only be system, got " + req.trackerName}
	}
	req.q.Buses = buses
	if req.next != "" {
		from, err := marker(ctx, ix, buses, req.next)
		if err != nil {
			return empty, err
		}
		req.q.From = from
	}
	limit := req.q.Limit
	req.q.Limit++ // one more, to know whether there is a next page
	recs, ierr := ix.Search(ctx, req.q)
	if ierr != nil {
		return empty, &Error{Status: http.StatusServiceUnavailable, Code: CodeRead, Msg: "the audit index did not answer; retrying is safe"}
	}
	out := TracesResponse{Traces: make([]Trace, 0, min(len(recs), limit))}
	for i, rec := range recs {
		if i == limit {
			m := recs[i-1].ID
			out.MetaData.Marker = &m
			break
		}
		out.Traces = append(out.Traces, ToTrace(rec))
	}
	out.MetaData.Count = len(out.Traces)
	return out, nil
}

// marker finds the trace a next parameter names (the marker of the
// previous page: its last trace's id) and returns the position after it.
func marker(ctx context.Context, ix Index, buses []string, id string) (*index.Cursor, *Error) {
	recs, err := ix.Search(ctx, index.Query{Buses: buses, Equal: map[index.Field][]string{index.FieldID: {id}}, Limit: 1})
	if err != nil {
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: CodeRead, Msg: "the audit index did not answer; retrying is safe"}
	}
	if len(recs) == 0 {
		return nil, badQuery("next %q is not the marker of a previous page (no such trace, or it has aged out)", id)
	}
	return &index.Cursor{Time: recs[0].Time, Seq: recs[0].Seq}, nil
}
