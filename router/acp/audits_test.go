package acp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/acp"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
)

var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// fieldOf is the indextest field each ACP parameter tests.
var fieldOf = map[string]string{"cluster": "cluster_name", "user_name": "user_name", "resource_name": "resource_name",
	"resource_type": "resource_type", "resourcce_type": "resource_type", "operation_type": "verb",
	"source_ip": "source_ip", "scope": "scope", "response_status": "response_status"}

var statusWord = map[string]string{"成功": "success", "失败": "failure", "success": "success", "Failure": "failure"}

// expect filters the events in Go by the ACP parameters, as the seed
// defines them, and orders the matches newest first.
func expect(evs []indextest.K8s, params map[string]string, from, to time.Time) []string {
	var out []indextest.K8s
	for _, e := range evs {
		ok := !e.Time.Before(from) && !e.Time.After(to)
		for k, v := range params {
			if k == "response_status" {
				v = statusWord[v]
			}
			ok = ok && (k == "scope" && v == "all" || e.Fields[fieldOf[k]] == v)
		}
		if ok {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b indextest.K8s) int { return b.Time.Compare(a.Time) })
	ids := make([]string, len(out))
	for i, e := range out {
		ids[i] = auditID(e)
	}
	return ids
}

// auditID is the event's auditID as made.
func auditID(e indextest.K8s) string {
	id := e.Event.ID()
	if strings.HasPrefix(id, "ce-k8s-") {
		return "ka-" + strings.TrimPrefix(id, "ce-k8s-")
	}
	before, _, _ := strings.Cut(id, "-ResponseComplete")
	return before
}

func query(params map[string]string, from, to int64) url.Values {
	v := url.Values{"start_time": {strconv.FormatInt(from, 10)}, "end_time": {strconv.FormatInt(to, 10)}}
	for k, val := range params {
		v.Set(k, val)
	}
	return v
}

// walk pages through by pageno (size 6) and returns the AuditIDs seen,
// checking total_items and total_page on every page; between pages it
// calls between.
func walk(t *testing.T, s index.Store, v url.Values, between func()) ([]string, int64) {
	t.Helper()
	var ids []string
	v.Set("size", "6")
	for pageno := 1; pageno < 2000; pageno++ {
		v.Set("pageno", strconv.Itoa(pageno))
		resp, err := acp.ListAudits(context.Background(), s, nil, v)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		if resp.TotalPage != (resp.TotalItems+5)/6 || resp.Kind != "EventList" || resp.APIVersion != "audit.k8s.io/v1" {
			t.Fatalf("page %d: total_items %d, total_page %d, %s %s", pageno, resp.TotalItems, resp.TotalPage, resp.Kind, resp.APIVersion)
		}
		for _, it := range resp.Items {
			ids = append(ids, it.AuditID)
		}
		if int64(pageno) >= resp.TotalPage {
			return ids, resp.TotalItems
		}
		between()
	}
	t.Fatal("paging did not end")
	return nil, 0
}

// TestQueryMatchesIndependentFilter: every parameter alone and combined,
// over events of the three forms (and CTS and Tencent events, which no
// query returns), on SQLite and PostgreSQL, against a filter in Go.
func TestQueryMatchesIndependentFilter(t *testing.T) {
	evs := indextest.K8sEvents(t, 150, t0)
	// Seconds and milliseconds, both inclusive.
	windows := [][2]int64{{t0.Add(12 * time.Second).Unix(), t0.Add(130 * time.Second).Unix()},
		{t0.Add(12 * time.Second).UnixMilli(), t0.Add(130 * time.Second).UnixMilli()}}
	cases := []map[string]string{
		{"cluster": "cls-a"}, {"cluster": "cls-b"}, {"cluster": "nope"},
		{"cluster": "cls-a", "scope": "all"}, {"cluster": "cls-a", "scope": "user"}, {"cluster": "cls-b", "scope": "system"},
		{"cluster": "cls-a", "user_name": "alice"}, {"cluster": "cls-b", "user_name": "system:serviceaccount:kube-system:gc"},
		{"cluster": "cls-a", "resource_name": "obj-2"}, {"cluster": "cls-b", "resource_type": "pods"},
		{"cluster": "cls-a", "resourcce_type": "pods/exec"}, {"cluster": "cls-b", "resource_type": "secrets", "resourcce_type": "secrets"},
		{"cluster": "cls-b", "operation_type": "delete"}, {"cluster": "cls-b", "source_ip": "2001:db8::5"},
		{"cluster": "cls-a", "response_status": "成功"}, {"cluster": "cls-b", "response_status": "失败"},
		{"cluster": "cls-a", "response_status": "success"}, {"cluster": "cls-b", "response_status": "Failure"},
		{"cluster": "cls-a", "scope": "user", "operation_type": "create", "response_status": "成功"},
		{"cluster": "cls-b", "scope": "system", "source_ip": "10.0.0.3", "resource_type": "deployments"},
		{"cluster": "cls-a", "user_name": "bob", "resource_name": "obj-2", "resource_type": "pods", "operation_type": "list",
			"source_ip": "10.0.0.3", "response_status": "成功", "scope": "user"},
	}
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			indextest.PutK8s(t, s, 1, evs)
			for _, w := range windows {
				for _, c := range cases {
					want := expect(evs, c, t0.Add(12*time.Second), t0.Add(130*time.Second))
					got, total := walk(t, s, query(c, w[0], w[1]), func() {})
					if !slices.Equal(got, want) || total != int64(len(want)) {
						t.Errorf("%v %v: total_items %d, %v\nwant %d, %v", w, c, total, got, len(want), want)
					}
					if len(want) == 0 && c["cluster"] != "nope" {
						t.Errorf("%v matches nothing: the case tests nothing", c)
					}
				}
			}
		})
	}
}

