package index_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
)

var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// corpus is n records whose fields repeat with different periods, so
// every filter and combination has several but not all matches; some
// share a time, so ties are broken by sequence.
func corpus(n int) []index.Record {
	pick := func(i int, vs ...string) string { return vs[i%len(vs)] }
	recs := make([]index.Record, n)
	for i := range recs {
		recs[i] = index.Record{
			Seq: uint64(i + 1), Bus: pick(i, "default", "prod", "default"), Time: t0.Add(time.Duration(i/2) * time.Second),
			ID: fmt.Sprintf("ev-%d", i), Source: pick(i, "cts/VPC", "tencentcloud.tke", "k8s"),
			Type:    pick(i, "VPC:CloudTrace:ApiCall", "tke:CloudEvent:ApiCall", "tke:K8sAudit:delete"),
			Subject: pick(i/3, "eip/1", "cluster/cls-1", "namespaces/a/pods/p", "集群/cls-2"), Kind: pick(i, "ApiCall", "ConsoleCall"),
			Product: pick(i, "VPC", "tke", "tke"), Action: pick(i, "deleteEip", "DeleteCluster", "delete", "create"),
			Principal: pick(i, "alice", "bob", "carol", "dave", "erin"), ResourceType: pick(i, "eip", "cluster", "pods"),
			ResourceName: pick(i, "n1", "n2"), ResourceID: pick(i, "r1", "r2", "r3", "r4"), Outcome: pick(i, "success", "failure", "success"),
			Code: pick(i, "200", "403"), SourceIP: pick(i, "203.0.113.7", "198.51.100.2", "2001:db8::1"), Region: pick(i, "ap-guangzhou", "cn-north-4"),
			Cluster: pick(i, "", "cls-1", "c2"), TraceRating: pick(i, "normal", "warning", "incident"), RequestID: fmt.Sprintf("req-%d", i%7),
			ClusterID: pick(i, "", "id-1", "id-2", "id-3"), HostID: pick(i, "", "h1"), HostName: pick(i, "n1", "n2", ""),
			HostIP: pick(i, "192.0.2.1", "", "192.0.2.2"), Scope: pick(i, "", "user", "system"),
			Event: []byte(fmt.Sprintf(`{"specversion":"1.0","id":"ev-%d"}`, i)),
		}
	}
	return recs
}

// field reads f of r, the independent side of the filter checks.
func field(r index.Record, f index.Field) string {
	return map[index.Field]string{
		index.FieldBus: r.Bus, index.FieldID: r.ID, index.FieldSource: r.Source, index.FieldType: r.Type,
		index.FieldKind: r.Kind, index.FieldProduct: r.Product, index.FieldAction: r.Action, index.FieldPrincipal: r.Principal,
		index.FieldResourceType: r.ResourceType, index.FieldResourceName: r.ResourceName, index.FieldResourceID: r.ResourceID,
		index.FieldOutcome: r.Outcome, index.FieldCode: r.Code, index.FieldSourceIP: r.SourceIP, index.FieldRegion: r.Region,
		index.FieldCluster: r.Cluster, index.FieldTraceRating: r.TraceRating, index.FieldRequestID: r.RequestID,
		index.FieldClusterID: r.ClusterID, index.FieldHostID: r.HostID, index.FieldHostName: r.HostName,
		index.FieldHostIP: r.HostIP, index.FieldScope: r.Scope,
	}[f]
}

// want filters recs by q in Go and orders them newest first.
func want(recs []index.Record, q index.Query) []uint64 {
	var out []index.Record
	for _, r := range recs {
		ok := q.Buses == nil || slices.Contains(q.Buses, r.Bus)
		for f, vals := range q.Equal {
			ok = ok && slices.Contains(vals, field(r, f))
		}
		ok = ok && strings.HasPrefix(r.Subject, q.SubjectPrefix)
		ok = ok && (q.After.IsZero() || r.Time.After(q.After)) && (q.Before.IsZero() || r.Time.Before(q.Before))
		if ok {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b index.Record) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return int(int64(b.Seq) - int64(a.Seq))
	})
	seqs := make([]uint64, len(out))
	for i, r := range out {
		seqs[i] = r.Seq
	}
	return seqs
}

// walk pages through q with the cursor and returns every sequence seen.
func walk(t *testing.T, s index.Store, q index.Query) []uint64 {
	t.Helper()
	var seen []uint64
	for range 1000 {
		page, err := s.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			seen = append(seen, r.Seq)
		}
		if len(page) < q.Limit {
			return seen
		}
		last := page[len(page)-1]
		q.From = &index.Cursor{Time: last.Time, Seq: last.Seq}
	}
	t.Fatal("paging did not end")
	return nil
}

