package ingest

import (
	"strings"
	"testing"
)

// auditEvent is a Tencent CloudAudit ApiCall record wrapped as the router
// stores it, about 2 KB.
var auditEvent = []byte(ev(`"subject":"qcs::tke:ap-guangzhou:uin/100000000001:cluster/cls-8fk2l3mq",` +
	`"time":"2024-05-01T12:00:00.123Z","datacontenttype":"application/json","region":"ap-guangzhou",` +
	`"principal":"100000000001:ops-admin","action":"DeleteCluster","resourcetype":"cluster",` +
	`"resourcename":"cls-8fk2l3mq","outcome":"success","sourceip":"203.0.113.7",` +
	`"data":{"eventVersion":"1.0","userIdentity":{"type":"CAMUser","principalId":"100000000001",` +
	`"secretId":"AKIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","sessionContext":"","accountId":"100000000001",` +
	`"userName":"ops-admin"},"eventTime":1714564800123,"eventSource":"tke.tencentcloudapi.com",` +
	`"eventName":"DeleteCluster","eventRegion":"ap-guangzhou","sourceIPAddress":"203.0.113.7",` +
	`"userAgent":"tencentcloud-sdk-go/3.0.980","requestParameters":"{\"ClusterId\":\"cls-8fk2l3mq\",` +
	`\"InstanceDeleteMode\":\"terminate\",\"ResourceDeleteOptions\":[{\"ResourceType\":\"CBS\",` +
	`\"DeleteMode\":\"terminate\"}]}","responseElements":"{\"RequestId\":\"5e3b1c2d-9a8f-4c7e-b6d5-1a2b3c4d5e6f\"}",` +
	`"requestID":"5e3b1c2d-9a8f-4c7e-b6d5-1a2b3c4d5e6f","eventID":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",` +
	`"eventType":"ApiCall","apiVersion":"2018-05-25","resourceType":"tke","resourceName":"cls-8fk2l3mq",` +
	`"errorCode":0,"errorMessage":"","httpCode":200,"actionType":"Delete","isSensitive":true,` +
	`"tags":[{"key":"env","value":"prod"},{"key":"team","value":"platform"}],` +
	`"resourceSet":["qcs::tke:ap-guangzhou:uin/100000000001:cluster/cls-8fk2l3mq",` +
	`"qcs::cvm:ap-guangzhou:uin/100000000001:instance/ins-1a2b3c4d",` +
	`"qcs::cvm:ap-guangzhou:uin/100000000001:instance/ins-5e6f7a8b"],` +
	`"apiErrorCode":"","apiErrorMessage":"","location":"ap-guangzhou-3","sensitiveAction":true,` +
	`"note":"` + strings.Repeat("padding to reach a realistic record size ", 8) + `"}`))

func BenchmarkDecodeStructured(b *testing.B) {
	if len(auditEvent) < 1800 || len(auditEvent) > 2300 {
		b.Fatalf("benchmark event is %d bytes, want about 2 KB", len(auditEvent))
	}
	if _, err := DecodeStructured(auditEvent); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(auditEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeStructured(auditEvent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckJSONData is the cost the data limits add to every event
// with JSON data, to compare with BenchmarkDecodeStructured.
func BenchmarkCheckJSONData(b *testing.B) {
	e, err := DecodeStructured(auditEvent)
	if err != nil {
		b.Fatal(err)
	}
	data := e.Data()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := checkJSONData("data", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBatch is DecodeBatch of a batch of 100 of the 2 KB
// events, as POST /v1/events takes them; ns/event is the figure to
// compare.
func BenchmarkDecodeBatch(b *testing.B) {
	body := []byte("[" + strings.TrimSuffix(strings.Repeat(string(auditEvent)+",", 100), ",") + "]")
	if evs, err := DecodeBatch(body); err != nil || len(evs) != 100 {
		b.Fatalf("%d events, %v", len(evs), err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/event")
}
