package hss_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/hss"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
)

var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// expect filters the events in Go by the HSS parameters, as the seed
// defines them, and orders the matches newest first.
func expect(evs []indextest.K8s, params map[string]string, from, to time.Time) []string {
	var out []indextest.K8s
	for _, e := range evs {
		ok := !e.Time.Before(from) && !e.Time.After(to)
		for k, v := range params {
			ok = ok && e.Fields[k] == v
		}
		if ok {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b indextest.K8s) int { return b.Time.Compare(a.Time) })
	ids := make([]string, len(out))
	for i, e := range out {
		ids[i] = e.Event.ID()
	}
	return ids
}

// query builds the parameters of one page.
func query(params map[string]string, from, to time.Time, extra ...string) url.Values {
	v := url.Values{"start_time": {strconv.FormatInt(from.UnixMilli(), 10)}, "end_time": {strconv.FormatInt(to.UnixMilli(), 10)}}
	for k, val := range params {
		v.Set(k, val)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// walk pages through by offset (limit 7) and returns the event ids seen,
// checking total_num on every page; between pages it calls between.
func walk(t *testing.T, s index.Store, v url.Values, between func()) ([]string, int64) {
	t.Helper()
	var ids []string
	var total int64 = -1
	for offset := 0; offset < 10_000; offset += 7 {
		v.Set("limit", "7")
		v.Set("offset", strconv.Itoa(offset))
		resp, err := hss.ListClusterAuditLogs(context.Background(), s, nil, v)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		if total >= 0 && resp.TotalNum != total {
			t.Fatalf("total_num went from %d to %d", total, resp.TotalNum)
		}
		total = resp.TotalNum
		for _, l := range resp.DataList {
			ids = append(ids, eventID(t, s, l))
		}
		if len(resp.DataList) < 7 {
			return ids, total
		}
		between()
	}
	t.Fatal("paging did not end")
	return nil, 0
}

// eventID finds the event a record is of, by its line_num.
func eventID(t *testing.T, s index.Store, l hss.Log) string {
	ns, seq, _ := strings.Cut(l.LineNum, "-")
	n, _ := strconv.ParseInt(ns, 10, 64)
	q, _ := strconv.ParseUint(seq, 10, 64)
	recs, err := s.Search(context.Background(), index.Query{From: &index.Cursor{Time: time.Unix(0, n), Seq: q + 1}, Limit: 1})
	if err != nil || len(recs) != 1 || recs[0].Seq != q {
		t.Fatalf("line_num %s names no record: %v %v", l.LineNum, recs, err)
	}
	return recs[0].ID
}

// TestQueryMatchesIndependentFilter: every parameter alone and combined,
// over events of the three forms (and CTS and Tencent events, which no
// query returns), on SQLite and PostgreSQL, against a filter in Go.
func TestQueryMatchesIndependentFilter(t *testing.T) {
	evs := indextest.K8sEvents(t, 150, t0)
	from, to := t0.Add(12*time.Second), t0.Add(130*time.Second) // inclusive: events at both ends count
	cases := []map[string]string{
		{"cluster_id": "cls-a"}, {"cluster_id": "cls-b"}, {"cluster_id": "b075094b-d21a-499a-9006-624089c94402"},
		{"cluster_id": "uuid-cls-b"}, {"cluster_id": "nope"},
		{"cluster_id": "cls-a", "cluster_name": "cls-a"}, {"cluster_id": "uuid-cls-a", "cluster_name": "cls-a"},
		{"cluster_id": "cls-b", "verb": "delete"}, {"cluster_id": "cls-a", "verb": "get"},
		{"cluster_id": "b075094b-d21a-499a-9006-624089c94402", "host_name": "node-2"},
		{"cluster_id": "cls-a", "host_id": "h-1"}, {"cluster_id": "uuid-cls-b", "host_ip": "192.168.0.94"},
		{"cluster_id": "cls-b", "cluster_name": "cls-b", "verb": "patch", "host_id": ""},
		{"cluster_id": "b075094b-d21a-499a-9006-624089c94402", "cluster_name": "cls-b", "host_name": "node-2", "host_id": "h-2", "host_ip": "192.168.0.94", "verb": "delete"},
	}
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			indextest.PutK8s(t, s, 1, evs)
			for _, c := range cases {
				want := expect(evs, withoutEmpty(c), from, to)
				got, total := walk(t, s, query(c, from, to), func() {})
				if !slices.Equal(got, want) || total != int64(len(want)) {
					t.Errorf("%v: total_num %d, %v\nwant %d, %v", c, total, got, len(want), want)
				}
				if len(want) == 0 && c["cluster_id"] != "nope" {
					t.Errorf("%v matches nothing: the case tests nothing", c)
				}
			}
		})
	}
}

