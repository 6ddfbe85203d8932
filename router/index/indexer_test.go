package index_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// testBus is a bus with the events stream and a publisher onto it.
type testBus struct {
	*bustest.Server
	pub *bus.Publisher
}

func newBus(t testing.TB) testBus {
	t.Helper()
	b := bustest.Start(t, "")
	if _, err := bus.EnsureStream(context.Background(), b.JS, bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	return testBus{b, bus.NewPublisher(b.JS)}
}

func (b testBus) publish(t testing.TB, busName string, evs []event.Event) {
	t.Helper()
	for start := 0; start < len(evs); start += 200 {
		if _, err := b.pub.Publish(context.Background(), busName, evs[start:min(start+200, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
}

// run starts an indexer and returns its stop.
func run(t testing.TB, js testBus, s index.Store, opts ...index.Option) (*index.Indexer, func()) {
	x := index.NewIndexer(js.JS, s, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = x.Run(ctx) })
	stop := func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return x, stop
}

// waitCount waits until s holds n records (failing after a minute,
// which only a broken indexer needs) and until the indexer has acked
// everything the stream holds.
func waitCount(t testing.TB, b testBus, s index.Store, n int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var got int64
	for time.Now().Before(deadline) {
		var err error
		if got, err = s.Count(context.Background(), index.Query{}); err == nil && got >= n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got != n {
		t.Fatalf("index holds %d records, want %d", got, n)
	}
	bustest.WaitSettled(t, b.JS, bus.StreamName, index.ConsumerName, time.Minute)
}

func TestIndexerFieldsOfEachSource(t *testing.T) {
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			b, s := newBus(t), st.Open(t)
			evs := indextest.Events(t, 3, time.Now().Add(-time.Hour).Truncate(time.Second))
			b.publish(t, "prod", evs)
			run(t, b, s)
			waitCount(t, b, s, 3)
			got, err := s.Search(context.Background(), index.Query{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			want := []index.Record{ // newest first: Kubernetes, Tencent, CTS
				{Bus: "prod", ID: got[0].ID, Source: "tke.k8s", Type: "tke:K8sAudit:delete", Subject: "api/v1/namespaces/shop/pods/p2",
					Kind: "K8sAudit", Product: "tke", Action: "delete", Principal: "alice", ResourceType: "pods", ResourceName: "p0",
					ResourceID: "uid-0", Outcome: "success", Code: "200", SourceIP: "203.0.113.7", Cluster: "cls-a", TraceRating: "normal", RequestID: "k8s-000002",
					ClusterID: "cls-a", Scope: "user"},
				{Bus: "prod", ID: "tc-000001", Source: "tke.cloud.tencent", Type: "tke:CloudEvent:ApiCall", Kind: "ApiCall",
					Product: "tke", Action: "DeleteCluster", Principal: "100", ResourceType: "cluster", ResourceName: "cls-0",
					Outcome: "success", Code: "0", SourceIP: "203.0.113.7", Region: "ap-guangzhou", TraceRating: "normal", RequestID: "req-1"},
				{Bus: "prod", ID: "cts-000000", Source: "HC.VPC", Type: "VPC:CloudTrace:ConsoleAction", Kind: "ConsoleAction",
					Product: "VPC", Action: "deleteEip", Principal: "alice", ResourceType: "eip", ResourceName: "res-0",
					ResourceID: "rid-0", Outcome: "success", Code: "200", SourceIP: "203.0.113.7", Region: "cn-north-4",
					TraceRating: "normal", RequestID: "req-0"},
			}
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.Seq == 0 || len(g.Event) == 0 || g.Time.IsZero() {
					t.Errorf("record %d: seq %d, %d event bytes, time %v", i, g.Seq, len(g.Event), g.Time)
				}
				g.Seq, g.Event, g.Time, g.Subject = 0, nil, time.Time{}, w.Subject
				if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}
