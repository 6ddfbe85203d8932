package router_test

import (
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

// TestKubernetesAuditQueries: Kubernetes events of the three forms, and
// CTS and Tencent events beside them, published and indexed by a running
// auditbus, answered by the HSS and the ACP query over HTTP, newest first,
// as a Go filter over the published events selects them.
func TestKubernetesAuditQueries(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") })
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	k8s := indextest.K8sEvents(t, 60, t0)
	var evs []event.Event
	for _, e := range indextest.Events(t, 6, t0) {
		if !strings.Contains(e.Type(), ":K8sAudit:") { // those K8sEvents make
			evs = append(evs, e)
		}
	}
	for _, k := range k8s {
		evs = append(evs, k.Event)
	}
	publishBatch(t, s, "default", evs)
	indexed(t, s, len(evs))
	from, to := t0.UnixMilli(), t0.Add(time.Minute).UnixMilli()

	hssCases := []url.Values{{"cluster_id": {"cls-a"}}, {"cluster_id": {"cls-b"}, "verb": {"delete"}},
		{"cluster_id": {"b075094b-d21a-499a-9006-624089c94402"}, "host_name": {"node-2"}}}
	for _, v := range hssCases {
		want := k8sMatches(k8s, v, map[string]string{})
		v.Set("start_time", fmt.Sprint(from))
		v.Set("end_time", fmt.Sprint(to))
		v.Set("limit", "200")
		status, _, out := call(t, s, "GET", "/v5/p/container/kubernetes/cluster/audit-logs?"+v.Encode(), "", nil, bearer(adminToken))
		if status != 200 {
			t.Fatalf("hss %v: %d %v", v, status, out)
		}
		var got []string
		for _, l := range out["data_list"].([]any) {
			got = append(got, fmt.Sprint(l.(map[string]any)["line_num"]))
		}
		if len(got) != len(want) || out["total_num"] != float64(len(want)) || len(want) == 0 {
			t.Errorf("hss %v: total_num %v, %d records; want %d", v, out["total_num"], len(got), len(want))
		}
	}
	acpCases := []url.Values{{"cluster": {"cls-a"}}, {"cluster": {"cls-b"}, "scope": {"system"}},
		{"cluster": {"cls-a"}, "user_name": {"alice"}, "response_status": {"成功"}}}
	fieldOf := map[string]string{"cluster": "cluster_name", "scope": "scope", "user_name": "user_name", "response_status": "response_status"}
	for _, v := range acpCases {
		want := k8sMatches(k8s, v, fieldOf)
		v.Set("start_time", fmt.Sprint(t0.Unix()))
		v.Set("end_time", fmt.Sprint(t0.Add(time.Minute).Unix()))
		v.Set("size", "500")
		v.Set("pageno", "1")
		status, _, out := call(t, s, "GET", "/v1/kubernetes-audits?"+v.Encode(), "", nil, bearer(outsiderToken))
		if status != 200 {
			t.Fatalf("acp %v: %d %v", v, status, out)
		}
		var got []string
		for _, it := range out["Items"].([]any) {
			got = append(got, fmt.Sprint(it.(map[string]any)["AuditID"]))
		}
		if len(got) != len(want) || out["total_items"] != float64(len(want)) || out["total_page"] != float64(1) || len(want) == 0 {
			t.Errorf("acp %v: total_items %v, total_page %v, %d items; want %d", v, out["total_items"], out["total_page"], len(got), len(want))
		}
		if !slices.IsSortedFunc(got, func(a, b string) int { return -cmpString(a, b) }) {
			t.Errorf("acp %v: not newest first: %v", v, got)
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// k8sMatches are the events whose fields (parameter names mapped by
// fieldOf, else as they are) hold the query's values; response_status 成功
// is success.
func k8sMatches(evs []indextest.K8s, v url.Values, fieldOf map[string]string) []event.Event {
	var out []event.Event
	for _, e := range evs {
		ok := true
		for k := range v {
			want := v.Get(k)
			if want == "成功" {
				want = "success"
			}
			f := fieldOf[k]
			if f == "" {
				f = k
			}
			ok = ok && e.Fields[f] == want
		}
		if ok {
			out = append(out, e.Event)
		}
	}
	return out
}

// TestKubernetesAuditQueryErrors: the HSS path answers HSS codes, bad
// parameters and refused identities alike; the ACP path answers a
// Kubernetes Status.
func TestKubernetesAuditQueryErrors(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.AuthFile = writeAuthFile(t, "") })
	ok := "cluster_id=c&start_time=1&end_time=2"
	hssCases := []struct {
		query, token string
		status       int
		code         string
	}{
		{"start_time=1&end_time=2", adminToken, 400, "HSS.0001"},
		{ok + "&limit=0", adminToken, 400, "HSS.0001"},
		{ok + "&verb=login", adminToken, 400, "HSS.0001"},
		{ok, outsiderToken, 403, "HSS.0013"},
		{ok, "", 401, "HSS.0010"},
	}
	for _, c := range hssCases {
		h := bearer(c.token)
		if c.token == "" {
			h = nil
		}
		status, _, out := call(t, s, "GET", "/v5/p/container/kubernetes/cluster/audit-logs?"+c.query, "", nil, h)
		if status != c.status || out["error_code"] != c.code || out["error_msg"] == "" {
			t.Errorf("hss %s: %d %v, want %d %s", c.query, status, out, c.status, c.code)
		}
	}
	status, _, out := call(t, s, "POST", "/v5/p/container/kubernetes/cluster/audit-logs?"+ok, "", nil, bearer(adminToken))
	if status != 405 || out["error_code"] != "HSS.0001" {
		t.Errorf("hss POST: %d %v, want 405 HSS.0001", status, out)
	}
	for _, c := range []struct {
		query, token string
		status       int
		reason       string
	}{
		{"start_time=1&end_time=2&size=10&pageno=1", adminToken, 400, "BadRequest"},
		{"start_time=1&end_time=2&size=10&pageno=1&cluster=c&scope=admins", adminToken, 400, "BadRequest"},
		{"start_time=1&end_time=2&size=10&pageno=1&cluster=c", "", 401, "Unauthorized"},
	} {
		h := bearer(c.token)
		if c.token == "" {
			h = nil
		}
		status, _, out := call(t, s, "GET", "/v1/kubernetes-audits?"+c.query, "", nil, h)
		if status != c.status || out["kind"] != "Status" || out["status"] != "Failure" || out["reason"] != c.reason ||
			out["code"] != float64(c.status) || out["message"] == "" {
			t.Errorf("acp %s: %d %v, want a %d %s Status", c.query, status, out, c.status, c.reason)
		}
	}
}
