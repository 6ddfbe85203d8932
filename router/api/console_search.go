package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// ErrNoAuditIndex: the server runs without an audit index (IndexOff).
var ErrNoAuditIndex = errors.New("this server keeps no audit index")

// AuditPage is one page of audit search answers, newest first.
type AuditPage = auditPage

// AuditEvent is one answer of an audit search: the event as stored, its
// bus and stream sequence.
type AuditEvent = auditEvent

// SearchRequest is POST /v1/audit-events:search's body.
type SearchRequest = searchBody

// AuditEvents is GET /v1/audit-events with the query q (the same
// parameters: bus, index fields, since, until, limit, next). Errors: a
// *CallError with the endpoint's status and message for a bad parameter,
// a bus the identity may not read, or an unavailable index
// (ErrNoAuditIndex when the server has none).
func (s *Server) AuditEvents(ctx context.Context, q url.Values) (AuditPage, error) {
	var p AuditPage
	if s.opts.index == nil {
		return p, ErrNoAuditIndex
	}
	return p, call(ctx, s.listAuditEvents, http.MethodGet, q, nil, &p)
}

// SearchAuditEvents is POST /v1/audit-events:search: the events req's
// pattern matches, newest first. Errors as AuditEvents', and the
// pattern's, positioned as the rule language positions them.
func (s *Server) SearchAuditEvents(ctx context.Context, req SearchRequest) (AuditPage, error) {
	var p AuditPage
	if s.opts.index == nil {
		return p, ErrNoAuditIndex
	}
	return p, call(ctx, s.searchAuditEvents, http.MethodPost, nil, req, &p)
}
