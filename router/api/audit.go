package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/index"
)

// AuditIndex is the audit index the search endpoints read; an
// index.Store is the real one.
type AuditIndex interface {
	Search(ctx context.Context, q index.Query) ([]index.Record, error)
	Count(ctx context.Context, q index.Query) (int64, error)
}

// IndexStatus reports the indexer's state for /readyz; *index.Indexer is
// the real one.
type IndexStatus interface{ Status() index.Status }

// WithAuditIndex serves GET /v1/audit-events, POST /v1/audit-events:search
// and the vendor query faces from ix, and shows st in /readyz. Default: no
// search endpoints.
func WithAuditIndex(ix AuditIndex, st IndexStatus) Option {
	return func(o *options) { o.index, o.indexStatus = ix, st }
}

// Audit search limits.
const (
	DefaultAuditLimit = 50
	MaxAuditLimit     = 200
)

// auditEvent is one answer of the search endpoints: the event as stored
// and where it is.
type auditEvent struct {
	Bus   string          `json:"bus"`
	Seq   uint64          `json:"seq"`
	Event json.RawMessage `json:"event"`
}

type auditPage struct {
	Events []auditEvent `json:"events"`
	// Next continues with the following page; absent on the last one.
	Next string `json:"next,omitempty"`
	// Scanned is how many indexed events a pattern search examined.
	Scanned int `json:"scanned,omitempty"`
}

// auditParams are the query parameters of GET /v1/audit-events beside the
// index fields.
var auditParams = []string{"bus", "subject_prefix", "since", "until", "limit", "next"}

// listAuditEvents answers GET /v1/audit-events: indexed events, newest
// first, filtered by the query (see auditQuery).
func (s *Server) listAuditEvents(w http.ResponseWriter, r *http.Request) {
	q, ok := auditQuery(w, r, r.URL.Query())
	if !ok {
		return
	}
	limit := q.Limit
	q.Limit++ // one more, to know whether a next page exists
	recs, err := s.opts.index.Search(r.Context(), q)
	if err != nil {
		s.indexError(w, err)
		return
	}
	page := auditPage{Events: make([]auditEvent, 0, min(len(recs), limit))}
	for i, rec := range recs {
		if i == limit {
			page.Next = encodeCursor(recs[i-1])
			break
		}
		page.Events = append(page.Events, auditEvent{Bus: rec.Bus, Seq: rec.Seq, Event: rec.Event})
	}
	writeJSON(w, http.StatusOK, page)
}

// auditQuery reads the filters: one parameter per index field
// (repeatable: any of the values), bus (scoped by the identity),
// subject_prefix, since and until (RFC 3339; since inclusive, until
// exclusive), limit (1 to 200, default 50) and next. It answers a bad
// parameter itself.
func auditQuery(w http.ResponseWriter, r *http.Request, vals url.Values) (index.Query, bool) {
	q := index.Query{Limit: DefaultAuditLimit, Equal: map[index.Field][]string{}}
	for name, vs := range vals {
		f := index.Field(name)
		switch {
		case slices.Contains(auditParams, name):
			if len(vs) > 1 {
				return q, badParam(w, name, strings.Join(vs, ","), "give it once")
			}
		case f != index.FieldBus && slices.Contains(index.Fields, f):
			q.Equal[f] = vs
		default:
			return q, badParam(w, name, vals.Get(name), "not a filter; use "+filterNames())
		}
	}
	var ok bool
	if q.Buses, ok = auditBuses(w, r, vals.Get("bus")); !ok {
		return q, false
	}
	q.SubjectPrefix = vals.Get("subject_prefix")
	for _, p := range []struct {
		name  string
		dst   *time.Time
		nudge time.Duration
	}{{"since", &q.After, -time.Nanosecond}, {"until", &q.Before, 0}} {
		if v := vals.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return q, badParam(w, p.name, v, "want an RFC 3339 time such as 2026-11-03T10:00:00Z")
			}
			*p.dst = t.Add(p.nudge)
		}
	}
	if v := vals.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxAuditLimit {
			return q, badParam(w, "limit", v, fmt.Sprintf("want 1 to %d", MaxAuditLimit))
		}
		q.Limit = n
	}
	if v := vals.Get("next"); v != "" {
		c, err := decodeCursor(v)
		if err != nil {
			return q, badParam(w, "next", v, "want the next of a previous page")
		}
		q.From = &c
	}
	return q, true
}

func badParam(w http.ResponseWriter, name, value, why string) bool {
	writeError(w, http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("%s %q: %s", name, value, why))
	return false
}

func filterNames() string {
	names := slices.Clone(auditParams)
	for _, f := range index.Fields {
		if f != index.FieldBus {
			names = append(names, string(f))
		}
	}
	return strings.Join(names, ", ")
}

// auditBuses are the buses a search covers: the one named (if the
// identity may read it), else every bus the identity may read (nil: all).
func auditBuses(w http.ResponseWriter, r *http.Request, bus string) ([]string, bool) {
	if bus != "" {
		if !busName.MatchString(bus) {
			return nil, badParam(w, "bus", bus, "want [a-z0-9][a-z0-9-]{0,63}")
		}
		return []string{bus}, permitBus(w, r, bus)
	}
	if id := auth.FromContext(r.Context()); id != nil {
		return id.Buses(), true
	}
	return nil, true
}

// encodeCursor writes the position after rec: its time in nanoseconds
// and its stream sequence.
func encodeCursor(rec index.Record) string {
	return strconv.FormatInt(rec.Time.UnixNano(), 10) + "-" + strconv.FormatUint(rec.Seq, 10)
}

func decodeCursor(s string) (index.Cursor, error) {
	ns, seq, ok := strings.Cut(s, "-")
	n, err1 := strconv.ParseInt(ns, 10, 64)
	q, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return index.Cursor{}, fmt.Errorf("cursor %q: want <nanoseconds>-<sequence>", s)
	}
	return index.Cursor{Time: time.Unix(0, n).UTC(), Seq: q}, nil
}

func (s *Server) indexError(w http.ResponseWriter, err error) {
	s.opts.log.Error().Err(err).Msg("audit index query failed")
	writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the audit index did not answer; retrying is safe")
}
