package router_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// traceFields are what the CTS filters test, read from an event as
// published, independently of the index.
func traceFields(e event.Event) map[string]string {
	ext := func(k string) string { s, _ := e.Extensions()[k].(string); return s }
	var d map[string]any
	_ = json.Unmarshal(e.Data(), &d)
	rid, _ := d["resource_id"].(string)
	if ref, ok := d["objectRef"].(map[string]any); ok {
		rid, _ = ref["uid"].(string)
	}
	rating := ext("tracerating")
	if rating == "" {
		rating = map[bool]string{true: "warning", false: "normal"}[ext("outcome") == "failure"]
	}
	product, _, _ := strings.Cut(e.Type(), ":")
	return map[string]string{"user": ext("principal"), "resource_name": ext("resourcename"), "resource_type": ext("resourcetype"),
		"resource_id": rid, "trace_rating": rating, "service_type": product, "trace_name": ext("action"), "trace_id": e.ID()}
}

// traces walks every page of GET /v3/p/traces?query, following the
// marker, and returns the trace ids in order.
func traces(t *testing.T, s *router.Server, query string) []string {
	t.Helper()
	var ids []string
	next := ""
	for range 200 {
		q := query
		if next != "" {
			q += "&next=" + url.QueryEscape(next)
		}
		status, _, out := call(t, s, "GET", "/v3/0123456789abcdef/traces?"+q, "", nil, bearer(adminToken))
		if status != 200 {
			t.Fatalf("traces?%s: %d %v", q, status, out)
		}
		page := out["traces"].([]any)
		meta := out["meta_data"].(map[string]any)
		if int(meta["count"].(float64)) != len(page) {
			t.Fatalf("meta_data.count %v, page of %d", meta["count"], len(page))
		}
		for _, tr := range page {
			ids = append(ids, tr.(map[string]any)["trace_id"].(string))
		}
		m, _ := meta["marker"].(string)
		if m == "" {
			return ids
		}
		next = m
	}
	t.Fatal("paging did not end")
	return nil
}

func TestCTSTracesQuery(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") })
	start := time.Now().Add(-50 * time.Minute).Truncate(time.Second)
	evs := indextest.Events(t, 120, start)
	publishBatch(t, s, "default", evs)
	indexed(t, s, 120)

	window := fmt.Sprintf("from=%d&to=%d", start.Add(-time.Second).UnixMilli(), time.Now().UnixMilli())
	cases := []map[string]string{
		{}, {"user": "bob"}, {"service_type": "VPC"}, {"service_type": "tke", "user": "carol"},
		{"resource_id": "rid-1"}, {"resource_id": "uid-2"}, {"resource_name": "res-3"}, {"resource_type": "pods"},
		{"trace_rating": "warning"}, {"trace_rating": "incident", "service_type": "VPC"}, {"trace_name": "delete"},
		{"trace_id": evs[7].ID(), "user": "nobody"}, // trace_id: the other conditions do not apply
	}
	for _, c := range cases {
		v := url.Values{}
		for k, val := range c {
			v.Set(k, val)
		}
		var want []string
		for i := len(evs) - 1; i >= 0; i-- {
			f := traceFields(evs[i])
			ok := true
			for k, val := range c {
				ok = ok && (f[k] == val || c["trace_id"] != "" && k != "trace_id")
			}
			if ok {
				want = append(want, evs[i].ID())
			}
		}
		if len(want) == 0 {
			t.Fatalf("%v: no event matches; the case tests nothing", c)
		}
		q := window + "&trace_type=system&limit=7&" + v.Encode()
		if got := traces(t, s, q); !slices.Equal(got, want) {
			t.Errorf("%v: got %d %v\nwant %d %v", c, len(got), got, len(want), want)
		}
	}
	// from and to exclude their own times; the default window is the
	// last hour; limit defaults to 10.
	from, to := evs[30].Time().UnixMilli(), evs[40].Time().UnixMilli()
	var want []string
	for i := 39; i > 30; i-- {
		want = append(want, evs[i].ID())
	}
	if got := traces(t, s, fmt.Sprintf("trace_type=system&from=%d&to=%d", from, to)); !slices.Equal(got, want) {
		t.Errorf("from/to: got %v\nwant %v", got, want)
	}
	_, _, out := call(t, s, "GET", "/v3/p/traces?trace_type=system", "", nil, bearer(adminToken))
	if n := len(out["traces"].([]any)); n != 10 {
		t.Errorf("default limit: %d traces, want 10", n)
	}
}

func TestCTSTracesErrors(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") })
	cases := []struct {
		query, token string
		status       int
		code         string
	}{
		{"trace_type=audit", adminToken, 400, "CTS.0300"},
		{"limit=0", adminToken, 400, "CTS.0300"},
		{"limit=201", adminToken, 400, "CTS.0300"},
		{"limit=ten", adminToken, 400, "CTS.0300"},
		{"from=yesterday", adminToken, 400, "CTS.0300"},
		{"from=2000&to=1000", adminToken, 400, "CTS.0300"},
		{"trace_rating=bad", adminToken, 400, "CTS.0300"},
		{"next=no-such-trace", adminToken, 400, "CTS.0300"},
		{"colour=red", adminToken, 400, "CTS.0300"},
		{"trace_type=system&tracker_name=mine", adminToken, 400, "CTS.0204"},
		{"trace_type=data&tracker_name=mine", adminToken, 404, "CTS.0214"},
		{"trace_type=system", outsiderToken, 403, "CTS.0002"},
		{"trace_type=system", "", 401, "CTS.0002"},
	}
	for _, c := range cases {
		var h = bearer(c.token)
		if c.token == "" {
			h = nil
		}
		status, _, out := call(t, s, "GET", "/v3/p/traces?"+c.query, "", nil, h)
		if status != c.status || out["error_code"] != c.code || out["error_msg"] == "" {
			t.Errorf("%s: %d %v, want %d %s", c.query, status, out, c.status, c.code)
		}
	}
	status, _, out := call(t, s, "GET", "/v3/p/traces?trace_type=data", "", nil, bearer(adminToken))
	if status != 200 || len(out["traces"].([]any)) != 0 || out["meta_data"].(map[string]any)["marker"] != nil {
		t.Errorf("data traces: %d %v, want an empty page", status, out)
	}
}