// withoutEmpty drops parameters given as "" (not sent: they filter nothing).
func withoutEmpty(c map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range c {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// TestPagingWhileEventsArrive: offset pages and line_num pages each walk
// every match exactly once, newest first, while new events are indexed
// between pages (after end_time, as live events are).
func TestPagingWhileEventsArrive(t *testing.T) {
	all := indextest.K8sEvents(t, 520, t0)
	evs, later := all[:120], all[120:] // later: after end_time
	from, to := t0, t0.Add(119*time.Second)
	params := map[string]string{"cluster_id": "cls-a"}
	want := expect(evs, params, from, to)
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			indextest.PutK8s(t, s, 1, evs)
			seq, next := uint64(1000), 0
			arrive := func() {
				if next+10 > len(later) {
					t.Fatal("ran out of events to arrive")
				}
				indextest.PutK8s(t, s, seq, later[next:next+10])
				seq, next = seq+100, next+10
			}
			got, _ := walk(t, s, query(params, from, to), arrive)
			if !slices.Equal(got, want) {
				t.Errorf("offset walk %v\nwant %v", got, want)
			}
			var byLine []string
			v := query(params, from, t0.Add(2*time.Hour), "limit", "5")
			for range 1000 {
				resp, err := hss.ListClusterAuditLogs(context.Background(), s, nil, v)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range resp.DataList {
					byLine = append(byLine, eventID(t, s, l))
				}
				if len(resp.DataList) < 5 {
					break
				}
				v.Set("line_num", resp.DataList[len(resp.DataList)-1].LineNum)
				arrive()
			}
			if len(byLine) < len(want) || !slices.Equal(byLine[len(byLine)-len(want):], want) {
				t.Errorf("line_num walk ends %v\nwant %v", byLine, want)
			}
			seen := map[string]bool{}
			for _, id := range byLine {
				if seen[id] {
					t.Errorf("line_num walk saw %s twice", id)
				}
				seen[id] = true
			}
		})
	}
}

// TestBadParameters: each is refused with 400 HSS.0001, naming it.
func TestBadParameters(t *testing.T) {
	ok := "cluster_id=c&start_time=1&end_time=2"
	cases := map[string]string{
		"start_time=1&end_time=2":                "cluster_id",
		"cluster_id=c&end_time=2":                "start_time",
		"cluster_id=c&start_time=1":              "end_time",
		"cluster_id=c&start_time=x&end_time=2":   "start_time",
		"cluster_id=c&start_time=1&end_time=-2":  "end_time",
		"cluster_id=c&start_time=3&end_time=2":   "start_time",
		ok + "&limit=0":                          "limit",
		ok + "&limit=201":                        "limit",
		ok + "&offset=-1":                        "offset",
		ok + "&offset=x":                         "offset",
		ok + "&verb=login":                       "verb",
		ok + "&line_num=7":                       "line_num",
		ok + "&trace_id=x":                       "trace_id",
		ok + "&verb=get&verb=list":               "verb",
		"cluster_id=c&start_time=1&end_time=1e9": "end_time",
	}
	s := indextest.Stores[0].Open(t)
	for raw, name := range cases {
		v, _ := url.ParseQuery(raw)
		_, err := hss.ListClusterAuditLogs(context.Background(), s, nil, v)
		if err == nil || err.Status != 400 || err.Code != hss.CodeParam || !strings.Contains(err.Msg, name) {
			t.Errorf("%s: %+v, want 400 %s naming %s", raw, err, hss.CodeParam, name)
		}
	}
	v, _ := url.ParseQuery(ok + "&enterprise_project_id=all_granted_eps&limit=200&offset=0")
	if _, err := hss.ListClusterAuditLogs(context.Background(), s, nil, v); err != nil {
		t.Errorf("%v: %v", v, err)
	}
}

// TestLogOfEachForm: the record fields of an event of each form (the
// mapping router/README.md shows).
func TestLogOfEachForm(t *testing.T) {
	evs := indextest.K8sEvents(t, 6, t0)
	s := indextest.Stores[0].Open(t)
	indextest.PutK8s(t, s, 1, evs)
	for i, e := range evs {
		v := query(map[string]string{"cluster_id": e.Fields["cluster_id"]}, e.Time, e.Time)
		resp, err := hss.ListClusterAuditLogs(context.Background(), s, nil, v)
		if err != nil || len(resp.DataList) != 1 {
			t.Fatalf("event %d: %+v %v", i, resp, err)
		}
		l := resp.DataList[0]
		got := map[string]string{"cluster_name": l.ClusterName, "cluster_id": l.ClusterID, "cluster_type": l.ClusterType,
			"host_id": l.HostID, "host_name": l.HostName, "host_ip": l.HostIP}
		for k, g := range got {
			if g != e.Fields[k] {
				t.Errorf("event %d (%s): %s %q, want %q", i, e.Event.ID(), k, g, e.Fields[k])
			}
		}
		if l.Time != e.Time.UnixMilli() {
			t.Errorf("event %d: time %d, want %d", i, l.Time, e.Time.UnixMilli())
		}
		want := fmt.Sprintf(`"auditID":"ka-%06d"`, i)
		if !strings.HasPrefix(l.Content, "{") || !strings.Contains(l.Content, want) {
			t.Errorf("event %d: content %s, want the audit event (%s)", i, l.Content, want)
		}
	}
}

// TestIndexDown: an index that does not answer is a 503 HSS.5030 that
// keeps the index's error as its cause, not shown to the client.
func TestIndexDown(t *testing.T) {
	s := indextest.Stores[0].Open(t)
	s.Close()
	_, err := hss.ListClusterAuditLogs(context.Background(), s, nil, query(map[string]string{"cluster_id": "c"}, t0, t0))
	if err == nil || err.Status != 503 || err.Code != hss.CodeRead {
		t.Fatalf("closed index: %+v, want 503 %s", err, hss.CodeRead)
	}
	if !errors.Is(err, index.ErrClosed) || !strings.Contains(err.Error(), index.ErrClosed.Error()) {
		t.Errorf("closed index: %v lost its cause %v", err, index.ErrClosed)
	}
	if strings.Contains(err.Msg, "closed") {
		t.Errorf("error_msg %q shows the client the cause", err.Msg)
	}
}
