package indextest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/pgtest"
)

// Store is one kind of audit index that the query suites run on.
type Store struct {
	Name string
	Open func(t testing.TB) index.Store // an empty store, closed at the test's end
}

// Stores are SQLite in a temp dir and a database of the shared real
// PostgreSQL (pgtest: the package's TestMain must be pgtest.Main).
var Stores = []Store{
	{"sqlite", func(t testing.TB) index.Store {
		s, err := index.OpenSQLite(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t testing.TB) index.Store {
		s, err := index.OpenPostgres(context.Background(), pgtest.Shared(t).NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// PutK8s indexes the Kubernetes events and, so that queries must leave
// them out, CTS and Tencent events beside them, from sequence seq on.
func PutK8s(t testing.TB, s index.Store, seq uint64, k8s []K8s) {
	t.Helper()
	var recs []index.Record
	var evs []event.Event
	for _, e := range Events(t, 6, k8s[0].Time) {
		if !strings.Contains(e.Type(), ":K8sAudit:") {
			evs = append(evs, e)
		}
	}
	for i := range k8s {
		evs = append(evs, k8s[i].Event)
	}
	for i := range evs {
		raw, err := cejson.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		rec, err := index.FromMessage(seq+uint64(i), bus.Subject("default", &evs[i]), raw, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if err := s.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// FillK8s writes n Kubernetes records straight through s (no NATS, so
// benchmarks fill fast), one millisecond apart from start, spread over
// ten clusters c-0 … c-9, and returns the newest.
func FillK8s(t testing.TB, s index.Store, n int, start time.Time) index.Record {
	t.Helper()
	var last index.Record
	for from := 0; from < n; from += 5000 {
		recs := make([]index.Record, min(5000, n-from))
		for i := range recs {
			k := from + i
			cluster := fmt.Sprintf("c-%d", k%10)
			recs[i] = index.Record{Seq: uint64(k + 1), Bus: "default", Time: start.Add(time.Duration(k) * time.Millisecond),
				ID: fmt.Sprintf("e-%d", k), Kind: "K8sAudit", Type: "cce:K8sAudit:get", Product: "cce", Action: "get",
				Cluster: cluster, ClusterID: cluster, Principal: "alice", Scope: "user",
				Event: []byte(`{"specversion":"1.0","data":{"auditID":"x","verb":"get"}}`)}
		}
		if err := s.Put(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		last = recs[len(recs)-1]
	}
	return last
}
