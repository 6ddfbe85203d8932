package router_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
)

const (
	tencentDelete = `{"userIdentity":{"type":"CAMUser","principalId":"alice","accountId":"100000000001"},"eventTime":1615430559,
"eventSource":"tke.tencentcloudapi.com","eventName":"DeleteCluster","eventType":"ApiCall","errorCode":0,"requestID":"req-tc-1",
"resourceType":"cluster","resourceName":"cls-1","sourceIPAddress":"203.0.113.7","eventRegion":"ap-guangzhou"}`
	ctsDelete = `{"trace_id":"tr-1","trace_name":"deleteCluster","trace_type":"ApiCall","service_type":"CCE","resource_type":"cluster",
"resource_name":"c1","user":{"name":"alice"},"source_ip":"203.0.113.7","code":"200","time":1615430559146}`
	ctsByBob = `{"trace_id":"tr-2","trace_name":"deleteCluster","trace_type":"ApiCall","service_type":"CCE","resource_type":"cluster",
"resource_name":"c2","user":{"name":"bob"},"source_ip":"203.0.113.8","code":"200","time":1615430559146}`
)

func k8sEvent(auditID, stage string, code int) string {
	status := ""
	if code != 0 {
		status = fmt.Sprintf(`,"responseStatus":{"code":%d}`, code)
	}
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":%q,
"requestURI":"/api/v1/namespaces/default/pods/p1","verb":"delete","user":{"username":"alice"},"sourceIPs":["203.0.113.7"],
"objectRef":{"resource":"pods","namespace":"default","name":"p1","apiVersion":"v1"}%s,
"requestReceivedTimestamp":"2021-03-11T02:42:39.000000Z","stageTimestamp":"2021-03-11T02:42:39.100000Z"}`, auditID, stage, status)
}

func eventList(items ...string) string {
	return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[` + strings.Join(items, ",") + `]}`
}

