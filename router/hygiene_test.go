package router_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router"
)

// hygieneCase is one request that must be refused with a 400 naming what.
type hygieneCase struct {
	name, path, contentType, body string
	header                        http.Header
	code                          string
	mentions                      []string
}

// eventsCases puts value into attr of an event, in every mode of
// POST /v1/events; jsonValue is value as a JSON string, headerValue as a
// percent-encoded header (how the HTTP binding carries it).
func eventsCases(attr, jsonValue, headerValue string, mentions ...string) []hygieneCase {
	fields := map[string]string{"specversion": `"1.0"`, "id": `"h-1"`, "source": `"/src"`, "type": `"t.created"`}
	fields[attr] = jsonValue
	var members []string
	for _, k := range []string{"specversion", "id", "source", "type", attr} {
		if v, ok := fields[k]; ok {
			members = append(members, fmt.Sprintf("%q:%s", k, v))
			delete(fields, k)
		}
	}
	one := "{" + strings.Join(members, ",") + "}"
	header := http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"h-1"}, "Ce-Source": {"/src"}, "Ce-Type": {"t.created"}}
	header.Set("Ce-"+attr, headerValue)
	return []hygieneCase{
		{"events/binary/" + attr, "/v1/events", "", "", header, "AB.1003", mentions},
		{"events/structured/" + attr, "/v1/events", "application/cloudevents+json", one, nil, "AB.1003", mentions},
		{"events/batch/" + attr, "/v1/events", "application/cloudevents-batch+json", `[{"specversion":"1.0","id":"ok","source":"/s","type":"t"},` + one + "]", nil, "AB.1003", append([]string{"event 1"}, mentions...)},
	}
}

// sourceCase replaces old by new in a valid record of a source endpoint.
func sourceCase(name, path, record, old, new string, mentions ...string) hygieneCase {
	if !strings.Contains(record, old) {
		panic(name + ": " + old + " not in the record")
	}
	return hygieneCase{name, path, "application/json", strings.Replace(record, old, new, 1), nil, "AB.1003", append([]string{"record 0"}, mentions...)}
}

const k8sPath = "/v1/sources/k8s-audit?cluster=prod"

// TestControlCharactersRefusedEverywhere: a control character in any
// string attribute, on every endpoint and in every mode, is a 400 naming
// the attribute, and nothing is stored.
func TestControlCharactersRefusedEverywhere(t *testing.T) {
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(newWebhook(t, nil).URL)))
	var cases []hygieneCase
	for _, attr := range []string{"id", "type", "subject", "source", "time", "dataschema", "region"} {
		cases = append(cases, eventsCases(attr, `"a\u0000b"`, "a%00b", attr, "U+0000")...)
	}
	cases = append(cases, eventsCases("subject", `"a\nb"`, "a%0Ab", "subject", "U+000A")...)
	cases = append(cases, eventsCases("subject", `"a\u007fb"`, "a%7Fb", "subject", "U+007F")...)
	cases = append(cases, eventsCases("principal", `"a\u0085b"`, "a%C2%85b", "principal", "U+0085")...)
	k8s := k8sEvent("k-1", "ResponseComplete", 200)
	cases = append(cases,
		sourceCase("cloudaudit/id", "/v1/sources/cloudaudit", tencentDelete, `"req-tc-1"`, `"req\u0000"`, `"id"`, "U+0000"),
		sourceCase("cloudaudit/principal", "/v1/sources/cloudaudit", tencentDelete, `"alice"`, `"al\u001bice"`, `"principal"`, "U+001B"),
		sourceCase("cloudaudit/action", "/v1/sources/cloudaudit", tencentDelete, `"DeleteCluster"`, `"Delete\u0085"`, `"action"`, "U+0085"),
		sourceCase("cloudaudit/resourcename", "/v1/sources/cloudaudit", tencentDelete, `"cls-1"`, `"cls\n1"`, "U+000A"),
		sourceCase("cloudaudit/sourceip", "/v1/sources/cloudaudit", tencentDelete, `"203.0.113.7"`, `"203.0.113.7\r"`, `"sourceip"`, "U+000D"),
		sourceCase("cloudaudit/region", "/v1/sources/cloudaudit", tencentDelete, `"ap-guangzhou"`, `"ap\u007f"`, `"subject"`, "U+007F"), // the region is part of the subject
		sourceCase("cts/id", "/v1/sources/cts", ctsDelete, `"tr-1"`, `"tr\u0000"`, `"id"`, "U+0000"),
		sourceCase("cts/principal", "/v1/sources/cts", ctsDelete, `"alice"`, `"alice\t"`, `"principal"`, "U+0009"),
		sourceCase("cts/action", "/v1/sources/cts", ctsDelete, `"deleteCluster"`, `"delete\u009f"`, `"action"`, "U+009F"),
		sourceCase("cts/resourcename", "/v1/sources/cts", ctsDelete, `"c1"`, `"c\u00001"`, "U+0000"),
		sourceCase("cts/sourceip", "/v1/sources/cts", ctsDelete, `"203.0.113.7"`, `"203\u0000"`, `"sourceip"`, "U+0000"),
		sourceCase("k8s/id", k8sPath, k8s, `"k-1"`, `"k\u0000"`, `"id"`, "U+0000"),
		sourceCase("k8s/principal", k8sPath, k8s, `"alice"`, `"alice\u0000"`, `"principal"`, "U+0000"),
		sourceCase("k8s/resourcename", k8sPath, k8s, `"name":"p1"`, `"name":"p\n1"`, "U+000A"),
		sourceCase("k8s/sourceip", k8sPath, k8s, `"203.0.113.7"`, `"203.0.113.7\u0085"`, `"sourceip"`, "U+0085"),
	)
	runHygiene(t, s, cases)
}

