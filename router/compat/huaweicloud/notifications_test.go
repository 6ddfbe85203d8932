package huaweicloud

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cts/v3"
	ctsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cts/v3/model"
	"github.com/rs/zerolog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/sinks"
)

const (
	notifyAK, notifySK = "HPUANOTIFYKEY0000001", "notify-secret-key-0123456789abcdefghijkl"
	opsToken           = "abt_ops-token-for-the-notification-tests"
)

// smnSubscriber confirms its subscription (GET subscribe_url) and keeps
// every Notification, verified against the router's certificate.
type smnSubscriber struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*sinks.SMNMessage
	errs []error
	cert *x509.Certificate
}

func (s *smnSubscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var m sinks.SMNMessage
	_ = json.Unmarshal(body, &m)
	if m.Type == sinks.SMNTypeSubscriptionConfirmation {
		go func() {
			if resp, err := http.Get(m.SubscribeURL); err == nil {
				resp.Body.Close()
			}
		}()
		return
	}
	verified, err := sinks.VerifySMN(body, s.cert)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs = append(s.errs, err)
		return
	}
	s.got = append(s.got, verified)
}

func (s *smnSubscriber) messages() ([]*sinks.SMNMessage, []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*sinks.SMNMessage(nil), s.got...), append([]error(nil), s.errs...)
}

// send posts body to path with the ops token, wanting want.
func send(t *testing.T, method, url, body string, want int) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+opsToken)
	if code, answer := status(t, req); code != want {
		t.Fatalf("%s %s: %d %s", method, url, code, answer)
	}
}