func postRaw(t *testing.T, s *router.Server, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.Addr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// TestOneRuleMatchesEveryCloud: the same operation by the same person,
// recorded by Tencent CloudAudit, Huawei CTS and Kubernetes audit, matches
// one rule written on the audit extensions; someone else's does not.
func TestOneRuleMatchesEveryCloud(t *testing.T) {
	hook := newWebhook(t, nil)
	s := start(t, t.TempDir(), nil, writeRules(t, fmt.Sprintf(`name: alice-deletes
pattern:
  principal: ["alice"]
  action: [{prefix: "Delete"}, {prefix: "delete"}]
  outcome: ["success"]
targets:
  - id: hook
    webhook: {url: %q}
`, hook.URL)))
	for _, p := range []struct{ path, body string }{
		{"/v1/sources/cloudaudit", tencentDelete},
		{"/v1/sources/cts", `{"traces":[` + ctsDelete + `,` + ctsByBob + `]}`},
		{"/v1/sources/k8s-audit?cluster=prod&product=tke", eventList(k8sEvent("a-1", "ResponseComplete", 200))},
	} {
		if status, answer := postRaw(t, s, p.path, p.body); status != http.StatusAccepted {
			t.Fatalf("POST %s: %d %v", p.path, status, answer)
		}
	}
	settled(t, s)
	got := hook.ids()
	k8sID := ""
	for id := range got {
		if strings.HasPrefix(id, "a-1-ResponseComplete-") {
			k8sID = id
		}
	}
	for _, id := range []string{"req-tc-1", "tr-1", k8sID} {
		if got[id] != 1 {
			t.Errorf("event %q delivered %d times, want once (got %v)", id, got[id], got)
		}
	}
	if got["tr-2"] != 0 || len(got) != 3 {
		t.Errorf("delivered %v, want exactly alice's three deletes", got)
	}
	r, _ := hook.byID(k8sID)
	if r.header.Get("Ce-Cluster") != "prod" || r.header.Get("Ce-Type") != "tke:K8sAudit:delete" || r.header.Get("Ce-Resourcetype") != "pods" {
		t.Errorf("k8s event attributes: %v", r.header)
	}
}

// TestEventGridRuleMatchesCTSTrace: a rule written for a Huawei EventGrid
// subscription (source HC.VPC, type VPC:CloudTrace:ConsoleAction) matches a
// CTS trace posted to the CTS endpoint, and nothing else: not the same
// trace as an API call, not another service's console action. The event
// is stored on the subject its EventGrid names make, and reaches the
// target with the notification-filter extensions.
func TestEventGridRuleMatchesCTSTrace(t *testing.T) {
	hook := newWebhook(t, nil)
	s := start(t, t.TempDir(), nil, writeRules(t, fmt.Sprintf(`name: vpc-console
pattern:
  source: ["HC.VPC"]
  type: ["VPC:CloudTrace:ConsoleAction"]
targets:
  - id: hook
    webhook: {url: %q}
`, hook.URL)))
	trace := func(id, service, kind string) string {
		return fmt.Sprintf(`{"trace_id":%q,"trace_name":"deleteEip","trace_type":%q,"service_type":%q,"resource_type":"eip",
"resource_id":"d502809d","user":{"name":"alice"},"code":200,"trace_rating":"warning","api_version":"2.0","time":1472148708232}`, id, kind, service)
	}
	body := "[" + trace("vpc-console", "VPC", "ConsoleAction") + "," + trace("vpc-api", "VPC", "ApiCall") + "," +
		trace("eip-console", "EIP", "ConsoleAction") + "]"
	if status, answer := postRaw(t, s, "/v1/sources/cts", body); status != http.StatusAccepted {
		t.Fatalf("POST: %d %v", status, answer)
	}
	settled(t, s)
	if got := hook.ids(); got["vpc-console"] != 1 || len(got) != 1 {
		t.Fatalf("delivered %v, want only the VPC console action, once", got)
	}
	r, _ := hook.byID("vpc-console")
	for h, want := range map[string]string{"Ce-Source": "HC.VPC", "Ce-Type": "VPC:CloudTrace:ConsoleAction", "Ce-Kind": "ConsoleAction",
		"Ce-Tracerating": "warning", "Ce-Apiversion": "2.0", "Ce-Code": "200"} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	msg, err := streamOf(t, s, bus.StreamName).GetLastMsgForSubject(context.Background(), bus.SubjectPrefix+".default.VPC.ConsoleAction.deleteEip")
	if err != nil || !strings.Contains(string(msg.Data), `"id":"vpc-console"`) {
		t.Errorf("no event on auditbus.events.default.VPC.ConsoleAction.deleteEip: %v", err)
	}
}

// TestK8sBatchPostedTwiceIsStoredOnce: the apiserver retries whole batches;
// both stages of a request are distinct events.
func TestK8sBatchPostedTwiceIsStoredOnce(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	body := eventList(k8sEvent("a-2", "RequestReceived", 0), k8sEvent("a-2", "ResponseComplete", 201))
	status, first := postRaw(t, s, "/v1/sources/k8s-audit?cluster=prod", body)
	if status != http.StatusAccepted || first["accepted"] != 2.0 || first["duplicates"] != nil {
		t.Fatalf("first post: %d %v", status, first)
	}
	status, second := postRaw(t, s, "/v1/sources/k8s-audit?cluster=prod", body)
	if dups, _ := second["duplicates"].([]any); status != http.StatusAccepted || len(dups) != 2 {
		t.Fatalf("second post: %d %v, want both events reported as duplicates", status, second)
	}
	if n := streamMsgs(t, s); n != 2 {
		t.Errorf("stream holds %d events, want 2", n)
	}
}

// TestSourceBatchWithBadRecordsStoresNothing: every bad index is named.
func TestSourceBatchWithBadRecordsStoresNothing(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	body := `[` + ctsDelete + `,{"trace_name":"x","service_type":"ECS"},` + ctsByBob + `,{"trace_id":"t9","service_type":"ECS"}]`
	status, answer := postRaw(t, s, "/v1/sources/cts", body)
	msg, _ := answer["error_msg"].(string)
	if status != http.StatusBadRequest || answer["error_code"] != "AB.1002" {
		t.Fatalf("answer %d %v", status, answer)
	}
	if !strings.Contains(msg, "record 1: trace has no trace_id") || !strings.Contains(msg, "record 3: trace has no trace_name") || strings.Contains(msg, "record 0") {
		t.Errorf("error_msg %q must name exactly records 1 and 3 and their missing fields", msg)
	}
	if n := streamMsgs(t, s); n != 0 {
		t.Errorf("stream holds %d events after a rejected batch", n)
	}
	for _, path := range []string{"/v1/sources/k8s-audit?cluster=bad%20name", "/v1/sources/k8s-audit/bad%20name", "/v1/sources/k8s-audit/prod?cluster=dev"} {
		if status, answer := postRaw(t, s, path, eventList(k8sEvent("a", "ResponseComplete", 200))); status != 400 || answer["error_code"] != "AB.1006" {
			t.Errorf("%s: %d %v, want 400 AB.1006", path, status, answer)
		}
	}
	if n := streamMsgs(t, s); n != 0 {
		t.Errorf("stream holds %d events after bad cluster parameters", n)
	}
}

// TestK8sAuditClusterInPath: a kubeconfig's server URL loses its query
// string in client-go, so the cluster can be the last path segment.
func TestK8sAuditClusterInPath(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	if status, answer := postRaw(t, s, "/v1/sources/k8s-audit/prod-eu", eventList(k8sEvent("p-1", "ResponseComplete", 200))); status != 202 {
		t.Fatalf("post: %d %v", status, answer)
	}
	e := storedEvents(t, s)[0]
	if got := e.Extensions()["cluster"]; got != "prod-eu" {
		t.Errorf("cluster extension %v, want prod-eu", got)
	}
}

// TestK8sAuditAnswers503WhenTheBusCannotStore, so the apiserver retries.
func TestK8sAuditAnswers503WhenTheBusCannotStore(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(context.Background(), bus.StreamName); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/v1/sources/k8s-audit?cluster=prod", strings.NewReader(eventList(k8sEvent("a-3", "ResponseComplete", 200))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("answer %d Retry-After=%q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
