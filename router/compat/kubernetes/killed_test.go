package kubernetes

import (
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
// retries carry every event to the new process: none is dropped, and
// the stream holds each (audit ID, stage) exactly once, though some
// POSTs were stored by the killed process without being answered and so
// were sent again.
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
			go func() {
				defer close(done)
				dropped = deliverConcurrently(newBackend(t, kc, patientBackoff, nil), m, events, fifth)
			}()
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
