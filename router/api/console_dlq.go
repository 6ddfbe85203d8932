package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/auditbus/auditbus/router/dispatch"
)

// ErrNoDLQ: the server serves no dead-letter queue.
var ErrNoDLQ = errors.New("this server has no dead-letter queue")

// RedriveRequest is POST /v1/dlq:redrive's body.
type RedriveRequest = redriveBody

// ListDLQ is GET /v1/dlq with the query q (bus, rule, target, limit,
// next): dead letters oldest first. Errors: a *CallError with the
// endpoint's status and message (a bad filter, a bus the identity may
// not read, an identity of several buses naming none), ErrNoDLQ.
func (s *Server) ListDLQ(ctx context.Context, q url.Values) (dispatch.DLQPage, error) {
	var p dispatch.DLQPage
	if s.opts.dlq == nil {
		return p, ErrNoDLQ
	}
	return p, call(ctx, s.listDLQ, http.MethodGet, q, nil, &p)
}

// RedriveDLQ is POST /v1/dlq:redrive: the dead letters req selects
// (by ids, or by rule and optionally bus and target) queued again.
// Errors as ListDLQ's, and the endpoint's for a bad selection.
func (s *Server) RedriveDLQ(ctx context.Context, req RedriveRequest) (dispatch.RedriveResult, error) {
	var res dispatch.RedriveResult
	if s.opts.dlq == nil {
		return res, ErrNoDLQ
	}
	return res, call(ctx, s.redriveDLQ, http.MethodPost, nil, req, &res)
}
