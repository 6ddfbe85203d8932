package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/ingest"
	"github.com/auditbus/auditbus/rules"
)

// Pattern search limits: how many indexed events one call examines at
// most (the answer's next continues after the last one examined), and
// how many it reads from the index at once.
const (
	DefaultSearchScan = 10000
	MaxSearchScan     = 100000
	searchBatch       = 500
)

// searchBody is POST /v1/audit-events:search's request: an event pattern
// (and optionally a condition) in the rule language, and the filters of
// GET /v1/audit-events (index fields as lists of values).
type searchBody struct {
	Pattern   json.RawMessage     `json:"pattern"`
	Condition string              `json:"condition"`
	Bus       string              `json:"bus"`
	Filters   map[string][]string `json:"filters"`
	Subject   string              `json:"subject_prefix"`
	Since     string              `json:"since"`
	Until     string              `json:"until"`
	Limit     int                 `json:"limit"`
	Next      string              `json:"next"`
	MaxScan   int                 `json:"max_scan"`
}

// searchAuditEvents answers which indexed events a rule's pattern (and
// condition) matches, newest first. The index narrows by the filters, bus
// and time, and by what the pattern makes necessary on indexed attributes
// (index.Narrow); the rule engine decides each candidate. A call examines at most
// max_scan events (default 10,000): when it stops there, next continues
// the search even if the page holds fewer than limit events.
func (s *Server) searchAuditEvents(w http.ResponseWriter, r *http.Request) {
	raw, err := ingest.ReadBody(r, s.opts.maxBody)
	if err != nil {
		status, code := errorStatus(err)
		writeError(w, status, code, publicMessage(code, err))
		return
	}
	var b searchBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, CodeMalformed, fmt.Sprintf(`search: %v; want {"pattern": {...}, "bus": ..., "filters": {...}, "since": ..., "limit": ...}`, err))
		return
	}
	rule, err := PatternRule(b.Pattern, b.Condition)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidRule, err.Error())
		return
	}
	q, ok := auditQuery(w, r, b.values())
	if !ok {
		return
	}
	scanMax := DefaultSearchScan
	if b.MaxScan != 0 {
		if b.MaxScan < 1 || b.MaxScan > MaxSearchScan {
			badParam(w, "max_scan", strconv.Itoa(b.MaxScan), fmt.Sprintf("want 1 to %d", MaxSearchScan))
			return
		}
		scanMax = b.MaxScan
	}
	page, err := s.scan(r, index.Narrow(q, rule), rule, scanMax)
	if err != nil {
		s.indexError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// values turns the body's filters into GET /v1/audit-events parameters,
// so both endpoints check them the same way.
func (b searchBody) values() url.Values {
	v := url.Values{}
	for k, vs := range b.Filters {
		v[k] = vs
	}
	for k, s := range map[string]string{"bus": b.Bus, "subject_prefix": b.Subject, "since": b.Since, "until": b.Until, "next": b.Next} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if b.Limit != 0 {
		v.Set("limit", strconv.Itoa(b.Limit))
	}
	return v
}

// PatternRule compiles an event pattern (a JSON object) and an optional
// condition as a rule's, so they mean exactly what they would in a rule
// file. Errors are the rule language's, prefixed "search pattern", or say
// that pattern is not an object.
func PatternRule(pattern json.RawMessage, condition string) (*rules.Rule, error) {
	pattern = bytes.TrimSpace(pattern)
	if len(pattern) == 0 || pattern[0] != '{' {
		return nil, fmt.Errorf(`search: "pattern" must be an event pattern object, as a rule's pattern`)
	}
	doc := map[string]any{"name": "audit-search", "pattern": pattern,
		"targets": []any{map[string]any{"id": "search", "log": map[string]any{}}}}
	if condition != "" {
		doc["condition"] = condition
	}
	src, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	rs, err := rules.ParseFile("search", src)
	if err != nil {
		return nil, fmt.Errorf("search pattern: %w", err)
	}
	return rs[0], nil
}

// scan reads the index page by page from q and keeps the events rule
// matches, until q.Limit of them or scanMax examined.
func (s *Server) scan(r *http.Request, q index.Query, rule *rules.Rule, scanMax int) (auditPage, error) {
	limit := q.Limit
	page := auditPage{Events: []auditEvent{}}
	for page.Scanned < scanMax {
		q.Limit = min(searchBatch, scanMax-page.Scanned)
		recs, err := s.opts.index.Search(r.Context(), q)
		if err != nil {
			return page, err
		}
		for i, rec := range recs {
			page.Scanned++
			if matches(rule, rec) {
				page.Events = append(page.Events, auditEvent{Bus: rec.Bus, Seq: rec.Seq, Event: rec.Event})
			}
			if len(page.Events) == limit {
				if i < len(recs)-1 || len(recs) == q.Limit {
					page.Next = encodeCursor(rec)
				}
				return page, nil
			}
		}
		if len(recs) < q.Limit {
			page.Next = "" // the index has no more
			return page, nil
		}
		last := recs[len(recs)-1]
		q.From = &index.Cursor{Time: last.Time, Seq: last.Seq}
		page.Next = encodeCursor(last)
	}
	return page, nil
}

// matches runs the rule on a stored event; one that no longer decodes
// matches nothing.
func matches(rule *rules.Rule, rec index.Record) bool {
	var e event.Event
	if cejson.Unmarshal(rec.Event, &e) != nil {
		return false
	}
	ok, _ := rule.Match(rules.NewEnv(&e))
	return ok
}
