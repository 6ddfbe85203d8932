package huaweicloud

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	cts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cts/v3"
	ctsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cts/v3/model"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index/indextest"
)

const (
	traceAK, traceSK = "HPUATRACEKEY00000001", "trace-secret-key-0123456789abcdefghijklmn"
	publishToken     = "abt_publish-token-for-the-trace-tests"
)

// startTraceRouter runs auditbus whose access key may list traces, with
// events of every source (CTS, Tencent, Kubernetes) stored and indexed;
// it returns the base URL and the events' ids, newest first.
func startTraceRouter(t *testing.T, n int, start time.Time) (string, []string) {
	t.Helper()
	evs := indextest.Events(t, n, start)
	ids := make([]string, len(evs))
	for i := range evs {
		ids[len(evs)-1-i] = evs[i].ID()
	}
	return startIndexedRouter(t, traceAK, traceSK, "cts:trace:list", evs), ids
}

// startIndexedRouter runs auditbus with an identity holding access key
// ak/sk and action, publishes evs and returns its base URL once the
// audit index holds every one of them.
func startIndexedRouter(t *testing.T, ak, sk, action string, evs []event.Event) string {
	t.Helper()
	doc := fmt.Sprintf(`identities:
  - name: reader
    access_keys: [{id: %s, secret: %s}]
    actions: [%s]
  - name: publisher
    tokens: [%q]
    actions: [events:put, audit:read]
`, ak, sk, action, auth.HashToken(publishToken))
	cfg := router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Log: zerolog.Nop(), Stdout: io.Discard, AuthFailureRate: -1, AuthFile: filepath.Join(t.TempDir(), "auth.yaml")}
	if err := os.WriteFile(cfg.AuthFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := router.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	base := "http://" + s.Addr()
	var body bytes.Buffer
	body.WriteByte('[')
	for i := range evs {
		raw, err := cejson.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(raw)
	}
	body.WriteByte(']')
	req, _ := http.NewRequest("POST", base+"/v1/events", &body)
	req.Header.Set("Content-Type", "application/cloudevents-batch+json")
	req.Header.Set("Authorization", "Bearer "+publishToken)
	if code, answer := status(t, req); code != 202 {
		t.Fatalf("publish: %d %s", code, answer)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequest("GET", base+"/v1/audit-events?limit=200", nil)
		req.Header.Set("Authorization", "Bearer "+publishToken)
		_, answer := status(t, req)
		if bytes.Count([]byte(answer), []byte(`"seq":`)) == len(evs) {
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("not indexed within a minute: %.200s", answer)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSDKListTraces: the SDK's CTS client lists auditbus's traces with
// its own request fields, decodes every page into its typed models, and
// pages through them with the marker it returns.
func TestSDKListTraces(t *testing.T) {
	start := time.Now().Add(-40 * time.Minute).Truncate(time.Second)
	base, want := startTraceRouter(t, 45, start)
	c := cts.NewCtsClient(client{endpoint: base, ak: traceAK, sk: traceSK}.hc(t, cts.CtsClientBuilder()))
	var got []string
	var next *string
	for range 20 {
		resp, err := c.ListTraces(&ctsmodel.ListTracesRequest{TraceType: ctsmodel.GetListTracesRequestTraceTypeEnum().SYSTEM,
			Limit: ptr(int32(7)), From: ptr(start.Add(-time.Second).UnixMilli()), To: ptr(time.Now().UnixMilli()), Next: next})
		if err != nil {
			t.Fatalf("ListTraces: %v", err)
		}
		if resp.HttpStatusCode != 200 || resp.Traces == nil || resp.MetaData == nil || int(*resp.MetaData.Count) != len(*resp.Traces) {
			t.Fatalf("ListTraces: %+v", resp)
		}
		for _, tr := range *resp.Traces {
			if tr.TraceId == nil || tr.Time == nil || tr.User == nil || tr.User.Name == nil || tr.TraceRating == nil || tr.Code == nil {
				t.Fatalf("trace without its fields: %v", tr)
			}
			got = append(got, *tr.TraceId)
		}
		if next = resp.MetaData.Marker; next == nil {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("SDK paging: %d traces %v\nwant %d %v", len(got), got, len(want), want)
	}

	resp, err := c.ListTraces(&ctsmodel.ListTracesRequest{TraceType: ctsmodel.GetListTracesRequestTraceTypeEnum().SYSTEM,
		User: ptr("bob"), ServiceType: ptr("ECS"), Limit: ptr(int32(200)), From: ptr(start.Add(-time.Second).UnixMilli())})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range *resp.Traces {
		if *tr.User.Name != "bob" || *tr.ServiceType != "ECS" || tr.User.Domain == nil || *tr.User.Domain.Name != "acme" {
			t.Errorf("filtered trace: %v", tr)
		}
	}
	if len(*resp.Traces) == 0 {
		t.Error("no trace of bob in ECS: the filter check checked nothing")
	}

	_, err = c.ListTraces(&ctsmodel.ListTracesRequest{TraceType: ctsmodel.GetListTracesRequestTraceTypeEnum().SYSTEM, Limit: ptr(int32(201))})
	if se, ok := err.(*sdkerr.ServiceResponseError); !ok || se.StatusCode != 400 || se.ErrorCode != "CTS.0300" {
		t.Errorf("limit 201: %v, want the SDK's error with CTS.0300", err)
	}
}
