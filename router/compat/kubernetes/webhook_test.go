package kubernetes

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"

	"github.com/auditbus/auditbus/router"
)

// TestReadmeKubeconfigDelivers: the README's kubeconfig, with a token or
// with a client certificate, lets kube-apiserver's webhook backend store
// its audit events in auditbus, in blocking and in batch mode: each event
// once, with the cluster the server URL's path names.
func TestReadmeKubeconfigDelivers(t *testing.T) {
	for _, c := range []struct {
		name string
		cred func(*testing.T, *fixture) credential
		mode mode
	}{
		{"token/blocking", writerTokenCred, blocking},
		{"token/batch", writerTokenCred, batch},
		{"client certificate/blocking", writerCertCred, blocking},
		{"client certificate/batch", writerCertCred, batch},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.start(t, "127.0.0.1:0")
			kc := writeKubeconfig(t, baseURL(s), "", f.serverCA.file, c.cred(t, f))
			if kc.cluster != "prod" {
				t.Errorf("the README's server URL names cluster %q; this test's expectations are for prod", kc.cluster)
			}
			events := auditEvents(5)
			errorsBefore := webhookErrors(t)
			if dropped := deliver(newBackend(t, kc, quickBackoff, nil), c.mode, events); dropped != 0 {
				t.Errorf("the backend dropped %d of %d events", dropped, len(events))
			}
			if n := webhookErrors(t) - errorsBefore; n != 0 {
				t.Errorf("the backend counted %v events it gave up on, want 0", n)
			}
			checkStored(t, s, kc.cluster, events)
			posts := f.posts(t, s, clusterRoute, "2xx")
			switch c.mode {
			case blocking: // one POST per event
				if posts != float64(len(events)) {
					t.Errorf("auditbus took %v POSTs, want one per event (%d)", posts, len(events))
				}
			case batch: // at most MaxBatchSize events a POST, and some POST carried several
				least := (len(events) + batchConfig.MaxBatchSize - 1) / batchConfig.MaxBatchSize
				if posts < float64(least) || posts >= float64(len(events)) {
					t.Errorf("auditbus took %v POSTs for %d events, want %d to %d", posts, len(events), least, len(events)-1)
				}
			}
			if failed := f.metric(t, s, "auditbus_auth_failures_total"); failed != 0 {
				t.Errorf("auditbus refused %v requests", failed)
			}
		})
	}
}

func writerTokenCred(_ *testing.T, f *fixture) credential { return credential{token: f.writerToken} }

func writerCertCred(t *testing.T, f *fixture) credential {
	return credential{cert: f.clientCA.issueClient(t, writerCN)}
}

// checkStored fails unless the events stream holds exactly want, each
// once (in any order: batches travel concurrently), as Kubernetes audit
// CloudEvents of cluster.
func checkStored(t *testing.T, s *router.Server, cluster string, want []*auditinternal.Event) {
	t.Helper()
	got := storedEvents(t, s)
	keys := make([]string, len(got))
	for i, e := range got {
		keys[i] = checkEvent(t, e, cluster)
	}
	wantKeys := keysOf(want)
	slices.Sort(keys)
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("stored events (auditID-stage):\n%q\nwant each of:\n%q", keys, wantKeys)
	}
}

// digest is the end of a Kubernetes audit event's id: 8 bytes of a hash
// of its cluster and record (router/sources k8sID).
var digest = regexp.MustCompile(`^-[0-9a-f]{16}$`)

// checkEvent checks what auditbus made of one of auditEvents' events and
// returns its key (auditID-stage), read from the stored record itself.
func checkEvent(t *testing.T, e event.Event, cluster string) string {
	t.Helper()
	var rec struct {
		AuditID string `json:"auditID"`
		Stage   string `json:"stage"`
		Verb    string `json:"verb"`
	}
	if err := json.Unmarshal(e.Data(), &rec); err != nil {
		t.Errorf("event %s: data is not the audit event: %v", e.ID(), err)
	}
	key := rec.AuditID + "-" + rec.Stage
	if rest, ok := strings.CutPrefix(e.ID(), key); !ok || !digest.MatchString(rest) {
		t.Errorf("event id %q, want %s-<16 hex digits>", e.ID(), key)
	}
	ext := e.Extensions()
	if ext["cluster"] != cluster {
		t.Errorf("event %s: cluster %v, want %q (from the kubeconfig's server URL path)", e.ID(), ext["cluster"], cluster)
	}
	if e.Source() != "k8s" || e.Type() != "k8s:K8sAudit:"+rec.Verb || ext["kind"] != "K8sAudit" {
		t.Errorf("event %s: source %q, type %q, kind %v, want k8s, k8s:K8sAudit:%s and K8sAudit", e.ID(), e.Source(), e.Type(), ext["kind"], rec.Verb)
	}
	if ext["principal"] != "kubernetes-admin" || ext["action"] != rec.Verb {
		t.Errorf("event %s: principal %v, action %v, want kubernetes-admin and %s", e.ID(), ext["principal"], ext["action"], rec.Verb)
	}
	return key
}
