package router_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus/bustest"
)

// subscriber is a topic subscription's endpoint: it confirms the
// subscription as SMN receivers do (GET subscribe_url) and keeps every
// Notification body.
type subscriber struct {
	*httptest.Server
	mu            sync.Mutex
	notifications [][]byte
	confirmed     []string // the topic_urn of each SubscriptionConfirmation
	subscribed    int      // subscribe_url GETs the router answered with 200
}

func newSubscriber(t *testing.T) *subscriber {
	t.Helper()
	s := &subscriber{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m struct {
			Type         string `json:"type"`
			SubscribeURL string `json:"subscribe_url"`
			TopicURN     string `json:"topic_urn"`
		}
		_ = json.Unmarshal(body, &m)
		switch m.Type {
		case "SubscriptionConfirmation":
			s.mu.Lock()
			s.confirmed = append(s.confirmed, m.TopicURN)
			s.mu.Unlock()
			go func() { // after answering, as a receiver would
				if resp, err := http.Get(m.SubscribeURL); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						s.mu.Lock()
						s.subscribed++
						s.mu.Unlock()
					}
				}
			}()
		case "Notification":
			s.mu.Lock()
			s.notifications = append(s.notifications, body)
			s.mu.Unlock()
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *subscriber) got() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.notifications...)
}

func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putTopic creates topic name with one https... (here http, loopback)
// subscription to url.
func putTopic(t *testing.T, s *router.Server, name, url string) string {
	t.Helper()
	status, _, out := call(t, s, http.MethodPut, "/v1/topics/"+name, "application/json",
		jsonBody(t, map[string]any{"project": "p1", "subscriptions": []any{map[string]any{"id": "soc", "protocol": "http", "endpoint": url}}}), nil)
	if status != http.StatusCreated {
		t.Fatalf("PUT topic: %d %v", status, out)
	}
	return out["urn"].(string)
}

const ctsDeleteCluster = `{"trace_id":"ct-1","trace_name":"deleteCluster","trace_rating":"warning","trace_type":"ApiCall",
 "service_type":"CCE","resource_type":"cluster","resource_name":"prod","resource_id":"c-1","code":"200","api_version":"v3",
 "time":1764640000000,"user":{"name":"alice","id":"u1","domain":{"name":"acme","id":"d1"}},"source_ip":"10.0.0.1"}`

const tencentDeleteCluster = `{"eventId":"tc-1","eventName":"DeleteCluster","eventSource":"tke.tencentcloudapi.com","eventType":"ApiCall",
 "eventTime":1764640000,"eventRegion":"ap-guangzhou","resourceType":"cluster","resourceName":"cls-1","errorCode":0,
 "apiVersion":"2018-05-25","sourceIPAddress":"10.0.0.2","userIdentity":{"principalId":"alice","userName":"alice","accountId":"100"}}`

