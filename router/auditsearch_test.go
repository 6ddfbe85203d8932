package router_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// publishBatch stores evs on bus through POST /v1/events (batched mode).
func publishBatch(t *testing.T, s *router.Server, bus string, evs []event.Event) {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range evs {
		if i > 0 {
			b.WriteByte(',')
		}
		raw, err := cejson.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		b.Write(raw)
	}
	b.WriteByte(']')
	status, _, out := call(t, s, "POST", "/v1/events?bus="+bus, "application/cloudevents-batch+json", b.Bytes(), bearer(adminToken))
	if status != 202 {
		t.Fatalf("publish: %d %v", status, out)
	}
}

// indexed waits until the audit index answers n events to the admin.
func indexed(t *testing.T, s *router.Server, n int) {
	t.Helper()
	waitFor(t, "indexed", func() (bool, string) {
		ids := listIDs(t, s, "limit=200", adminToken)
		return len(ids) == n, fmt.Sprintf("%d indexed", len(ids))
	})
}

// listIDs walks every page of GET /v1/audit-events?query and returns the
// event ids in order.
func listIDs(t *testing.T, s *router.Server, query, token string) []string {
	t.Helper()
	var ids []string
	next := ""
	for range 100 {
		q := query
		if next != "" {
			q += "&next=" + url.QueryEscape(next)
		}
		status, _, out := call(t, s, "GET", "/v1/audit-events?"+q, "", nil, bearer(token))
		if status != 200 {
			t.Fatalf("GET /v1/audit-events?%s: %d %v", q, status, out)
		}
		for _, e := range out["events"].([]any) {
			ids = append(ids, e.(map[string]any)["event"].(map[string]any)["id"].(string))
		}
		n, _ := out["next"].(string)
		if n == "" {
			return ids
		}
		next = n
	}
	t.Fatal("paging did not end")
	return nil
}

// expect filters evs (stored in that order, times increasing) by
// extension values, newest first: the independent side.
func expect(evs []event.Event, ext map[string]string) []string {
	var ids []string
	for i := len(evs) - 1; i >= 0; i-- {
		ok := true
		for k, v := range ext {
			got, _ := evs[i].Extensions()[k].(string)
			ok = ok && got == v
		}
		if ok {
			ids = append(ids, evs[i].ID())
		}
	}
	return ids
}

func TestAuditEventsFiltersPagingAndScopes(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") })
	evs := indextest.Events(t, 90, time.Now().Add(-time.Hour).Truncate(time.Second))
	publishBatch(t, s, "default", evs[:60])
	publishBatch(t, s, "prod", evs[60:])
	indexed(t, s, 90)

	cases := []struct {
		query string
		ext   map[string]string
		evs   []event.Event
	}{
		{"principal=alice", map[string]string{"principal": "alice"}, evs},
		{"principal=alice&kind=K8sAudit", map[string]string{"principal": "alice", "kind": "K8sAudit"}, evs},
		{"sourceip=203.0.113.7&outcome=failure", map[string]string{"sourceip": "203.0.113.7", "outcome": "failure"}, evs},
		{"bus=prod&cluster=cls-a", map[string]string{"cluster": "cls-a"}, evs[60:]},
		{"tracerating=warning&region=cn-north-4", map[string]string{"tracerating": "warning", "region": "cn-north-4"}, evs},
		{"type=VPC:CloudTrace:ConsoleAction", map[string]string{}, nil},
	}
	for _, c := range cases {
		want := expect(c.evs, c.ext)
		if c.evs == nil {
			for i := len(evs) - 1; i >= 0; i-- {
				if evs[i].Type() == "VPC:CloudTrace:ConsoleAction" {
					want = append(want, evs[i].ID())
				}
			}
		}
		if len(want) == 0 {
			t.Fatalf("%s: the corpus has no match; the case tests nothing", c.query)
		}
		if got := listIDs(t, s, c.query+"&limit=3", adminToken); !slices.Equal(got, want) {
			t.Errorf("%s: got %v\nwant %v", c.query, got, want)
		}
	}
	// A time window: since inclusive, until exclusive.
	since, until := evs[10].Time(), evs[20].Time()
	q := "since=" + since.Format(time.RFC3339) + "&until=" + until.Format(time.RFC3339)
	var want []string
	for i := 19; i >= 10; i-- {
		want = append(want, evs[i].ID())
	}
	if got := listIDs(t, s, q+"&bus=default", adminToken); !slices.Equal(got, want) {
		t.Errorf("time window: got %v\nwant %v", got, want)
	}

	// The prod identity sees prod only, without naming it, and may not
	// name another bus; the outsider (audit:read) sees everything.
	if got := listIDs(t, s, "limit=200", prodToken); len(got) != 30 {
		t.Errorf("prod identity sees %d events, want prod's 30", len(got))
	}
	if status, _, _ := call(t, s, "GET", "/v1/audit-events?bus=default", "", nil, bearer(prodToken)); status != 403 {
		t.Errorf("prod identity reading bus default: %d, want 403", status)
	}
	if got := listIDs(t, s, "limit=200", outsiderToken); len(got) != 90 {
		t.Errorf("audit:read identity sees %d events, want 90", len(got))
	}
	if status, _, _ := call(t, s, "GET", "/v1/audit-events", "", nil, nil); status != 401 {
		t.Errorf("no identity: %d, want 401", status)
	}

	for _, bad := range []string{"limit=0", "limit=201", "next=x", "since=yesterday", "colour=red", "bus=Prod", "limit=1&limit=2"} {
		status, _, out := call(t, s, "GET", "/v1/audit-events?"+bad, "", nil, bearer(adminToken))
		if status != 400 || out["error_code"] != "AB.1006" {
			t.Errorf("%s: %d %v, want 400 AB.1006", bad, status, out)
		}
	}

	waitFor(t, "lag 0", func() (bool, string) {
		_, _, ready := call(t, s, "GET", "/readyz", "", nil, nil)
		return fmt.Sprint(ready["index"]) == "map[lag:0 running:true]", fmt.Sprint(ready["index"])
	})
	_, _, ready := call(t, s, "GET", "/readyz", "", nil, nil)
	if idx, _ := ready["index"].(map[string]any); idx["lag"] != 0.0 || idx["running"] != true {
		t.Errorf("readyz index detail: %v", ready["index"])
	}
	if m := metricsText(t, s, adminToken); !bytes.Contains(m, []byte("\nauditbus_index_lag_events 0\n")) {
		t.Error("metrics lack auditbus_index_lag_events 0")
	}
}

