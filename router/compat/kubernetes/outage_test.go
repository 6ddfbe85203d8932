package kubernetes

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/auditbus/auditbus/router"
)

// patientBackoff keeps retrying for about a minute at most, so a batch
// outlives an outage that the test ends when it has seen the backend
// retry. (kube-apiserver's default, from 10 s, gives up after about 80 s.)
var patientBackoff = wait.Backoff{Duration: 20 * time.Millisecond, Factor: 2, Jitter: 0.2, Cap: time.Second, Steps: 60}

// TestBatchOutlivesAuditbusRestart: auditbus stops (connections refused)
// while kube-apiserver's buffered backend holds a batch; the backend
// retries until a new auditbus on the same address and data directory
// takes it, and every event, of before and during the restart, is stored
// once.
func TestBatchOutlivesAuditbusRestart(t *testing.T) {
	f := newFixture(t)
	s := f.start(t, "127.0.0.1:0")
	addr := s.Addr()
	kc := writeKubeconfig(t, baseURL(s), "", f.serverCA.file, credential{token: f.writerToken})
	before, during := auditEvents(2), auditEvents(5)
	if dropped := deliver(newBackend(t, kc, quickBackoff, nil), blocking, before); dropped != 0 {
		t.Fatalf("before the restart, the backend dropped %d events", dropped)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("stop auditbus: %v", err)
	}
	errorsBefore := webhookErrors(t)
	dials := &dialWatch{refusedWanted: 2, refused: make(chan struct{})}
	backend, done := newBackend(t, kc, patientBackoff, dials.dial), make(chan struct{})
	go func() {
		defer close(done)
		deliver(backend, batch, during)
	}()
	waitFor(t, dials.refused, 30*time.Second, "the backend to retry twice while auditbus is down")
	s = f.start(t, addr)
	waitFor(t, done, time.Minute, "the backend to deliver its batch")
	if n := webhookErrors(t) - errorsBefore; n != 0 {
		t.Errorf("the backend gave up on %v events", n)
	}
	checkStored(t, s, kc.cluster, append(before, during...))
	if n := f.posts(t, s, clusterRoute, "2xx"); n == 0 || n >= float64(len(during)) {
		t.Errorf("the new auditbus took %v POSTs for %d events in batches of at most %d", n, len(during), batchConfig.MaxBatchSize)
	}
}

// TestBatchOutlivesBusOutage: the bus (an external NATS server) goes
// down, so auditbus answers 503 with Retry-After; kube-apiserver's
// backend retries until the bus is back, and every event is stored once,
// although auditbus may have handed some to NATS on an attempt it
// answered 503 (they went out when NATS came back).
func TestBatchOutlivesBusOutage(t *testing.T) {
	ns := startNATS(t)
	f := newFixture(t)
	f.natsURL = ns.url()
	s := f.start(t, "127.0.0.1:0")
	kc := writeKubeconfig(t, baseURL(s), "", f.serverCA.file, credential{token: f.writerToken})
	events := auditEvents(5)
	errorsBefore := webhookErrors(t)
	ns.stop()
	backend, done := newBackend(t, kc, patientBackoff, nil), make(chan struct{})
	go func() {
		defer close(done)
		deliver(backend, batch, events)
	}()
	// auditbus gives the bus 10 s to acknowledge before it answers 503.
	waitUntil(t, 40*time.Second, "auditbus to answer 503", func() bool { return f.posts(t, s, clusterRoute, "5xx") > 0 })
	if n := f.rejected(t, s, "AB.5030"); n == 0 {
		t.Errorf("auditbus answered 5xx without AB.5030")
	}
	ns.start(t)
	waitFor(t, done, time.Minute, "the backend to deliver its batch")
	if n := webhookErrors(t) - errorsBefore; n != 0 {
		t.Errorf("the backend gave up on %v events", n)
	}
	checkStored(t, s, kc.cluster, events)
	stored, dups := f.ingested(t, s)
	t.Logf("auditbus answered %v POSTs 503 and %v 202; it counted %v events stored and %v duplicates",
		f.posts(t, s, clusterRoute, "5xx"), f.posts(t, s, clusterRoute, "2xx"), stored, dups)
	// The same events again, as the backend sends them when an answer is
	// lost after auditbus stored them: every one a duplicate.
	if dropped := deliver(newBackend(t, kc, quickBackoff, nil), blocking, events); dropped != 0 {
		t.Errorf("sending the events again, the backend dropped %d", dropped)
	}
	checkStored(t, s, kc.cluster, events)
	if stored2, dups2 := f.ingested(t, s); stored2 != stored || dups2-dups != float64(len(events)) {
		t.Errorf("sent again, auditbus counted %v more stored and %v more duplicates, want 0 and %d", stored2-stored, dups2-dups, len(events))
	}
}

// ingested is auditbus_ingest_events_total: events stored, and events
// already on the bus (duplicates).
func (f *fixture) ingested(t *testing.T, s *router.Server) (stored, duplicates float64) {
	return f.metric(t, s, "auditbus_ingest_events_total", `outcome="stored"`),
		f.metric(t, s, "auditbus_ingest_events_total", `outcome="duplicate"`)
}

// dialWatch dials as the backend would without an egress selector, and
// closes refused once refusedWanted dials were refused.
type dialWatch struct {
	d             net.Dialer
	mu            sync.Mutex
	refusedWanted int
	refused       chan struct{}
}

func (w *dialWatch) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := w.d.DialContext(ctx, network, addr)
	if err != nil {
		w.mu.Lock()
		if w.refusedWanted--; w.refusedWanted == 0 {
			close(w.refused)
		}
		w.mu.Unlock()
	}
	return conn, err
}

// waitFor waits until ch is closed, failing the test after limit (which
// no passing run comes near: it only keeps a broken run from hanging).
func waitFor(t *testing.T, ch <-chan struct{}, limit time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(limit):
		t.Fatalf("gave up waiting %v for %s", limit, what)
	}
}

// waitUntil polls cond every 100 ms, failing the test after limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting %v for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