func startNotifyRouter(t *testing.T) *router.Server {
	t.Helper()
	doc := fmt.Sprintf(`identities:
  - name: notifier
    access_keys: [{id: %s, secret: %s}]
    actions: ["cts:notification:*"]
  - name: ops
    tokens: [%q]
    actions: [sources:put, topics:write, topics:read]
`, notifyAK, notifySK, auth.HashToken(opsToken))
	cfg := router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-", AllowPrivateTargets: true,
		Log: zerolog.Nop(), Stdout: io.Discard, AuthFailureRate: -1, AuthFile: filepath.Join(t.TempDir(), "auth.yaml")}
	if err := os.WriteFile(cfg.AuthFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := router.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

// waitRouted waits until the router has fanned out every stored event and
// emptied every delivery queue, so nothing more will arrive.
func waitRouted(t *testing.T, s *router.Server) {
	t.Helper()
	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	bustest.WaitSettled(t, js, bus.StreamName, dispatch.ConsumerName, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := js.Stream(context.Background(), bus.DeliveriesStream)
		if err == nil {
			if info, err := st.Info(context.Background()); err == nil && info.State.Msgs == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("deliveries not settled within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func signingCert(t *testing.T, base string) *x509.Certificate {
	t.Helper()
	resp, err := http.Get(base + sinks.SigningCertPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatalf("signing cert: %q", raw)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestSDKNotificationRoundTrip: the SDK creates a notification on a
// topic; a CTS trace and a Tencent record of the same operation reach
// the topic's subscriber as signed, verified smn messages carrying the
// trace; after the SDK disables it nothing more arrives; the SDK lists
// it, deletes it, and lists nothing.
func TestSDKNotificationRoundTrip(t *testing.T) {
	srv := startNotifyRouter(t)
	base := "http://" + srv.Addr()
	sub := &smnSubscriber{cert: signingCert(t, base)}
	sub.Server = httptest.NewServer(sub)
	t.Cleanup(sub.Close)
	send(t, http.MethodPut, base+"/v1/topics/security", fmt.Sprintf(`{"project":%q,"subscriptions":[{"id":"soc","protocol":"http","endpoint":%q}]}`,
		testProjectID, sub.URL), http.StatusCreated)
	topic := "urn:smn:auditbus:" + testProjectID + ":security"

	c := cts.NewCtsClient(client{endpoint: base, ak: notifyAK, sk: notifySK}.hc(t, cts.CtsClientBuilder()))
	ops := []ctsmodel.Operations{{ServiceType: "CCE", ResourceType: "cluster", TraceNames: []string{"deleteCluster"}},
		{ServiceType: "TKE", ResourceType: "cluster", TraceNames: []string{"DeleteCluster"}}}
	users := []ctsmodel.NotificationUsers{{UserGroup: "admin", UserList: []string{"alice"}}}
	filter := &ctsmodel.Filter{Condition: ctsmodel.GetFilterConditionEnum().AND, IsSupportFilter: true, Rule: []string{"trace_type = ApiCall"}}
	created, err := c.CreateNotification(&ctsmodel.CreateNotificationRequest{Body: &ctsmodel.CreateNotificationRequestBody{
		NotificationName: "cluster-deleted", OperationType: ctsmodel.GetCreateNotificationRequestBodyOperationTypeEnum().CUSTOMIZED,
		Operations: &ops, NotifyUserList: &users, TopicId: ptr(topic), Filter: filter}})
	if err != nil {
		t.Fatalf("CreateNotification: %v", err)
	}
	if created.HttpStatusCode != 201 || created.NotificationId == nil || created.CreateTime == nil || *created.ProjectId != testProjectID ||
		created.NotificationType.Value() != "smn" || created.Status.Value() != "enabled" {
		t.Fatalf("CreateNotification: %+v", created)
	}

	send(t, http.MethodPost, base+"/v1/sources/cts", `{"trace_id":"ct-1","trace_name":"deleteCluster","trace_type":"ApiCall",
	 "service_type":"CCE","resource_type":"cluster","resource_name":"prod","code":"200","time":1764640000000,"user":{"name":"alice"}}`, http.StatusAccepted)
	send(t, http.MethodPost, base+"/v1/sources/cloudaudit", `{"eventId":"tc-1","eventName":"DeleteCluster","eventSource":"tke.tencentcloudapi.com",
	 "eventType":"ApiCall","eventTime":1764640000,"resourceType":"cluster","resourceName":"cls-1","errorCode":0,"userIdentity":{"principalId":"alice"}}`, http.StatusAccepted)
	deadline := time.Now().Add(30 * time.Second)
	var got []*sinks.SMNMessage
	for {
		var errs []error
		got, errs = sub.messages()
		if len(errs) > 0 {
			t.Fatalf("a message did not verify: %v", errs)
		}
		if len(got) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	traces := map[string]string{}
	for _, m := range got {
		var tr struct {
			TraceID   string `json:"trace_id"`
			TraceName string `json:"trace_name"`
		}
		if err := json.Unmarshal([]byte(m.Message), &tr); err != nil || m.TopicURN != topic {
			t.Fatalf("message %+v: %v", m, err)
		}
		traces[tr.TraceID] = tr.TraceName + " / " + m.Subject
	}
	if traces["ct-1"] != "deleteCluster / CCE deleteCluster cluster prod by alice" || traces["tc-1"] != "DeleteCluster / tke DeleteCluster cluster cls-1 by alice" {
		t.Fatalf("notifications: %v", traces)
	}

	updated, err := c.UpdateNotification(&ctsmodel.UpdateNotificationRequest{Body: &ctsmodel.UpdateNotificationRequestBody{
		NotificationId: *created.NotificationId, NotificationName: "cluster-deleted",
		OperationType: ctsmodel.GetUpdateNotificationRequestBodyOperationTypeEnum().CUSTOMIZED, Operations: &ops, NotifyUserList: &users,
		Status: ctsmodel.GetUpdateNotificationRequestBodyStatusEnum().DISABLED, TopicId: ptr(topic), Filter: filter}})
	if err != nil || updated.HttpStatusCode != 200 || updated.Status.Value() != "disabled" || *updated.CreateTime != *created.CreateTime {
		t.Fatalf("UpdateNotification: %+v %v", updated, err)
	}
	send(t, http.MethodPost, base+"/v1/sources/cts", `{"trace_id":"ct-2","trace_name":"deleteCluster","trace_type":"ApiCall",
	 "service_type":"CCE","resource_type":"cluster","resource_name":"prod","code":"200","time":1764640001000,"user":{"name":"alice"}}`, http.StatusAccepted)
	waitRouted(t, srv)
	if got, _ = sub.messages(); len(got) != 2 {
		t.Fatalf("after disabling: %d messages, want the 2 from before", len(got))
	}

	list, err := c.ListNotifications(&ctsmodel.ListNotificationsRequest{NotificationType: ctsmodel.GetListNotificationsRequestNotificationTypeEnum().SMN,
		NotificationName: ptr("cluster-deleted")})
	if err != nil || list.Notifications == nil || len(*list.Notifications) != 1 || (*list.Notifications)[0].Status.Value() != "disabled" {
		t.Fatalf("ListNotifications: %+v %v", list, err)
	}
	if _, err := c.DeleteNotification(&ctsmodel.DeleteNotificationRequest{NotificationId: *created.NotificationId}); err != nil {
		t.Fatalf("DeleteNotification: %v", err)
	}
	// Every notification of the project this time: the same request
	// signed within the same second again would be refused as a replay.
	list, err = c.ListNotifications(&ctsmodel.ListNotificationsRequest{NotificationType: ctsmodel.GetListNotificationsRequestNotificationTypeEnum().SMN})
	if err != nil || list.Notifications == nil || len(*list.Notifications) != 0 {
		t.Fatalf("ListNotifications after delete: %+v %v", list, err)
	}
}