func TestAuditSearchByPattern(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	evs := indextest.Events(t, 60, time.Now().Add(-time.Hour).Truncate(time.Second))
	publishBatch(t, s, "default", evs)
	indexed(t, s, 60)

	search := func(body map[string]any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		status, _, out := call(t, s, "POST", "/v1/audit-events:search", "application/json", raw, nil)
		return status, out
	}
	// Deletions by anyone but alice, in Kubernetes or CTS: data and
	// anything-but, which no index column holds.
	pattern := map[string]any{"principal": []any{map[string]any{"anything-but": "alice"}},
		"$or": []any{map[string]any{"action": []any{"delete"}}, map[string]any{"data": map[string]any{"trace_name": []any{"deleteEip"}}}}}
	var want []string
	for i := len(evs) - 1; i >= 0; i-- {
		p, _ := evs[i].Extensions()["principal"].(string)
		a, _ := evs[i].Extensions()["action"].(string)
		if p != "alice" && (a == "delete" || a == "deleteEip") {
			want = append(want, evs[i].ID())
		}
	}
	var got []string
	next := ""
	for range 50 {
		body := map[string]any{"pattern": pattern, "limit": 2, "max_scan": 7}
		if next != "" {
			body["next"] = next
		}
		status, out := search(body)
		if status != 200 {
			t.Fatalf("search: %d %v", status, out)
		}
		for _, e := range out["events"].([]any) {
			got = append(got, e.(map[string]any)["event"].(map[string]any)["id"].(string))
		}
		if next, _ = out["next"].(string); next == "" {
			break
		}
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("pattern search: got %v\nwant %v", got, want)
	}
	for name, body := range map[string]map[string]any{
		"bad matcher": {"pattern": map[string]any{"type": []any{map[string]any{"prefix": 3}}}},
		"no pattern":  {"filters": map[string]any{"principal": []any{"bob"}}},
	} {
		if status, out := search(body); status != 400 || out["error_code"] != "AB.1007" {
			t.Errorf("%s: %d %v, want 400 AB.1007", name, status, out)
		}
	}
	if status, out := search(map[string]any{"pattern": map[string]any{}, "filters": map[string]any{"colour": []any{"red"}}}); status != 400 {
		t.Errorf("unknown filter: %d %v, want 400", status, out)
	}

	// A pattern on an indexed attribute narrows the index: only bob's
	// events are scanned, and all of his deletions are found.
	bob, bobDeletes := 0, 0
	for _, e := range evs {
		if e.Extensions()["principal"] == "bob" {
			bob++
			if a, _ := e.Extensions()["action"].(string); strings.HasPrefix(strings.ToLower(a), "delete") {
				bobDeletes++
			}
		}
	}
	status, out := search(map[string]any{"pattern": map[string]any{"principal": []any{"bob"},
		"action": []any{map[string]any{"prefix": "delete"}, map[string]any{"prefix": "Delete"}}}, "limit": 200})
	if status != 200 || len(out["events"].([]any)) != bobDeletes || out["scanned"] != float64(bob) || bob == 0 || bob == len(evs) {
		t.Errorf("narrowed search: %d, %d events (want %d), scanned %v (want %d of %d)", status, len(out["events"].([]any)), bobDeletes, out["scanned"], bob, len(evs))
	}
}

// metricsText is GET /metrics as token sees it.
func metricsText(t *testing.T, s *router.Server, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.Addr()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
