package acp

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/index"
)

// MaxSize is the most events a page holds.
const MaxSize = 500

// Scopes.
const (
	ScopeAll    = "all"
	ScopeUser   = "user"
	ScopeSystem = "system"
)

// Error is a refused query: a 400 naming the parameter, or a 503 when
// the index did not answer.
type Error struct {
	Status int
	Msg    string
	Err    error // the cause, for the log and errors.Is, never shown to the client
}

// Error is the message, then the cause if any.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap is the cause.
func (e *Error) Unwrap() error { return e.Err }

func badParam(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// filters are the parameters that select events by one index field.
// resourcce_type is the seed's own spelling of resource_type; both are
// read.
var filters = map[string]index.Field{
	"cluster": index.FieldCluster, "user_name": index.FieldPrincipal, "resource_name": index.FieldResourceName,
	"resource_type": index.FieldResourceType, "resourcce_type": index.FieldResourceType,
	"operation_type": index.FieldAction, "source_ip": index.FieldSourceIP,
}

var params = []string{"start_time", "end_time", "size", "pageno", "cluster", "scope", "user_name",
	"resource_name", "resource_type", "resourcce_type", "operation_type", "source_ip", "response_status"}

// statuses are the response_status values, ACP's 成功 and 失败 and their
// English words, by the outcome each selects.
var statuses = map[string]string{"成功": "success", "失败": "failure", "success": "success", "failure": "failure"}

// request is a parsed query.
type request struct {
	q            index.Query
	size, pageno int
}

// parse reads and checks the query parameters.
func parse(v url.Values) (request, *Error) {
	req := request{q: index.Query{Equal: map[index.Field][]string{index.FieldKind: {"K8sAudit"}}}}
	for name, vals := range v {
		if !slices.Contains(params, name) {
			return req, badParam("query parameter %s is not supported (supported: %s)", name, strings.Join(params, ", "))
		}
		if len(vals) > 1 {
			return req, badParam("query parameter %s is given %d times; give it once", name, len(vals))
		}
	}
	for _, name := range []string{"start_time", "end_time", "size", "pageno", "cluster"} {
		if v.Get(name) == "" {
			return req, badParam("%s is required", name)
		}
	}
	if a, b := v.Get("resource_type"), v.Get("resourcce_type"); a != "" && b != "" && a != b {
		return req, badParam("resource_type %q and resourcce_type %q differ; give one", a, b)
	}
	for name, f := range filters {
		if val := v.Get(name); val != "" {
			req.q.Equal[f] = []string{val}
		}
	}
	switch s := v.Get("scope"); s {
	case "", ScopeAll:
	case ScopeUser, ScopeSystem:
		req.q.Equal[index.FieldScope] = []string{s}
	default:
		return req, badParam("scope %q: want all, user or system", s)
	}
	if s := v.Get("response_status"); s != "" {
		o, ok := statuses[strings.ToLower(s)]
		if !ok {
			return req, badParam("response_status %q: want 成功 or 失败 (success or failure)", s)
		}
		req.q.Equal[index.FieldOutcome] = []string{o}
	}
	if err := req.window(v); err != nil {
		return req, err
	}
	return req, req.page(v)
}

// window reads start_time and end_time, both inclusive: epoch seconds,
// or milliseconds (a value of 11 digits or more: seconds would be past
// the year 5000).
func (req *request) window(v url.Values) *Error {
	var at [2]time.Time
	for i, name := range []string{"start_time", "end_time"} {
		s := v.Get(name)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > maxMillis {
			return badParam("%s %q: want a timestamp, epoch seconds or milliseconds", name, s)
		}
		unit := time.Millisecond
		if n < secondsBelow {
			unit = time.Second
		}
		at[i] = time.Unix(0, n*int64(unit))
		if i == 1 {
			at[i] = at[i].Add(unit) // the whole last second or millisecond
		}
	}
	if !at[0].Before(at[1]) {
		return badParam("start_time %s is after end_time %s", v.Get("start_time"), v.Get("end_time"))
	}
	req.q.After, req.q.Before = at[0].Add(-time.Nanosecond), at[1]
	return nil
}

const (
	secondsBelow = 100_000_000_000
	maxMillis    = 9_000_000_000_000
)

// page reads size and pageno (from 1).
func (req *request) page(v url.Values) *Error {
	size, err := strconv.Atoi(v.Get("size"))
	if err != nil || size < 1 || size > MaxSize {
		return badParam("size %q: want an integer from 1 to %d", v.Get("size"), MaxSize)
	}
	pageno, err := strconv.Atoi(v.Get("pageno"))
	if err != nil || pageno < 1 || pageno > maxOffset/size {
		return badParam("pageno %q: want an integer from 1 to %d", v.Get("pageno"), maxOffset/size)
	}
	req.size, req.pageno = size, pageno
	req.q.Limit, req.q.Offset = size, (pageno-1)*size
	return nil
}

// maxOffset bounds how deep a page may start, so pageno*size cannot
// overflow.
const maxOffset = 1 << 30