// TestNotificationDeliversCTSTraceToTopic: a notification created through
// /v3, fed a CTS trace and a Tencent record of the same operation (and a
// trace of another), delivers two signed smn messages whose message is
// the CTS trace and whose subject names the operation; disabled, nothing
// more arrives, and it is still listed; deleted, it is gone.
func TestNotificationDeliversCTSTraceToTopic(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	sub := newSubscriber(t)
	urn := putTopic(t, s, "security", sub.URL)
	create := map[string]any{"notification_name": "cluster-deleted", "operation_type": "customized",
		"operations": []any{
			map[string]any{"service_type": "CCE", "resource_type": "cluster", "trace_names": []string{"deleteCluster"}},
			map[string]any{"service_type": "TKE", "resource_type": "cluster", "trace_names": []string{"DeleteCluster"}}},
		"notify_user_list": []any{map[string]any{"user_group": "admin", "user_list": []string{"alice"}}},
		"filter":           map[string]any{"condition": "AND", "is_support_filter": true, "rule": []string{"trace_type = ApiCall"}},
		"topic_id":         urn}
	status, _, n := call(t, s, http.MethodPost, "/v3/p1/notifications", "application/json", jsonBody(t, create), nil)
	if status != http.StatusCreated || n["status"] != "enabled" || n["notification_type"] != "smn" || n["project_id"] != "p1" {
		t.Fatalf("create: %d %v", status, n)
	}
	id := n["notification_id"].(string)
	_, _, rules := call(t, s, http.MethodGet, "/v1/rules", "", nil, nil)
	if !strings.Contains(fmt.Sprint(rules), "notification_id:"+id) {
		t.Fatalf("GET /v1/rules does not list the notification's rule with its origin: %v", rules)
	}

	post := func(path, body string) {
		t.Helper()
		if status, _, out := call(t, s, http.MethodPost, path, "application/json", []byte(body), nil); status != http.StatusAccepted {
			t.Fatalf("POST %s: %d %v", path, status, out)
		}
	}
	post("/v1/sources/cts", ctsDeleteCluster)
	post("/v1/sources/cloudaudit", tencentDeleteCluster)
	post("/v1/sources/cts", strings.ReplaceAll(strings.ReplaceAll(ctsDeleteCluster, "ct-1", "ct-2"), "deleteCluster", "createCluster"))
	waitFor(t, "two notifications", func() (bool, string) { return len(sub.got()) >= 2, fmt.Sprint(len(sub.got())) })

	_, cert := fetchCert(t, "http://"+s.Addr()+"/v1/signing-cert")
	seen := map[string]string{}
	for _, body := range sub.got() {
		if err := verifyAsReceiver(t, cert, body); err != nil {
			t.Fatalf("signature does not verify: %v\n%s", err, body)
		}
		var m struct{ TopicURN, Subject, Message string }
		if err := json.Unmarshal(body, &struct {
			TopicURN *string `json:"topic_urn"`
			Subject  *string `json:"subject"`
			Message  *string `json:"message"`
		}{&m.TopicURN, &m.Subject, &m.Message}); err != nil {
			t.Fatal(err)
		}
		var trace map[string]any
		if err := json.Unmarshal([]byte(m.Message), &trace); err != nil {
			t.Fatalf("message is not a trace: %v", m.Message)
		}
		if m.TopicURN != urn {
			t.Errorf("topic_urn %s, want %s", m.TopicURN, urn)
		}
		seen[trace["trace_id"].(string)] = m.Subject
	}
	sub.mu.Lock()
	confirmed := fmt.Sprint(sub.confirmed)
	sub.mu.Unlock()
	if confirmed != "["+urn+"]" {
		t.Errorf("confirmations for topics %s, want one for %s", confirmed, urn)
	}
	if seen["ct-1"] != "CCE deleteCluster cluster prod by alice" || seen["tc-1"] != "tke DeleteCluster cluster cls-1 by alice" || len(seen) != 2 {
		t.Fatalf("notifications (trace id -> subject): %v", seen)
	}

	upd := create
	upd["notification_id"], upd["status"] = id, "disabled"
	if status, _, out := call(t, s, http.MethodPut, "/v3/p1/notifications", "application/json", jsonBody(t, upd), nil); status != http.StatusOK || out["status"] != "disabled" {
		t.Fatalf("update: %d %v", status, out)
	}
	post("/v1/sources/cts", strings.ReplaceAll(ctsDeleteCluster, "ct-1", "ct-3"))
	// Once the router has fanned the event out and emptied the queues, the
	// disabled notification has had its chance to deliver.
	settled(t, s)
	if got := len(sub.got()); got != 2 {
		t.Fatalf("a disabled notification delivered: %d messages", got)
	}
	status, _, list := call(t, s, http.MethodGet, "/v3/p1/notifications/smn?notification_name=cluster-deleted", "", nil, nil)
	if status != http.StatusOK || len(list["notifications"].([]any)) != 1 {
		t.Fatalf("list: %d %v", status, list)
	}
	if status, _, out := call(t, s, http.MethodDelete, "/v3/p1/notifications?notification_id="+id, "", nil, nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d %v", status, out)
	}
	_, _, list = call(t, s, http.MethodGet, "/v3/p1/notifications/smn", "", nil, nil)
	if len(list["notifications"].([]any)) != 0 {
		t.Fatalf("after delete: %v", list)
	}
}

// TestNotificationReachesEveryReplica: a topic and a notification created
// through one router fire on another on the same NATS, and both survive
// a restart of the first.
func TestNotificationReachesEveryReplica(t *testing.T) {
	external := bustest.Start(t, "")
	useExternal := func(c *router.Config) { c.NATSURL = external.NS.ClientURL() }
	dir := t.TempDir()
	a := start(t, dir, useExternal)
	b := start(t, t.TempDir(), useExternal)
	sub := newSubscriber(t)
	urn := putTopic(t, a, "security", sub.URL)
	create := map[string]any{"notification_name": "deletes", "operation_type": "customized", "topic_id": urn,
		"operations": []any{map[string]any{"service_type": "CCE", "resource_type": "cluster", "trace_names": []string{"deleteCluster"}}}}
	if status, _, out := call(t, a, http.MethodPost, "/v3/p1/notifications", "application/json", jsonBody(t, create), nil); status != http.StatusCreated {
		t.Fatalf("create on a: %d %v", status, out)
	}
	waitFor(t, "b to list the notification", func() (bool, string) {
		_, _, list := call(t, b, http.MethodGet, "/v3/p1/notifications/smn", "", nil, nil)
		return len(list["notifications"].([]any)) == 1, fmt.Sprint(list)
	})
	// Either replica may send the SubscriptionConfirmation, naming its own
	// address: stopping a before the endpoint's GET reached it would leave
	// the subscription pending for the hour a resend waits.
	waitFor(t, "the subscription confirmed", func() (bool, string) {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		return sub.subscribed == 1, fmt.Sprint(sub.subscribed)
	})
	// Only b runs while the event is routed: a's copy cannot be the one
	// that delivers it.
	a.Stop(context.Background())
	if status, _, out := call(t, b, http.MethodPost, "/v1/sources/cts", "application/json", []byte(ctsDeleteCluster), nil); status != http.StatusAccepted {
		t.Fatalf("POST to b: %d %v", status, out)
	}
	waitFor(t, "b to notify", func() (bool, string) { return len(sub.got()) == 1, fmt.Sprint(len(sub.got())) })

	a2 := start(t, dir, useExternal)
	_, _, list := call(t, a2, http.MethodGet, "/v3/p1/notifications/smn?notification_name=deletes", "", nil, nil)
	if len(list["notifications"].([]any)) != 1 {
		t.Fatalf("after restart: %v", list)
	}
	if status, _, out := call(t, a2, http.MethodGet, "/v1/topics/security", "", nil, nil); status != http.StatusOK || out["urn"] != urn {
		t.Fatalf("topic after restart: %d %v", status, out)
	}
}
