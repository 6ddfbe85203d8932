package sources

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// checkEvents applies to every accepted event what the bus requires.
func checkEvents(t *testing.T, events []event.Event) {
	t.Helper()
	for i := range events {
		if err := ingest.Validate(&events[i]); err != nil {
			t.Fatalf("event %d is invalid: %v", i, err)
		}
	}
}

// goldenPath names the expected events for an input: x.input.json -> x.golden.json.
func goldenPath(input string) string {
	return input[:strings.Index(input, ".input.")] + ".golden.json"
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCTSGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/cts/*.input.*")
	if len(inputs) == 0 {
		t.Fatal("no inputs in testdata/cts")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			events, err := CTS(readFile(t, in), NewRedactor(DefaultRedactKeys))
			if err != nil {
				t.Fatal(err)
			}
			checkEvents(t, events)
			checkGolden(t, goldenPath(in), events)
		})
	}
}

func TestCTSRedactsRequest(t *testing.T) {
	events, err := CTS(readFile(t, "testdata/cts/password_request.input.json"), NewRedactor(DefaultRedactKeys))
	if err != nil {
		t.Fatal(err)
	}
	data := string(events[0].Data())
	for _, secret := range []string{"P@ssw0rd!2024", "MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQEx"} {
		if strings.Contains(data, secret) {
			t.Errorf("secret %q reached data: %s", secret, data)
		}
	}
	if !strings.Contains(data, `\"password\":\"[REDACTED]\"`) {
		t.Errorf("password not marked redacted: %s", data)
	}
}

func TestCTSMapping(t *testing.T) {
	tests := []struct {
		name, trace, attr, want string
	}{
		{"code 302 succeeds", `"code":302`, ExtOutcome, OutcomeSuccess},
		{"code as string fails", `"code":"404"`, ExtOutcome, OutcomeFailure},
		{"code that is not a status", `"code":"VPC.0514"`, ExtOutcome, ""},
		{"no code", `"trace_rating":"incident"`, ExtOutcome, ""},
		{"console kind", `"trace_type":"ConsoleAction"`, "type", "ECS:CloudTrace:ConsoleAction"},
		{"system kind kept, not renamed", `"trace_type":"SystemAction"`, "type", "ECS:CloudTrace:SystemAction"},
		{"OBS kind kept", `"trace_type":"ObsSDK"`, "type", "ECS:CloudTrace:ObsSDK"},
		{"a kind CTS adds later passes", `"trace_type":"Batch"`, ExtKind, "Batch"},
		{"no kind is Others", `"code":200`, "type", "ECS:CloudTrace:Others"},
		{"source is HC.<SERVICE>", `"code":200`, "source", "HC.ECS"},
		{"kind extension", `"trace_type":"ApiCall"`, ExtKind, "ApiCall"},
		{"trace rating", `"trace_rating":"warning"`, ExtTraceRating, "warning"},
		{"api version", `"api_version":"v2.1"`, ExtAPIVersion, "v2.1"},
		{"code as a number", `"code":200`, ExtCode, "200"},
		{"code as a string", `"code":"VPC.0514"`, ExtCode, "VPC.0514"},
		{"principal falls back to user id", `"user":{"id":"u1"}`, ExtPrincipal, "u1"},
		{"subject by name", `"resource_type":"eip","resource_name":"1.2.3.4"`, "subject", "eip/1.2.3.4"},
		{"subject without a type", `"resource_id":"r-1"`, "subject", "r-1"},
		{"time from record_time", `"record_time":"1000"`, "time", "1970-01-01T00:00:01Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"trace_id":"t1","trace_name":"stopServer","service_type":"ecs",%s}`, tt.trace)
			events, err := CTS([]byte(body), NewRedactor(DefaultRedactKeys))
			if err != nil {
				t.Fatal(err)
			}
			if got := attribute(events[0], tt.attr); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.attr, got, tt.want)
			}
		})
	}
}

// attribute reads a context attribute or extension as a string.
func attribute(e event.Event, name string) string {
	switch name {
	case "id":
		return e.ID()
	case "source":
		return e.Source()
	case "type":
		return e.Type()
	case "subject":
		return e.Subject()
	case "time":
		if e.Time().IsZero() {
			return ""
		}
		return e.Time().Format("2006-01-02T15:04:05.999999999Z07:00")
	}
	v, _ := e.Extensions()[name].(string)
	return v
}

func TestCTSErrors(t *testing.T) {
	good := `{"trace_id":"t1","trace_name":"stopServer","service_type":"ECS"}`
	tests := []struct {
		name, body string
		kind       error
		index      int
		msg        string
	}{
		{"missing trace_id", `{"trace_name":"stopServer","service_type":"ECS"}`, ingest.ErrMissingAttribute, 0, "trace_id"},
		{"missing trace_name", `{"trace_id":"t","service_type":"ECS"}`, ingest.ErrMissingAttribute, 0, "trace_name"},
		{"missing service_type", `{"trace_id":"t","trace_name":"x"}`, ingest.ErrMissingAttribute, 0, "service_type"},
		{"bad item in a batch", `{"traces":[` + good + `,` + good + `,{"trace_id":"t3","trace_name":"x","service_type":"ECS","time":"yesterday"}]}`,
			ingest.ErrInvalidAttribute, 2, "time"},
		{"wrong field type", `[` + good + `,{"trace_id":"t2","trace_name":"x","service_type":"ECS","user":"bob"}]`, ingest.ErrMalformed, 1, "user"},
		{"not an object", `[` + good + `,42]`, ingest.ErrMalformed, 1, "object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := CTS([]byte(tt.body), NewRedactor(DefaultRedactKeys))
			checkBatchError(t, events, err, tt.kind, tt.index, tt.msg)
		})
	}
}

// checkBatchError asserts that a request was rejected whole, naming the
// bad record.
func checkBatchError(t *testing.T, events []event.Event, err error, kind error, index int, msg string) {
	t.Helper()
	if events != nil {
		t.Errorf("%d events returned with an error", len(events))
	}
	var be *BatchError
	if !errors.As(err, &be) || len(be.Errs) != 1 {
		t.Fatalf("want a *BatchError with one record, got %v", err)
	}
	if got := be.Errs[0]; got.Index != index || !errors.Is(got, kind) || !strings.Contains(got.Error(), msg) {
		t.Errorf("got %q (index %d, kind %v), want index %d, kind %v, mentioning %q", got, got.Index, got.Kind, index, kind, msg)
	}
}

func FuzzCTS(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/cts/*.input.*")
	for _, in := range inputs {
		f.Add(readFile(f, in))
	}
	f.Add([]byte(`{"trace_id":"t","trace_name":"n","service_type":"S","code":"200","time":253402300799999,"resource_type":"a","resource_id":"b"}`))
	r := NewRedactor(DefaultRedactKeys)
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := CTS(body, r)
		checkFuzzResult(t, events, err)
	})
}

// checkFuzzResult asserts that a source either rejects a body with one of
// the package's error types or returns events the bus accepts.
func checkFuzzResult(t *testing.T, events []event.Event, err error) {
	t.Helper()
	if err != nil {
		var ie *ingest.Error
		var be *BatchError
		if !errors.As(err, &ie) && !errors.As(err, &be) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if events != nil {
			t.Fatal("events returned with an error")
		}
		return
	}
	checkEvents(t, events)
}

func BenchmarkCTS(b *testing.B) {
	var traces []string
	trace := string(readFile(b, "testdata/cts/password_request.input.json"))
	for i := range 100 {
		traces = append(traces, strings.Replace(trace, "0b7f5c3e", fmt.Sprintf("%08x", i), 1))
	}
	body := []byte(`{"traces":[` + strings.Join(traces, ",") + `]}`)
	benchmarkRecords(b, 100, func() ([]event.Event, error) { return CTS(body, NewRedactor(DefaultRedactKeys)) })
}

func benchmarkRecords(b *testing.B, records int, convert func() ([]event.Event, error)) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		events, err := convert()
		if err != nil || len(events) != records {
			b.Fatalf("%d events, %v", len(events), err)
		}
		n += records
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// TestCTSTraceTypeMustBeAName: trace_type ends the type and is a subject
// token, so a value that would need rewriting is refused, naming it.
func TestCTSTraceTypeMustBeAName(t *testing.T) {
	for _, tt := range []string{"Console Action", "Api:Call", "ApiCall.", strings.Repeat("A", 65)} {
		body := fmt.Sprintf(`{"trace_id":"t","trace_name":"n","service_type":"ECS","trace_type":%q,"time":1615430559146}`, tt)
		_, err := CTS([]byte(body), NewRedactor(nil))
		if !errors.Is(err, ingest.ErrInvalidAttribute) || !strings.Contains(err.Error(), "trace_type") {
			t.Errorf("trace_type %q: err = %v, want ErrInvalidAttribute naming trace_type", tt, err)
		}
	}
}

func TestCTSServiceTypeMustBeAName(t *testing.T) {
	for _, st := range []string{"ECS.x", "ECS:CloudEvent:x", "a b"} {
		body := fmt.Sprintf(`{"trace_id":"t","trace_name":"n","service_type":%q,"time":1615430559146}`, st)
		if _, err := CTS([]byte(body), NewRedactor(nil)); !errors.Is(err, ingest.ErrInvalidAttribute) {
			t.Errorf("service_type %q: err = %v, want ErrInvalidAttribute", st, err)
		}
	}
}
