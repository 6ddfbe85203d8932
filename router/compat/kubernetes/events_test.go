package kubernetes

import (
	"fmt"
	"net/http"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
)

// auditEvents are the audit events of n API requests as kube-apiserver
// records them: each request has a new audit ID (a UUID) and two events,
// RequestReceived (no status yet) and ResponseComplete, in that order.
// The first request is logged at RequestResponse level, with its
// request and response objects; the others at Metadata.
func auditEvents(n int) []*auditinternal.Event {
	verbs := []struct {
		verb, method string
		code         int32
		named        bool
	}{{"create", http.MethodPost, 201, false}, {"update", http.MethodPut, 200, true},
		{"delete", http.MethodDelete, 200, true}, {"get", http.MethodGet, 200, true}}
	var out []*auditinternal.Event
	received := time.Now().Add(-time.Minute).UTC()
	for i := range n {
		v := verbs[i%len(verbs)]
		name := fmt.Sprintf("settings-%d", i)
		uri := "/api/v1/namespaces/default/configmaps"
		if v.named {
			uri += "/" + name
		}
		ev := auditinternal.Event{
			Level:      auditinternal.LevelMetadata,
			AuditID:    uuid.NewUUID(),
			RequestURI: uri,
			Verb:       v.verb,
			User: authnv1.UserInfo{Username: "kubernetes-admin", Groups: []string{"kubeadm:cluster-admins", "system:authenticated"},
				Extra: map[string]authnv1.ExtraValue{"authentication.kubernetes.io/credential-id": {"X509SHA256=0f3c"}}},
			SourceIPs:                []string{"127.0.0.1"},
			UserAgent:                "kubectl/v1.37.2 (linux/amd64) kubernetes/0000000",
			ObjectRef:                &auditinternal.ObjectReference{Resource: "configmaps", Namespace: "default", Name: name, APIVersion: "v1"},
			RequestReceivedTimestamp: metav1.NewMicroTime(received),
			Annotations: map[string]string{"authorization.k8s.io/decision": "allow",
				"authorization.k8s.io/reason": `RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins"`},
		}
		if i == 0 {
			ev.Level = auditinternal.LevelRequestResponse
			obj := fmt.Sprintf(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":%q,"namespace":"default"},"data":{"mode":"strict"}}`, name)
			ev.RequestObject = &runtime.Unknown{Raw: []byte(obj), ContentType: runtime.ContentTypeJSON}
			ev.ResponseObject = &runtime.Unknown{Raw: []byte(obj), ContentType: runtime.ContentTypeJSON}
		}
		first, last := ev, ev
		first.Stage, first.StageTimestamp = auditinternal.StageRequestReceived, metav1.NewMicroTime(received)
		first.ResponseObject = nil
		last.Stage, last.StageTimestamp = auditinternal.StageResponseComplete, metav1.NewMicroTime(received.Add(3*time.Millisecond))
		last.ResponseStatus = &metav1.Status{Code: v.code}
		out = append(out, &first, &last)
		received = received.Add(time.Second)
	}
	return out
}

// keysOf are the events' audit IDs and stages, as auditID-stage: what
// starts the id auditbus gives each (router/README.md: <auditID>-<stage>-<digest>).
func keysOf(events []*auditinternal.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e.AuditID) + "-" + string(e.Stage)
	}
	return out
}
