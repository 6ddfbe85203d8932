package hss

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/index"
)

// Audit log query limits. HSS documents a default limit of 10 and no
// maximum; auditbus answers at most MaxLimit records a page, as CTS.
const (
	DefaultLimit = 10
	MaxLimit     = 200
)

// Verbs are the verb values HSS documents.
var Verbs = []string{"create", "delete", "deletecollection", "patch", "update", "get", "list", "watch"}

// filters are the optional query parameters that select records, by the
// index field each tests.
var filters = map[string]index.Field{
	"cluster_name": index.FieldCluster, "host_name": index.FieldHostName, "host_id": index.FieldHostID,
	"host_ip": index.FieldHostIP, "verb": index.FieldAction,
}

// params are every parameter the query takes.
var params = []string{"enterprise_project_id", "cluster_id", "cluster_name", "host_name", "host_id", "host_ip",
	"verb", "start_time", "end_time", "limit", "offset", "line_num"}

// parse reads and checks the query parameters into an index query.
// enterprise_project_id is accepted and ignored: auditbus has no
// enterprise projects, so every record is in the one a caller names.
func parse(v url.Values) (index.Query, *Error) {
	// No kind filter: only Kubernetes audit events have a clusterid, and
	// without one the count reads the clusterid index alone.
	q := index.Query{Limit: DefaultLimit, Equal: map[index.Field][]string{}}
	for name, vals := range v {
		if !slices.Contains(params, name) {
			return q, badParam("query parameter %s is not supported (supported: %s)", name, strings.Join(params, ", "))
		}
		if len(vals) > 1 {
			return q, badParam("query parameter %s is given %d times; give it once", name, len(vals))
		}
	}
	id := v.Get("cluster_id")
	if id == "" {
		return q, badParam("cluster_id is required: the ID of the cluster whose audit logs to list")
	}
	q.Equal[index.FieldClusterID] = []string{id}
	for name, f := range filters {
		if val := v.Get(name); val != "" {
			q.Equal[f] = []string{val}
		}
	}
	if verb := v.Get("verb"); verb != "" && !slices.Contains(Verbs, verb) {
		return q, badParam("verb %q: want one of %s", verb, strings.Join(Verbs, ", "))
	}
	if err := window(&q, v); err != nil {
		return q, err
	}
	if err := page(&q, v); err != nil {
		return q, err
	}
	return q, nil
}

// window reads start_time and end_time, epoch milliseconds, both
// inclusive ("minimum" and "maximum" time), into the query's exclusive
// bounds.
func window(q *index.Query, v url.Values) *Error {
	var ms [2]int64
	for i, name := range []string{"start_time", "end_time"} {
		s := v.Get(name)
		if s == "" {
			return badParam("%s is required: epoch milliseconds", name)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > maxMillis {
			return badParam("%s %q: want epoch milliseconds, an integer from 0 to %d", name, s, int64(maxMillis))
		}
		ms[i] = n
	}
	if ms[0] > ms[1] {
		return badParam("start_time %d is after end_time %d", ms[0], ms[1])
	}
	q.After = time.UnixMilli(ms[0]).Add(-time.Nanosecond)
	q.Before = time.UnixMilli(ms[1] + 1)
	return nil
}

// maxMillis keeps a time's nanoseconds (the index's unit) in an int64.
const maxMillis = 9_000_000_000_000

// page reads limit, offset and line_num.
func page(q *index.Query, v url.Values) *Error {
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return badParam("limit %q: want an integer from 1 to %d", s, MaxLimit)
		}
		q.Limit = n
	}
	if s := v.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return badParam("offset %q: want an integer no less than 0", s)
		}
		q.Offset = n
	}
	if s := v.Get("line_num"); s != "" {
		c, err := parseLineNum(s)
		if err != nil {
			return badParam("line_num %q: %v", s, err)
		}
		q.From = &c
	}
	return nil
}

// LineNum is a record's line_num: its place in the newest-first order
// (event time in nanoseconds, stream sequence), which a query's line_num
// continues after.
func LineNum(rec index.Record) string {
	return strconv.FormatInt(rec.Time.UnixNano(), 10) + "-" + strconv.FormatUint(rec.Seq, 10)
}

func parseLineNum(s string) (index.Cursor, error) {
	ns, seq, ok := strings.Cut(s, "-")
	n, err1 := strconv.ParseInt(ns, 10, 64)
	q, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return index.Cursor{}, fmt.Errorf("want the line_num of a record of an earlier page (<nanoseconds>-<sequence>)")
	}
	return index.Cursor{Time: time.Unix(0, n).UTC(), Seq: q}, nil
}
