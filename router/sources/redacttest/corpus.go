package redacttest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed testdata/corpus.json
var corpusJSON []byte

// Placement is one place a secret hides in a record.
type Placement struct {
	Name string `json:"name"`
	// Fields are the request body (or object) that carries the secrets.
	Fields map[string]any `json:"fields"`
	// Secrets must appear nowhere once stored.
	Secrets []string `json:"secrets"`
	// Keep are ordinary values (and key names) that must survive.
	Keep []string `json:"keep"`
}

// Corpus returns the placements of testdata/corpus.json.
func Corpus() ([]Placement, error) {
	var c struct {
		Placements []Placement `json:"placements"`
	}
	if err := json.Unmarshal(corpusJSON, &c); err != nil {
		return nil, fmt.Errorf("redaction corpus: %w", err)
	}
	return c.Placements, nil
}

// Leaks returns the planted secrets of p that blob contains.
func (p Placement) Leaks(blob []byte) []string {
	var found []string
	for _, s := range p.Secrets {
		if strings.Contains(string(blob), s) {
			found = append(found, s)
		}
	}
	return found
}

// Lost returns the values of p.Keep that blob lacks.
func (p Placement) Lost(blob []byte) []string {
	var lost []string
	for _, s := range p.Keep {
		if !strings.Contains(string(blob), s) {
			lost = append(lost, s)
		}
	}
	return lost
}

// Principal is who every wrapped record says acted, for rules to match.
const Principal = "alice"

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // Fields came from JSON: they always encode
	}
	return string(b)
}

// CloudAudit is a Tencent CloudAudit record whose requestParameters, a
// JSON document in a string as Tencent writes it, are p's fields.
func (p Placement) CloudAudit(i int) string {
	return mustJSON(map[string]any{
		"userIdentity": map[string]any{"type": "CAMUser", "principalId": Principal, "accountId": "100000000001"},
		"eventTime":    1615430559 + i, "eventSource": "cvm.tencentcloudapi.com", "eventName": "RunInstances",
		"eventType": "ApiCall", "errorCode": 0, "requestID": fmt.Sprintf("req-%02d-%s", i, p.Name),
		"resourceType": "cvm", "resourceName": "ins-corpus", "sourceIPAddress": "203.0.113.7", "eventRegion": "ap-guangzhou",
		"requestParameters": mustJSON(p.Fields),
	})
}

// CTS is a Huawei CTS trace whose request, a JSON string as CTS records
// it, holds p's fields.
func (p Placement) CTS(i int) string {
	return mustJSON(map[string]any{
		"trace_id": fmt.Sprintf("tr-%02d-%s", i, p.Name), "trace_name": "createServer", "trace_type": "ApiCall",
		"service_type": "ECS", "resource_type": "ecs", "resource_name": "ecs-corpus", "user": map[string]any{"name": Principal},
		"source_ip": "203.0.113.7", "code": "200", "time": 1615430559146 + i, "request": mustJSON(p.Fields),
	})
}

// K8s is a Kubernetes audit event whose requestObject is p's fields.
func (p Placement) K8s(i int) string {
	return mustJSON(map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
		"auditID": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "stage": "ResponseComplete",
		"requestURI": "/api/v1/namespaces/default/pods", "verb": "create", "user": map[string]any{"username": Principal},
		"sourceIPs": []string{"203.0.113.7"}, "responseStatus": map[string]any{"code": 201},
		"objectRef":     map[string]any{"resource": "pods", "namespace": "default", "name": "corpus", "apiVersion": "v1"},
		"requestObject": p.Fields, "requestReceivedTimestamp": "2021-03-11T02:42:39.000000Z", "stageTimestamp": "2021-03-11T02:42:39.100000Z",
	})
}

// Event is a structured CloudEvent whose data is p's fields, for
// /v1/events.
func (p Placement) Event(i int) string {
	return mustJSON(map[string]any{
		"specversion": "1.0", "id": fmt.Sprintf("ev-%02d-%s", i, p.Name), "source": "app.corpus", "type": "corpus.created",
		"principal": Principal, "datacontenttype": "application/json", "data": p.Fields,
	})
}
