package kubernetes

import (
	"testing"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/audit"
	utilwebhook "k8s.io/apiserver/pkg/util/webhook"
	"k8s.io/apiserver/plugin/pkg/audit/buffered"
	"k8s.io/apiserver/plugin/pkg/audit/webhook"
	"k8s.io/component-base/metrics/legacyregistry"
)

// mode is how kube-apiserver hands events to its webhook backend
// (--audit-webhook-mode).
type mode string

const (
	// blocking: the webhook backend's ProcessEvents, once per event, in
	// the API request's path; it returns false when the event was dropped.
	blocking mode = "blocking"
	// batch (the default): the buffered backend collects events and sends
	// them in batches from its own goroutines.
	batch mode = "batch"
)

// batchConfig is kube-apiserver's default for --audit-webhook-mode=batch
// (k8s.io/apiserver/pkg/server/options), with batches of 4 events instead
// of 400 so that a test's few events make several batches.
var batchConfig = buffered.BatchConfig{
	BufferSize:     10000,
	MaxBatchSize:   4,
	MaxBatchWait:   time.Second,
	ThrottleEnable: true,
	ThrottleQPS:    10,
	ThrottleBurst:  15,
	AsyncDelegate:  true,
}

// quickBackoff is kube-apiserver's retry backoff
// (webhook.DefaultRetryBackoffWithInitialDelay, 5 attempts) from
// --audit-webhook-initial-backoff=10ms instead of 10s, so refusals are
// dropped quickly.
var quickBackoff = utilwebhook.DefaultRetryBackoffWithInitialDelay(10 * time.Millisecond)

// newBackend is the webhook backend kube-apiserver builds from
// --audit-webhook-config-file (audit.k8s.io/v1, its default version). dial
// may be nil, as it is without an egress selector.
func newBackend(t *testing.T, kc kubeconfig, backoff wait.Backoff, dial utilnet.DialFunc) audit.Backend {
	t.Helper()
	b, err := webhook.NewBackend(kc.file, auditv1.SchemeGroupVersion, backoff, dial)
	if err != nil {
		t.Fatalf("audit webhook backend from %s: %v", kc.file, err)
	}
	return b
}

// deliver hands events to backend as kube-apiserver's audit filter does,
// one ProcessEvents call per event, and returns once the backend is done
// with all of them: in blocking mode when every call returned, in batch
// mode once the buffered backend around it was stopped and shut down
// (which sends what it still holds, with retries). It returns how many
// calls reported the event dropped (only blocking mode can tell). It
// touches no testing.T, so a test may run it in a goroutine.
func deliver(backend audit.Backend, m mode, events []*auditinternal.Event) (dropped int) {
	if m == batch {
		backend = buffered.NewBackend(backend, batchConfig)
	}
	stop := make(chan struct{})
	backend.Run(stop)
	for _, e := range events {
		if !backend.ProcessEvents(e) {
			dropped++
		}
	}
	close(stop)
	backend.Shutdown()
	return dropped
}

// webhookErrors is kube-apiserver's count of audit events its webhook
// backend gave up on (apiserver_audit_error_total{plugin="webhook"}), which
// it logs with the error: this process's, since every backend of a test
// binary counts into the same registry.
func webhookErrors(t *testing.T) float64 {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "apiserver_audit_error_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "plugin" && l.GetValue() == "webhook" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