// TestPagingWhileEventsArrive: pageno pages walk every match exactly
// once, newest first, while new events (after end_time, as live events
// are) are indexed between pages.
func TestPagingWhileEventsArrive(t *testing.T) {
	all := indextest.K8sEvents(t, 400, t0)
	evs, later := all[:120], all[120:]
	params := map[string]string{"cluster": "cls-b"}
	want := expect(evs, params, t0, t0.Add(119*time.Second))
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			indextest.PutK8s(t, s, 1, evs)
			seq, next := uint64(1000), 0
			got, _ := walk(t, s, query(params, t0.Unix(), t0.Add(119*time.Second).Unix()), func() {
				indextest.PutK8s(t, s, seq, later[next:next+10])
				seq, next = seq+100, next+10
			})
			if !slices.Equal(got, want) {
				t.Errorf("walk %v\nwant %v", got, want)
			}
		})
	}
}

// TestBadParameters: each is refused with a 400 naming it.
func TestBadParameters(t *testing.T) {
	ok := "start_time=1&end_time=2&size=10&pageno=1&cluster=c"
	cases := map[string]string{
		"end_time=2&size=10&pageno=1&cluster=c":               "start_time",
		"start_time=1&size=10&pageno=1&cluster=c":             "end_time",
		"start_time=1&end_time=2&pageno=1&cluster=c":          "size",
		"start_time=1&end_time=2&size=10&cluster=c":           "pageno",
		"start_time=1&end_time=2&size=10&pageno=1":            "cluster",
		"start_time=x&end_time=2&size=10&pageno=1&cluster=c":  "start_time",
		"start_time=3&end_time=2&size=10&pageno=1&cluster=c":  "start_time",
		"start_time=1&end_time=2&size=0&pageno=1&cluster=c":   "size",
		"start_time=1&end_time=2&size=501&pageno=1&cluster=c": "size",
		"start_time=1&end_time=2&size=10&pageno=0&cluster=c":  "pageno",
		ok + "&scope=admins":                                  "scope",
		ok + "&response_status=maybe":                         "response_status",
		ok + "&resource_type=pods&resourcce_type=secrets":     "resourcce_type",
		ok + "&limit=5":                 "limit",
		ok + "&user_name=a&user_name=b": "user_name",
	}
	s := indextest.Stores[0].Open(t)
	for raw, name := range cases {
		v, _ := url.ParseQuery(raw)
		_, err := acp.ListAudits(context.Background(), s, nil, v)
		if err == nil || err.Status != 400 || !strings.Contains(err.Msg, name) {
			t.Errorf("%s: %+v, want 400 naming %s", raw, err, name)
		}
	}
}

// TestItemOfEachForm: an event of each form answered in ACP's shape,
// the fields of the seed's example (testdata/items.golden.json).
func TestItemOfEachForm(t *testing.T) {
	evs := indextest.K8sEvents(t, 3, t0)
	s := indextest.Stores[0].Open(t)
	indextest.PutK8s(t, s, 1, evs)
	resp, err := acp.ListAudits(context.Background(), s, nil, query(map[string]string{"cluster": "cls-a", "size": "10", "pageno": "1"}, t0.Unix(), t0.Add(time.Minute).Unix()))
	if err != nil || len(resp.Items) != 3 {
		t.Fatalf("%+v %v", resp, err)
	}
	got, _ := json.MarshalIndent(resp, "", "  ")
	golden(t, "items.golden.json", got)
}

// TestIndexDown: an index that does not answer is a 503 that keeps the
// index's error as its cause, not shown to the client.
func TestIndexDown(t *testing.T) {
	s := indextest.Stores[0].Open(t)
	s.Close()
	v := query(map[string]string{"cluster": "c", "size": "1", "pageno": "1"}, t0.Unix(), t0.Unix())
	_, err := acp.ListAudits(context.Background(), s, nil, v)
	if err == nil || err.Status != 503 {
		t.Fatalf("closed index: %+v, want 503", err)
	}
	if !errors.Is(err, index.ErrClosed) || !strings.Contains(err.Error(), index.ErrClosed.Error()) {
		t.Errorf("closed index: %v lost its cause %v", err, index.ErrClosed)
	}
	if strings.Contains(err.Msg, "closed") {
		t.Errorf("message %q shows the client the cause", err.Msg)
	}
}