// TestDeepDataRefusedEverywhere: data nested 10,000 deep, and just past
// the documented 100 levels, is a 400 on every endpoint; nothing is stored.
func TestDeepDataRefusedEverywhere(t *testing.T) {
	s := start(t, t.TempDir(), nil, writeRules(t, deleteRule(newWebhook(t, nil).URL)))
	var cases []hygieneCase
	for _, depth := range []int{10000, 101} {
		deep := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		n := fmt.Sprint(depth)
		event := `{"specversion":"1.0","id":"d-1","source":"/s","type":"t","data":` + deep + `}`
		cases = append(cases,
			hygieneCase{"events/binary/" + n, "/v1/events", "application/json", deep,
				http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"d-1"}, "Ce-Source": {"/s"}, "Ce-Type": {"t"}}, "AB.1003", []string{"deeper than 100"}},
			hygieneCase{"events/structured/" + n, "/v1/events", "application/cloudevents+json", event, nil, "AB.1003", []string{"deeper than 100"}},
			hygieneCase{"events/batch/" + n, "/v1/events", "application/cloudevents-batch+json", "[" + event + "]", nil, "AB.1003", []string{"event 0", "deeper than 100"}},
		)
		// Nested inside a source record one level down: data is the record.
		code, want := "AB.1003", []string{"record 0", "deeper than 100"}
		if depth > 1000 {
			// Reading the body stops at encoding/json's 10,000 levels first.
			code, want = "AB.1001", []string{"record 0", "max depth"}
		}
		cases = append(cases,
			hygieneCase{"cloudaudit/" + n, "/v1/sources/cloudaudit", "application/json", strings.Replace(tencentDelete, `"resourceType"`, `"deep":`+deep+`,"resourceType"`, 1), nil, code, want},
			hygieneCase{"cts/" + n, "/v1/sources/cts", "application/json", strings.Replace(ctsDelete, `"resource_type"`, `"deep":`+deep+`,"resource_type"`, 1), nil, code, want},
			hygieneCase{"k8s/" + n, k8sPath, "application/json", strings.Replace(k8sEvent("k-1", "ResponseComplete", 200), `"verb"`, `"requestObject":`+deep+`,"verb"`, 1), nil, code, want},
		)
	}
	cases = append(cases,
		hygieneCase{"events/huge number", "/v1/events", "application/cloudevents+json", `{"specversion":"1.0","id":"n-1","source":"/s","type":"t","data":{"n":1e400}}`, nil, "AB.1003", []string{"64-bit float"}},
		hygieneCase{"cloudaudit/huge number", "/v1/sources/cloudaudit", "application/json", strings.Replace(tencentDelete, `"errorCode":0`, `"errorCode":0,"n":-1e999`, 1), nil, "AB.1003", []string{"record 0", "64-bit float"}},
	)
	runHygiene(t, s, cases)
}

func runHygiene(t *testing.T, s *router.Server, cases []hygieneCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, answer := call(t, s, http.MethodPost, tc.path, tc.contentType, []byte(tc.body), tc.header)
			if status != http.StatusBadRequest || answer["error_code"] != tc.code {
				t.Fatalf("answer %d %.300v, want 400 %s", status, answer, tc.code)
			}
			msg, _ := answer["error_msg"].(string)
			for _, m := range tc.mentions {
				if !strings.Contains(msg, m) {
					t.Errorf("error_msg %.300q does not mention %q", msg, m)
				}
			}
		})
	}
	if n := streamMsgs(t, s); n != 0 {
		t.Errorf("refused requests stored %d events", n)
	}
}