func TestSearchMatchesIndependentFilter(t *testing.T) {
	recs := corpus(300)
	queries := map[string]index.Query{
		"all":              {},
		"bus":              {Buses: []string{"prod"}},
		"no buses":         {Buses: []string{}},
		"subject prefix":   {SubjectPrefix: "cluster/"},
		"non-ASCII prefix": {SubjectPrefix: "集群/"},
		"time window":      {After: t0.Add(20 * time.Second), Before: t0.Add(60 * time.Second)},
		"principal+action": {Equal: map[index.Field][]string{index.FieldPrincipal: {"alice"}, index.FieldAction: {"delete", "deleteEip"}}},
		"combined":         {Buses: []string{"default"}, Equal: map[index.Field][]string{index.FieldOutcome: {"failure"}, index.FieldRegion: {"cn-north-4"}}, After: t0.Add(10 * time.Second)},
		"no match":         {Equal: map[index.Field][]string{index.FieldPrincipal: {"mallory"}}},
	}
	for _, f := range index.Fields {
		queries["field "+string(f)] = index.Query{Equal: map[index.Field][]string{f: {field(recs[4], f)}}}
	}
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			ctx := context.Background()
			if err := s.Put(ctx, recs[:200]); err != nil {
				t.Fatal(err)
			}
			// Again, overlapping: a redelivered batch.
			if err := s.Put(ctx, recs[150:]); err != nil {
				t.Fatal(err)
			}
			for name, q := range queries {
				exp := want(recs, q)
				n, err := s.Count(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if n != int64(len(exp)) {
					t.Errorf("%s: count %d, want %d", name, n, len(exp))
				}
				q.Limit = 7
				if got := walk(t, s, q); !slices.Equal(got, exp) {
					t.Errorf("%s: pages gave %d records %v\nwant %d %v", name, len(got), got, len(exp), exp)
				}
			}
		})
	}
}

func TestStoredRecordRoundTrips(t *testing.T) {
	recs := corpus(3)
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			ctx := context.Background()
			if err := s.Put(ctx, recs); err != nil {
				t.Fatal(err)
			}
			got, err := s.Search(ctx, index.Query{Equal: map[index.Field][]string{index.FieldID: {"ev-1"}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d records", len(got))
			}
			w := recs[1]
			g := got[0]
			if !g.Time.Equal(w.Time) || string(g.Event) != string(w.Event) {
				t.Errorf("time %v event %s, want %v %s", g.Time, g.Event, w.Time, w.Event)
			}
			g.Time, w.Time = time.Time{}, time.Time{}
			if fmt.Sprint(g) != fmt.Sprint(w) {
				t.Errorf("read back\n%+v\nwant\n%+v", g, w)
			}
		})
	}
}

func TestRetentionAndRebuild(t *testing.T) {
	recs := corpus(100)
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			ctx := context.Background()
			if err := s.Put(ctx, recs); err != nil {
				t.Fatal(err)
			}
			cut := t0.Add(25 * time.Second)
			n, err := s.DeleteBefore(ctx, cut)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(want(recs, index.Query{Before: cut})); n != int64(want) {
				t.Errorf("removed %d, want %d", n, want)
			}
			left, _ := s.Count(ctx, index.Query{})
			if old, _ := s.Count(ctx, index.Query{Before: cut}); old != 0 || left != int64(len(recs))-n {
				t.Errorf("after retention: %d older than the cut, %d left", old, left)
			}
			if asked, _ := s.TakeRebuild(ctx); asked {
				t.Error("rebuild asked before anyone asked")
			}
			if err := s.RequestRebuild(ctx); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.Count(ctx, index.Query{}); n != 0 {
				t.Errorf("%d records after a rebuild request", n)
			}
			first, _ := s.TakeRebuild(ctx)
			second, _ := s.TakeRebuild(ctx)
			if !first || second {
				t.Errorf("TakeRebuild: %v then %v, want true then false", first, second)
			}
		})
	}
}

func TestClosedStore(t *testing.T) {
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			s.Close()
			if _, err := s.Search(context.Background(), index.Query{}); err != index.ErrClosed {
				t.Errorf("search on a closed store: %v, want ErrClosed", err)
			}
		})
	}
}
