package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"
)

// searchFilters are the index fields `auditbus search` has flags for,
// flag name to query parameter.
var searchFilters = [][2]string{
	{"principal", "principal"}, {"action", "action"}, {"type", "type"}, {"source", "source"},
	{"resource-type", "resourcetype"}, {"resource-name", "resourcename"}, {"resource-id", "resourceid"},
	{"outcome", "outcome"}, {"source-ip", "sourceip"}, {"region", "region"}, {"cluster", "cluster"},
	{"request-id", "requestid"}, {"id", "id"},
}

// searchHit is one answer of the search endpoints.
type searchHit struct {
	Bus   string          `json:"bus"`
	Seq   uint64          `json:"seq"`
	Event json.RawMessage `json:"event"`
}

type searchPage struct {
	Events []searchHit `json:"events"`
	Next   string      `json:"next"`
}

// runSearch is `auditbus search`: the audit index through GET
// /v1/audit-events, or POST /v1/audit-events:search with --pattern,
// newest first, following pages until --limit events are printed.
func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("search", stderr)
	var f dlqFlags
	fs.StringVar(&f.base, "url", envOr("AUDITBUS_URL", "http://127.0.0.1:8080"), "auditbus HTTP API (env AUDITBUS_URL)")
	fs.StringVar(&f.bus, "bus", "", "only this bus (default: every bus the identity may read)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "timeout per request")
	f.client.register(fs)
	filters := map[string]*string{}
	for _, p := range searchFilters {
		filters[p[1]] = fs.String(p[0], "", "only events whose "+p[1]+" is this")
	}
	since := fs.String("since", "", "only events since this time: RFC 3339, or a duration ago (24h)")
	until := fs.String("until", "", "only events before this time: RFC 3339, or a duration ago")
	limit := fs.Int("limit", 50, "print at most this many events")
	pattern := fs.String("pattern", "", "a file holding an event pattern in the rule language (YAML or JSON): events it matches")
	condition := fs.String("condition", "", "with --pattern: a rule condition the events must also meet")
	asJSON := fs.Bool("json", false, "print NDJSON, one {bus, seq, event} per line, instead of a table")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *limit < 1 {
		return errUsage
	}
	q := url.Values{}
	if f.bus != "" {
		q.Set("bus", f.bus)
	}
	for k, v := range filters {
		if *v != "" {
			q.Set(k, *v)
		}
	}
	for name, v := range map[string]string{"since": *since, "until": *until} {
		if v == "" {
			continue
		}
		t, err := searchTime(v, time.Now())
		if err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		q.Set(name, t.Format(time.RFC3339Nano))
	}
	fetch, err := searcher(ctx, f, q, *pattern, *condition)
	if err != nil {
		return err
	}
	return printSearch(fetch, *limit, *asJSON, stdout, newProgress(stderr))
}

// searchTime reads an RFC 3339 time or a duration before now.
func searchTime(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time (2026-11-03T10:00:00Z) or a duration ago (24h)", v)
	}
	return t, nil
}

// searcher returns the function that fetches the page after next.
func searcher(ctx context.Context, f dlqFlags, q url.Values, patternFile, condition string) (func(next string, n int) (searchPage, error), error) {
	if patternFile == "" {
		return func(next string, n int) (searchPage, error) {
			q.Set("limit", strconv.Itoa(min(n, 200)))
			if next != "" {
				q.Set("next", next)
			}
			return searchCall(ctx, f, http.MethodGet, "/v1/audit-events?"+q.Encode(), nil)
		}, nil
	}
	src, err := os.ReadFile(patternFile)
	if err != nil {
		return nil, err
	}
	var pat any
	if err := yaml.Unmarshal(src, &pat); err != nil {
		return nil, fmt.Errorf("--pattern %s: %w", patternFile, err)
	}
	body := map[string]any{"pattern": pat}
	if condition != "" {
		body["condition"] = condition
	}
	filters := map[string][]string{}
	for k, vs := range q {
		if k == "bus" || k == "since" || k == "until" {
			body[k] = vs[0]
		} else {
			filters[k] = vs
		}
	}
	body["filters"] = filters
	return func(next string, n int) (searchPage, error) {
		body["limit"], body["next"] = min(n, 200), next
		raw, err := json.Marshal(body)
		if err != nil {
			return searchPage{}, fmt.Errorf("--pattern %s: %w", patternFile, err)
		}
		return searchCall(ctx, f, http.MethodPost, "/v1/audit-events:search", raw)
	}, nil
}

func searchCall(ctx context.Context, f dlqFlags, method, path string, body []byte) (searchPage, error) {
	raw, err := apiCall(ctx, f, method, path, body)
	if err != nil {
		return searchPage{}, err
	}
	var page searchPage
	if err := json.Unmarshal(raw, &page); err != nil {
		return page, fmt.Errorf("unreadable answer: %w", err)
	}
	return page, nil
}

// printSearch fetches pages until limit events or the last page, and
// prints them as a table or NDJSON, counting them on prog.
func printSearch(fetch func(string, int) (searchPage, error), limit int, asJSON bool, stdout io.Writer, prog *progress) error {

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "TIME\tBUS\tPRINCIPAL\tACTION\tRESOURCE\tOUTCOME\tSOURCE IP\tID")
	}
	printed, next := 0, ""
	for printed < limit {
		page, err := fetch(next, limit-printed)
		if err != nil {
			prog.end()
			return err
		}
		prog.clear()
		for _, h := range page.Events[:min(len(page.Events), limit-printed)] {
			if asJSON {
				line, _ := json.Marshal(h)
				fmt.Fprintf(stdout, "%s\n", line)
			} else {
				printRow(tw, h)
			}
			printed++
		}
		next = page.Next
		prog.show(next == "" || printed >= limit, "fetched %d events", printed)
		if next == "" {
			break
		}
	}
	prog.end()
	if asJSON {
		return nil
	}
	return tw.Flush()
}

func printRow(tw io.Writer, h searchHit) {
	fmt.Fprintln(tw, strings.Join(hitColumns(h), "\t"))
}

// hitColumns are the table's columns of one event: time, bus, principal,
// action, resource type/name, outcome, source IP and id, "-" where the
// event does not say.
func hitColumns(h searchHit) []string {
	var e map[string]any
	_ = json.Unmarshal(h.Event, &e)
	s := func(k string) string {
		v, _ := e[k].(string)
		if v == "" {
			return "-"
		}
		return v
	}
	return []string{s("time"), h.Bus, s("principal"), s("action"), s("resourcetype") + "/" + s("resourcename"),
		s("outcome"), s("sourceip"), s("id")}
}
