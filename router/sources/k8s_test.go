package sources

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// k8sGolden lists every input in testdata/k8s with the query parameters
// it is posted with.
var k8sGolden = []struct {
	file, cluster, product string
}{
	{"eventlist_stages.input.json", "prod-1", ""},
	{"secret_create.input.json", "prod-1", "tke"},
	{"tokens.input.json", "prod-1", ""},
	{"acp_login.input.json", "", "acp"},  // names its cluster: global
	{"hss.input.json", "ignored", "cce"}, // cluster_name wins over ?cluster=
	{"hss_seed.input.json", "", "cce"},   // content is a log line, not JSON
	// Each record's cluster_type names its product (tke, eks); a
	// self-built cluster keeps ?product=. host_name 42 is read as "42".
	{"hss_mixed.input.json", "", "onprem"},
	{"ndjson.input.ndjson", "audit-log", ""}, // kube-apiserver's log backend
}

func TestK8sAuditGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/k8s/*.input.*")
	if len(inputs) != len(k8sGolden) {
		t.Fatalf("%d inputs in testdata/k8s, %d in k8sGolden", len(inputs), len(k8sGolden))
	}
	for _, tt := range k8sGolden {
		t.Run(tt.file, func(t *testing.T) {
			in := filepath.Join("testdata/k8s", tt.file)
			events, err := K8sAudit(readFile(t, in), tt.cluster, tt.product, NewRedactor(DefaultRedactKeys))
			if err != nil {
				t.Fatal(err)
			}
			checkEvents(t, events)
			checkGolden(t, goldenPath(in), events)
		})
	}
}

// TestK8sAuditSecretsRedacted checks every credential the inputs carry:
// Secret data, TokenReview spec.token, TokenRequest status.token, ACP's
// login tokens, and a Secret inside an HSS content string.
func TestK8sAuditSecretsRedacted(t *testing.T) {
	secrets := map[string][]string{
		"secret_create.input.json": {"czNjcjN0", "YXBw", "s3cr3t", "cG9zdGdyZXM6"},
		"tokens.input.json":        {"eyJhbGciOiJSUzI1NiIsImtpZCI6IkRrZjQifQ", "eyJhbGciOiJSUzI1NiJ9"},
		"acp_login.input.json":     {"eyJhbGciOiJSUzI1NiIsImtpZCI6ImU4N2QzY2I5", "CjNvbnhyd280cXRqa2w2"},
		"hss.input.json":           {"abc123"},
	}
	for file, values := range secrets {
		body := readFile(t, filepath.Join("testdata/k8s", file))
		events, err := K8sAudit(body, "c", "", NewRedactor(DefaultRedactKeys))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if !strings.Contains(string(body), v) {
				t.Fatalf("%s: test value %q is not in the input", file, v)
			}
			for i, e := range events {
				if strings.Contains(string(e.Data()), v) {
					t.Errorf("%s event %d: %q reached data", file, i, v)
				}
			}
		}
	}
}

func TestK8sAuditACPLoginTokens(t *testing.T) {
	events, err := K8sAudit(readFile(t, "testdata/k8s/acp_login.input.json"), "", "", NewRedactor(DefaultRedactKeys))
	if err != nil {
		t.Fatal(err)
	}
	data := string(events[0].Data())
	for _, key := range []string{"Access_token", "Id_token", "Refresh_token"} {
		if !strings.Contains(data, fmt.Sprintf("%q:%q", key, Redacted)) {
			t.Errorf("%s not redacted: %s", key, data)
		}
	}
}

func TestK8sAuditIDs(t *testing.T) {
	body := readFile(t, "testdata/k8s/eventlist_stages.input.json")
	first, err := K8sAudit(body, "prod-1", "", NewRedactor(DefaultRedactKeys))
	if err != nil {
		t.Fatal(err)
	}
	again, err := K8sAudit(body, "prod-1", "", NewRedactor(DefaultRedactKeys))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || len(again) != 2 {
		t.Fatalf("%d and %d events, want 2 (RequestReceived, ResponseComplete)", len(first), len(again))
	}
	for i := range first {
		if first[i].ID() != again[i].ID() || first[i].Source() != again[i].Source() {
			t.Errorf("event %d: %s/%s, then %s/%s", i, first[i].Source(), first[i].ID(), again[i].Source(), again[i].ID())
		}
	}
	if first[0].ID() == first[1].ID() {
		t.Errorf("both stages have id %s", first[0].ID())
	}
}

func TestK8sAuditMapping(t *testing.T) {
	tests := []struct {
		name, event, attr, want string
	}{
		{"core group path", `"objectRef":{"resource":"pods","namespace":"a","name":"p","apiVersion":"v1","subresource":"log"}`,
			"subject", "/api/v1/namespaces/a/pods/p/log"},
		{"cluster-scoped path", `"objectRef":{"resource":"clusterroles","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1","name":"admin"}`,
			"subject", "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin"},
		{"subresource type", `"objectRef":{"resource":"pods","subresource":"exec"}`, ExtResourceType, "pods/exec"},
		{"non-resource request", `"requestURI":"/metrics?x=1"`, "subject", "/metrics"},
		{"no status, no outcome", `"stage":"RequestReceived"`, ExtOutcome, ""},
		{"status without code", `"responseStatus":{"status":"Failure"}`, ExtOutcome, OutcomeFailure},
		{"redirect succeeds", `"responseStatus":{"code":302}`, ExtOutcome, OutcomeSuccess},
		{"namespace object path", `"objectRef":{"resource":"namespaces","namespace":"payments","name":"payments","apiVersion":"v1"}`,
			"subject", "/api/v1/namespaces/payments"},
		{"requestReceived time", `"requestReceivedTimestamp":"2024-01-02T03:04:05.5+08:00"`, "time", "2024-01-01T19:04:05.5Z"},
		{"record names its cluster", `"Cluster":"east"`, "cluster", "east"},
		{"query cluster otherwise", `"verb":"get"`, "cluster", "q"},
		{"impersonation", `"impersonatedUser":{"username":"root"}`, "impersonateduser", "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"auditID":"a1",%s}`, tt.event)
			events, err := K8sAudit([]byte(body), "q", "", NewRedactor(DefaultRedactKeys))
			if err != nil {
				t.Fatal(err)
			}
			if got := attribute(events[0], tt.attr); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.attr, got, tt.want)
			}
		})
	}
}

// TestK8sIDs: stages stay apart and retries dedup, but a client choosing
// its Audit-ID cannot make a different event (or cluster) collide.
func TestK8sIDs(t *testing.T) {
	id := func(body, cluster string) string {
		t.Helper()
		events, err := K8sAudit([]byte(body), cluster, "", NewRedactor(DefaultRedactKeys))
		if err != nil {
			t.Fatal(err)
		}
		return events[0].ID()
	}
	get := `{"auditID":"chosen-1","stage":"ResponseComplete","verb":"get"}`
	base := id(get, "prod")
	if !regexp.MustCompile(`^chosen-1-ResponseComplete-[0-9a-f]{16}$`).MatchString(base) {
		t.Fatalf("id %q is not <auditID>-<stage>-<digest>", base)
	}
	if again := id("{\n  \"auditID\": \"chosen-1\", \"stage\": \"ResponseComplete\", \"verb\": \"get\"\n}", "prod"); again != base {
		t.Errorf("re-posted (re-indented) event got id %q, want %q", again, base)
	}
	for name, other := range map[string]string{
		"another verb, same Audit-ID": id(`{"auditID":"chosen-1","stage":"ResponseComplete","verb":"delete"}`, "prod"),
		"another cluster":             id(get, "staging"),
		"another stage":               id(`{"auditID":"chosen-1","stage":"RequestReceived","verb":"get"}`, "prod"),
	} {
		if other == base {
			t.Errorf("%s: id %q collides with the first event's", name, other)
		}
	}
	if noStage := id(`{"auditID":"a1","verb":"get"}`, "prod"); !regexp.MustCompile(`^a1-[0-9a-f]{16}$`).MatchString(noStage) {
		t.Errorf("id without stage = %q", noStage)
	}
}

func TestK8sAuditErrors(t *testing.T) {
	good := `{"auditID":"a1","stage":"ResponseComplete","verb":"get"}`
	tests := []struct {
		name, body, cluster string
		kind                error
		index               int
		msg                 string
	}{
		{"missing auditID", `{"kind":"EventList","items":[` + good + `,{"stage":"ResponseComplete","verb":"get"}]}`, "c",
			ingest.ErrMissingAttribute, 1, "auditID"},
		{"bad item in a batch", `[` + good + `,` + good + `,{"auditID":"a3","stageTimestamp":"yesterday"}]`, "c",
			ingest.ErrInvalidAttribute, 2, "stageTimestamp"},
		{"no cluster", good, "", ingest.ErrMissingAttribute, 0, "cluster"},
		{"HSS content without auditID", `{"data_list":[{"cluster_name":"c","content":"{\"verb\":\"get\"}"}]}`, "",
			ingest.ErrMissingAttribute, 0, "auditID"},
		{"index counts across lists", `{"items":[` + good + `]}` + "\n" + `{"Items":[` + good + `,{"auditID":"x","user":"bob"}]}`, "c",
			ingest.ErrMalformed, 2, "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := K8sAudit([]byte(tt.body), tt.cluster, "", NewRedactor(DefaultRedactKeys))
			checkBatchError(t, events, err, tt.kind, tt.index, tt.msg)
		})
	}
}

func TestK8sAuditRequestErrors(t *testing.T) {
	for _, tt := range []struct{ name, body, product string }{
		{"bad product", `{"auditID":"a"}`, "TKE cluster"},
		{"items not an array", `{"kind":"EventList","items":{"auditID":"a"}}`, ""},
		{"empty body", ` `, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := K8sAudit([]byte(tt.body), "c", tt.product, NewRedactor(DefaultRedactKeys))
			if _, ok := err.(*ingest.Error); !ok {
				t.Errorf("want an *ingest.Error, got %T %v", err, err)
			}
		})
	}
}

func FuzzK8sAudit(f *testing.F) {
	for _, tt := range k8sGolden {
		f.Add(readFile(f, filepath.Join("testdata/k8s", tt.file)), tt.cluster, tt.product)
	}
	f.Add([]byte(`{"auditID":"a","stage":"S","objectRef":{"resource":"r","name":"n"},"responseStatus":{"code":101},"stageTimestamp":"0001-01-01T00:00:00Z"}`), "c", "p")
	f.Add([]byte(`{"data_list":[{"cluster_id":"i","time":"1","content":"{\"AuditID\":\"a\",\"Verb\":\"get\"}"}]}`), "", "")
	r := NewRedactor(DefaultRedactKeys)
	f.Fuzz(func(t *testing.T, body []byte, cluster, product string) {
		events, err := K8sAudit(body, cluster, product, r)
		checkFuzzResult(t, events, err)
	})
}

func BenchmarkK8sAudit(b *testing.B) {
	body := readFile(b, "testdata/k8s/secret_create.input.json")
	item := string(body[strings.Index(string(body), `"items": [`)+len(`"items": [`) : strings.LastIndex(string(body), "]")])
	items := make([]string, 50)
	for i := range items {
		items[i] = strings.ReplaceAll(item, "c2d4e6f8", fmt.Sprintf("%08x", i))
	}
	list := []byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + strings.Join(items, ",") + `]}`)
	benchmarkRecords(b, 100, func() ([]event.Event, error) { return K8sAudit(list, "prod-1", "", NewRedactor(DefaultRedactKeys)) })
}
