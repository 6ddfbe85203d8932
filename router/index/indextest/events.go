package indextest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/sources"
)

// Principals, in the order events use them.
var Principals = []string{"alice", "bob", "carol", "dave"}

func pick[T any](i int, vs ...T) T { return vs[i%len(vs)] }

// Events returns n events, the i-th at start + i seconds: CTS traces,
// Tencent CloudAudit records and Kubernetes audit events in turn.
func Events(t testing.TB, n int, start time.Time) []event.Event {
	t.Helper()
	r := sources.NewRedactor(sources.DefaultRedactKeys)
	out := make([]event.Event, 0, n)
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second)
		var evs []event.Event
		var err error
		switch i % 3 {
		case 0:
			evs, err = sources.CTS(mustJSON(ctsTrace(i, at)), r)
		case 1:
			evs, err = sources.CloudAudit(mustJSON(cloudAudit(i, at)), r)
		default:
			evs, err = sources.K8sAudit(mustJSON(k8sEvent(i, at)), pick(i/3, "cls-a", "cls-b"), "tke", r)
		}
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		out = append(out, evs...)
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func ctsTrace(i int, at time.Time) map[string]any {
	// j, not i: i%3 is the source, so fields cycling with i would
	// never vary within one source.
	j := i / 3
	return map[string]any{
		"trace_id": fmt.Sprintf("cts-%06d", i), "trace_name": pick(j, "deleteEip", "createVpc", "updatePort"),
		"trace_type": pick(j, "ConsoleAction", "ApiCall", "SystemAction"), "trace_rating": pick(j, "normal", "warning", "incident", "normal"),
		"service_type": pick(j, "VPC", "ECS"), "resource_type": pick(j, "eip", "vpc", "port", "server"),
		"resource_name": fmt.Sprintf("res-%d", j%5), "resource_id": fmt.Sprintf("rid-%d", j%4),
		"source_ip": pick(j, "203.0.113.7", "198.51.100.2"), "code": pick(j, 200, 403, 200),
		"api_version": "2.0", "time": at.UnixMilli(), "record_time": at.UnixMilli() + 20,
		"request_id": fmt.Sprintf("req-%d", i), "region_id": "cn-north-4",
		"user":     map[string]any{"id": "u-" + pick(j, Principals...), "name": pick(j, Principals...), "domain": map[string]any{"id": "d1", "name": "acme"}},
		"request":  `{"eip":{"id":"x"}}`,
		"response": map[string]any{"code": "VPC.0514", "message": "Update port fail."},
	}
}

func cloudAudit(i int, at time.Time) map[string]any {
	// j, not i: i%3 is the source, so fields cycling with i would
	// never vary within one source.
	j := i / 3
	return map[string]any{
		"eventVersion": 1, "eventTime": at.Unix(), "eventSource": "tke.tencentcloudapi.com",
		"eventName": pick(j, "DeleteCluster", "CreateCluster", "DescribeClusters"), "eventRegion": "ap-guangzhou",
		"eventType": pick(j, "ApiCall", "ConsoleCall"), "eventId": fmt.Sprintf("tc-%06d", i),
		"errorCode": pick(j, 0, 0, 4031), "requestID": fmt.Sprintf("req-%d", i), "apiVersion": "3.0",
		"sourceIPAddress": pick(j, "203.0.113.7", "192.0.2.9"), "resourceType": "cluster",
		"resourceName": fmt.Sprintf("cls-%d", j%5),
		"userIdentity": map[string]any{"type": "CAMUser", "principalId": "100", "accountId": "100",
			"userName": pick(j, Principals...)},
	}
}

func k8sEvent(i int, at time.Time) map[string]any {
	// j, not i: i%3 is the source, so fields cycling with i would
	// never vary within one source.
	j := i / 3
	ts := at.Format(time.RFC3339Nano)
	return map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
		"auditID": fmt.Sprintf("k8s-%06d", i), "stage": "ResponseComplete",
		"requestURI": "/api/v1/namespaces/shop/pods/p" + fmt.Sprint(j%5), "verb": pick(j, "delete", "create", "get", "patch"),
		"user":      map[string]any{"username": pick(j, Principals...), "groups": []string{"system:authenticated"}},
		"sourceIPs": []string{pick(j, "203.0.113.7", "10.0.0.3")},
		"objectRef": map[string]any{"resource": "pods", "namespace": "shop", "name": fmt.Sprintf("p%d", j%5),
			"uid": fmt.Sprintf("uid-%d", j%4), "apiVersion": "v1"},
		"responseStatus":           map[string]any{"code": pick(j, 200, 403, 201)},
		"requestReceivedTimestamp": ts, "stageTimestamp": ts,
	}
}
