package kubernetes

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/audit"
)

// TestDeliveryOutlivesKill9: auditbus serve, a process of its own, is
// killed with SIGKILL while kube-apiserver's webhook backend is sending
// (blocking mode: four API requests' worth of ProcessEvents in flight at
// once; batch mode: the buffered backend's concurrent batches), and
// started again on the same address and data directory. The backend's
// retries carry every event to the new process: none is dropped, none is
// given up on, the new process stores some, and the stream holds each
// (audit ID, stage) exactly once. A POST the killed process stored but
// did not answer is sent again and must not be stored twice; whether the
// kill caught one in flight is up to timing, so the count of such
// duplicates is only logged, and the exactly-once check covers them.
func TestDeliveryOutlivesKill9(t *testing.T) {
	bin := buildAuditbus(t)
	for _, m := range []mode{blocking, batch} {
		t.Run(string(m), func(t *testing.T) {
			f := newFixture(t)
			p := f.startProcess(t, bin, "127.0.0.1:0")
			kc := writeKubeconfig(t, p.base(), "", f.serverCA.file, credential{token: f.writerToken})
			events := auditEvents(100)
			errorsBefore := webhookErrors(t)
			dropped, done, fifth := 0, make(chan struct{}), make(chan struct{})
			dial := &drainingDial{}
			go func() {
				defer close(done)
				dropped = deliverConcurrently(newBackend(t, kc, patientBackoff, dial.dial), m, events, fifth)
			}()
			t.Cleanup(func() { dial.drain(t, f, done) })
			// Kill once a fifth of the events are stored: in blocking mode
			// when a fifth of the ProcessEvents calls returned (auditbus had
			// answered them), in batch mode, whose ProcessEvents returns
			// before anything is sent, when auditbus itself says so.
			var storedAtKill float64
			if m == blocking {
				waitFor(t, fifth, time.Minute, "a fifth of the events to be answered")
			} else {
				waitUntil(t, time.Minute, "auditbus to store a fifth of the events", func() bool {
					storedAtKill, _ = f.ingestedAt(t, p.base())
					return storedAtKill >= float64(len(events)/5)
				})
			}
			p.kill(t)
			p = f.startProcess(t, bin, p.addr)
			waitFor(t, done, 2*time.Minute, "the backend to deliver every event")
			if dropped != 0 {
				t.Errorf("the backend dropped %d of %d events", dropped, len(events))
			}
			if n := webhookErrors(t) - errorsBefore; n != 0 {
				t.Errorf("the backend gave up on %v events", n)
			}
			stored, dups := f.ingestedAt(t, p.base())
			t.Logf("killed when it had stored at least %v of %d events; the restarted auditbus stored %v and counted %v duplicates",
				max(storedAtKill, float64(len(events)/5)), len(events), stored, dups)
			if stored == 0 {
				t.Errorf("the restarted auditbus stored nothing: the kill came after the stream ended and proves nothing")
			}
			p.stop(t)
			checkStored(t, f.start(t, "127.0.0.1:0"), kc.cluster, events)
		})
	}
}

// drainingDial dials as the backend would, until drain: from then on
// every new connection goes to a server that accepts every POST, so a
// backend that still retries when the test ends (it failed half-way, the
// backend's retries, at most a minute per event, would outlast it)
// finishes at once and the goroutine running it ends with the test.
type drainingDial struct {
	d      net.Dialer
	to     atomic.Pointer[string]
	failed atomic.Int64 // dials that failed
}

func (d *drainingDial) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if to := d.to.Load(); to != nil {
		addr = *to
	}
	conn, err := d.d.DialContext(ctx, network, addr)
	if err != nil {
		d.failed.Add(1)
	}
	return conn, err
}

// drain sends the backend to an accept-all server with auditbus's
// certificate, waits until done is closed and returns how many POSTs that
// server took.
func (d *drainingDial) drain(t *testing.T, f *fixture, done <-chan struct{}) int64 {
	select {
	case <-done:
		return 0 // the usual case: the backend finished within the test
	default:
	}
	var posts atomic.Int64
	cert, err := tls.LoadX509KeyPair(f.serverCert.cert, f.serverCert.key)
	if err != nil {
		t.Fatal(err)
	}
	sink := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { posts.Add(1) }))
	sink.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	sink.StartTLS()
	defer sink.Close()
	addr := sink.Listener.Addr().String()
	d.to.Store(&addr)
	waitFor(t, done, time.Minute, "the backend to drain after the test")
	return posts.Load()
}

// TestDrainEndsARetryingBackend: a backend that keeps retrying against an
// address nothing listens on (a test that failed with auditbus down) hands
// its events to the drain server and returns, so drain in a cleanup ends
// the goroutine delivering them.
func TestDrainEndsARetryingBackend(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	kc := writeKubeconfig(t, "https://"+dead, "", f.serverCA.file, credential{token: f.writerToken})
	dial, done, dropped := &drainingDial{}, make(chan struct{}), -1
	events := auditEvents(3)
	go func() {
		defer close(done)
		dropped = deliver(newBackend(t, kc, patientBackoff, dial.dial), blocking, events)
	}()
	waitUntil(t, time.Minute, "the backend to retry", func() bool { return dial.failed.Load() >= 2 })
	if posts := dial.drain(t, f, done); posts != int64(len(events)) || dropped != 0 {
		t.Errorf("drain server took %d POSTs and the backend dropped %d events; want %d and none", posts, dropped, len(events))
	}
}

// blockingSenders is how many API requests hand their events to a
// blocking-mode backend at once, as kube-apiserver's concurrent requests
// do, so a kill finds several POSTs in flight.
const blockingSenders = 4

// deliverConcurrently is deliver, with blocking mode's ProcessEvents
// called from blockingSenders goroutines (each event by one of them),
// closing fifth once a fifth of the calls returned. It returns how many
// events the backend reported dropped.
func deliverConcurrently(backend audit.Backend, m mode, events []*auditinternal.Event, fifth chan<- struct{}) int {
	if m == batch {
		return deliver(backend, m, events)
	}
	stop := make(chan struct{})
	backend.Run(stop)
	defer backend.Shutdown()
	defer close(stop)
	var (
		wg                sync.WaitGroup
		dropped, returned atomic.Int64
	)
	for w := range blockingSenders {
		wg.Go(func() {
			for i := w; i < len(events); i += blockingSenders {
				if !backend.ProcessEvents(events[i]) {
					dropped.Add(1)
				}
				if returned.Add(1) == int64(len(events)/5) {
					close(fifth)
				}
			}
		})
	}
	wg.Wait()
	return int(dropped.Load())
}

// ingestedAt is ingested of the auditbus serving base.
func (f *fixture) ingestedAt(t *testing.T, base string) (stored, duplicates float64) {
	return f.metricAt(t, base, "auditbus_ingest_events_total", `outcome="stored"`),
		f.metricAt(t, base, "auditbus_ingest_events_total", `outcome="duplicate"`)
}
