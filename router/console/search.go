package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/cejson"
)

// searchFilters are the filters the search form offers, as GET
// /v1/audit-events names them, with their labels.
var searchFilters = []struct{ Name, Label string }{
	{"principal", "Principal"}, {"source", "Source"}, {"type", "Type"}, {"action", "Action"},
	{"resourcetype", "Resource type"}, {"resourcename", "Resource name"}, {"outcome", "Outcome"},
	{"sourceip", "Source IP"}, {"region", "Region"}, {"cluster", "Cluster"},
}

// searchField is one filter of the form with its value.
type searchField struct{ Name, Label, Value string }

// searchData is the search page's: the form's values, the answers and
// the link to the next page.
type searchData struct {
	Bus, Since, Until, Pattern string
	Fields                     []searchField
	Searched                   bool
	Hits                       []searchHit
	Next, Error                string
	Problems                   []string
	Scanned                    int
}

// searchHit is one answer, summarized.
type searchHit struct {
	Bus                             string
	Seq                             uint64
	Time, ID, Type, Source, Subject string
}

// search is audit search over the index: the filters of GET
// /v1/audit-events, or a pattern as POST /v1/audit-events:search takes
// it, newest first, a page at a time.
func (c *Console) search(rq *request) {
	q := rq.r.URL.Query()
	d := searchData{Bus: q.Get("bus"), Since: q.Get("since"), Until: q.Get("until"), Pattern: q.Get("pattern"), Searched: len(q) > 0}
	vals := url.Values{}
	for _, f := range searchFilters {
		d.Fields = append(d.Fields, searchField{f.Name, f.Label, q.Get(f.Name)})
		if v := q.Get(f.Name); v != "" {
			vals.Set(f.Name, v)
		}
	}
	status := http.StatusOK
	if d.Searched {
		page, err := c.runSearch(rq, d, vals, q.Get("next"))
		switch {
		case err == nil:
			d.Scanned = page.Scanned
			for _, e := range page.Events {
				d.Hits = append(d.Hits, summarize(e))
			}
			if page.Next != "" {
				q.Set("next", page.Next)
				d.Next = Prefix + "search?" + q.Encode()
			}
		case errors.As(err, new(*patternError)):
			status, d.Problems = http.StatusBadRequest, problems(errors.Unwrap(err))
		default:
			status, d.Error = callStatus(err), err.Error()
		}
	}
	rq.render(status, "search.html", "Audit search", d)
}

// patternError marks a pattern that did not compile.
type patternError struct{ err error }

func (e *patternError) Error() string { return e.err.Error() }
func (e *patternError) Unwrap() error { return e.err }

// runSearch asks the index: by the filters alone, or through the
// pattern when there is one.
func (c *Console) runSearch(rq *request, d searchData, vals url.Values, next string) (api.AuditPage, error) {
	_, pattern, err := api.PatternText(d.Pattern)
	if err != nil {
		return api.AuditPage{}, &patternError{err}
	}
	ctx := rq.r.Context()
	if pattern == nil {
		for k, v := range map[string]string{"bus": d.Bus, "since": d.Since, "until": d.Until, "next": next} {
			if v != "" {
				vals.Set(k, v)
			}
		}
		return c.api.AuditEvents(ctx, vals)
	}
	req := api.SearchRequest{Pattern: pattern, Bus: d.Bus, Since: d.Since, Until: d.Until, Next: next, Filters: map[string][]string{}}
	for k := range vals {
		req.Filters[k] = vals[k]
	}
	return c.api.SearchAuditEvents(ctx, req)
}

// callStatus is the status an API call's error answers with.
func callStatus(err error) int {
	var ce *api.CallError
	if errors.As(err, &ce) {
		return ce.Status
	}
	return http.StatusServiceUnavailable
}

func summarize(e api.AuditEvent) searchHit {
	h := searchHit{Bus: e.Bus, Seq: e.Seq}
	var ev event.Event
	if cejson.Unmarshal(e.Event, &ev) == nil {
		h.Time, h.ID, h.Type, h.Source, h.Subject = ev.Time().UTC().Format("2006-01-02 15:04:05Z"), ev.ID(), ev.Type(), ev.Source(), ev.Subject()
	}
	return h
}

// eventData is an event's detail page's.
type eventData struct {
	recentEvent
	Pretty string
}

// searchEvent is one stored event in full (from the events stream, so
// it is the event as stored even when the index keeps less).
func (c *Console) searchEvent(rq *request) {
	seq, err := strconv.ParseUint(rq.r.PathValue("seq"), 10, 64)
	if err != nil {
		rq.fail(http.StatusBadRequest, "Event "+rq.r.PathValue("seq")+": want a stream sequence number.")
		return
	}
	e, err := c.storedEvent(rq.r.Context(), seq)
	if err != nil || e.Bus != rq.r.PathValue("bus") {
		rq.fail(http.StatusNotFound, "Event "+rq.r.PathValue("seq")+" is not on bus "+rq.r.PathValue("bus")+" any more, or is of a bus you may not see.")
		return
	}
	d := eventData{recentEvent: e, Pretty: e.JSON}
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(e.JSON), "", "  ") == nil {
		d.Pretty = buf.String()
	}
	rq.render(http.StatusOK, "event.html", "Event "+e.ID, d)
}
