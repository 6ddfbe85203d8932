package indextest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/sources"
)

// K8s is a Kubernetes audit event and what the HSS and ACP queries
// should see of it, written down as the event was made, not read back.
type K8s struct {
	Event event.Event
	Time  time.Time
	// Fields by the HSS and ACP parameter names: cluster_id, cluster_name
	// (ACP's cluster), host_id, host_name, host_ip, verb (ACP's
	// operation_type), user_name, resource_name, resource_type,
	// source_ip, response_status (success or failure), scope (user or
	// system), cluster_type.
	Fields map[string]string
}

// K8sPrincipals are the users K8sEvents' events are by, people and
// system components in turn.
var K8sPrincipals = []string{"alice", "system:serviceaccount:kube-system:gc", "bob", "system:kube-controller-manager"}

// K8sEvents returns n Kubernetes audit events, the i-th at start + i
// seconds, in the three forms auditbus stores them in turn: a
// kube-apiserver webhook event (k8s-audit source), an HSS cluster audit
// log record (k8s-audit source, data_list), and a CloudEvent of type
// cce:K8sAudit:<verb> sent as is, with only a cluster extension.
func K8sEvents(t testing.TB, n int, start time.Time) []K8s {
	t.Helper()
	r := sources.NewRedactor(sources.DefaultRedactKeys)
	out := make([]K8s, 0, n)
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second)
		j := i / 3 // i%3 is the form; fields cycle with j
		code := pick(j, 200, 403, 201, 404, 200)
		f := map[string]string{
			"cluster_name": pick(j, "cls-a", "cls-b"), "verb": pick(j, "create", "delete", "get", "patch", "list", "update"),
			"user_name": pick(j, K8sPrincipals...), "resource_name": fmt.Sprintf("obj-%d", j%4),
			"resource_type":   pick(j, "pods", "deployments", "secrets", "pods/exec", "pods"),
			"source_ip":       pick(j, "203.0.113.7", "10.0.0.3", "2001:db8::5"),
			"response_status": map[bool]string{true: "success", false: "failure"}[code < 400],
			"scope":           pick(j, "user", "system"), "host_id": "", "host_name": "", "host_ip": "",
		}
		f["cluster_id"] = f["cluster_name"]
		ev := k8sAuditEvent(i, at, f, code)
		var evs []event.Event
		var err error
		switch i % 3 {
		case 0:
			product := pick(j, "k8s", "tke", "k8s")
			f["cluster_type"] = map[string]string{"k8s": "self_built_idc", "tke": "tencent"}[product]
			evs, err = sources.K8sAudit(mustJSON(ev), f["cluster_name"], product, r)
		case 1:
			f["cluster_id"] = pick(j, f["cluster_name"], "b075094b-d21a-499a-9006-624089c94402", "uuid-"+f["cluster_name"])
			f["host_id"], f["host_name"], f["host_ip"] = pick(j, "h-1", "h-2", "h-3"), pick(j, "node-1", "node-2"), pick(j, "192.168.0.93", "192.168.0.94")
			f["cluster_type"] = "cce"
			rec := map[string]any{"cluster_id": f["cluster_id"], "cluster_name": f["cluster_name"], "time": at.UnixMilli(),
				"content": string(mustJSON(ev)), "cluster_type": "cce", "host_id": f["host_id"], "host_name": f["host_name"], "host_ip": f["host_ip"]}
			evs, err = sources.K8sAudit(mustJSON(map[string]any{"total_num": 1, "data_list": []any{rec}}), "", "", r)
		default:
			f["cluster_type"] = "cce"
			evs = []event.Event{k8sCloudEvent(i, at, f, ev)}
		}
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		out = append(out, K8s{Event: evs[0], Time: at, Fields: f})
	}
	return out
}

func k8sAuditEvent(i int, at time.Time, f map[string]string, code int) map[string]any {
	resource, sub, _ := cutSlash(f["resource_type"])
	ts := at.Format(time.RFC3339Nano)
	return map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
		"auditID": fmt.Sprintf("ka-%06d", i), "stage": "ResponseComplete", "verb": f["verb"],
		"requestURI": "/api/v1/namespaces/shop/" + resource + "/" + f["resource_name"],
		"user":       map[string]any{"username": f["user_name"], "uid": "u-1", "groups": []string{"system:authenticated"}},
		"sourceIPs":  []string{f["source_ip"], "10.0.128.88"}, "userAgent": "kubectl/v1.31.0",
		"objectRef": map[string]any{"resource": resource, "subresource": sub, "namespace": "shop", "name": f["resource_name"],
			"uid": fmt.Sprintf("uid-%d", i%5), "apiVersion": "v1", "resourceVersion": "42"},
		"responseStatus":           map[string]any{"code": code, "metadata": map[string]any{}},
		"requestObject":            map[string]any{"kind": "DeleteOptions"},
		"requestReceivedTimestamp": ts, "stageTimestamp": ts,
		"annotations": map[string]any{"authorization.k8s.io/decision": "allow"},
	}
}

func cutSlash(s string) (string, string, bool) {
	for k := range s {
		if s[k] == '/' {
			return s[:k], s[k+1:], true
		}
	}
	return s, "", false
}

// k8sCloudEvent is a Kubernetes audit event as another system would
// publish it to /v1/events: the audit event as data, a K8sAudit type,
// and no audit extensions but the cluster.
func k8sCloudEvent(i int, at time.Time, f map[string]string, ev map[string]any) event.Event {
	e := event.New()
	e.SetID(fmt.Sprintf("ce-k8s-%06d", i))
	e.SetSource("cce.k8s")
	e.SetType("cce:K8sAudit:" + f["verb"])
	e.SetTime(at)
	e.SetExtension("cluster", f["cluster_name"])
	if err := e.SetData(event.ApplicationJSON, json.RawMessage(mustJSON(ev))); err != nil {
		panic(err)
	}
	return e
}
