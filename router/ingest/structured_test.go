package ingest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// ev builds a structured event: the four required attributes, then the
// given members (raw JSON, without braces).
func ev(members string) string {
	s := `{"specversion":"1.0","id":"id-1","source":"/src","type":"t.created"`
	if members != "" {
		s += "," + members
	}
	return s + "}"
}

var badStructured = []struct {
	name, body string
	kind       error
	attr       string
	mentions   []string
}{
	{"not json", `{"specversion":`, ErrMalformed, "", []string{"not valid JSON"}},
	{"syntax error", `{"specversion" "1.0"}`, ErrMalformed, "", []string{"not valid JSON at byte offset"}},
	{"empty body", ``, ErrMalformed, "", []string{"empty body"}},
	{"invalid utf8", ev(`"subject":"a` + "\xff" + `"`), ErrMalformed, "", []string{"UTF-8", "offset"}},
	{"top level array", `[` + ev("") + `]`, ErrMalformed, "", []string{"must be a JSON object, got a JSON array"}},
	{"top level string", `"event"`, ErrMalformed, "", []string{"got a JSON string"}},
	{"trailing data", ev("") + ` {}`, ErrMalformed, "", []string{"unexpected data after the JSON value"}},
	{"trailing garbage", ev("") + `x`, ErrMalformed, "", []string{"unexpected data after the JSON value"}},
	{"duplicate key", ev(`"id":"id-2"`), ErrMalformed, "id", []string{"appears twice"}},
	{"duplicate escaped key", ev(`"\u0069d":"id-2"`), ErrMalformed, "id", []string{"appears twice"}},
	{"missing specversion", `{"id":"1","source":"/s","type":"t"}`, ErrMissingAttribute, "specversion", []string{"required"}},
	{"specversion 0.3", `{"specversion":"0.3","id":"1","source":"/s","type":"t"}`, ErrInvalidAttribute, "specversion", []string{`"0.3"`, "only CloudEvents 1.0"}},
	{"specversion number", `{"specversion":1.0,"id":"1","source":"/s","type":"t"}`, ErrInvalidAttribute, "specversion", []string{"must be a JSON string, got a JSON number"}},
	{"missing id", `{"specversion":"1.0","source":"/s","type":"t"}`, ErrMissingAttribute, "id", []string{"required"}},
	{"empty id", `{"specversion":"1.0","id":"","source":"/s","type":"t"}`, ErrMissingAttribute, "id", []string{"empty"}},
	{"null id", `{"specversion":"1.0","id":null,"source":"/s","type":"t"}`, ErrMissingAttribute, "id", []string{"required"}},
	{"blank id", `{"specversion":"1.0","id":"  ","source":"/s","type":"t"}`, ErrInvalidAttribute, "id", []string{"blank"}},
	{"numeric id", `{"specversion":"1.0","id":7,"source":"/s","type":"t"}`, ErrInvalidAttribute, "id", []string{"must be a JSON string"}},
	{"missing source", `{"specversion":"1.0","id":"1","type":"t"}`, ErrMissingAttribute, "source", []string{"required"}},
	{"source with space", `{"specversion":"1.0","id":"1","source":"my source","type":"t"}`, ErrInvalidAttribute, "source", []string{`"my%20source"`, "percent-encode"}},
	{"source not a uri", `{"specversion":"1.0","id":"1","source":"http://[::1","type":"t"}`, ErrInvalidAttribute, "source", []string{"not a URI-reference"}},
	{"missing type", `{"specversion":"1.0","id":"1","source":"/s"}`, ErrMissingAttribute, "type", []string{"required"}},
	{"upper case name", ev(`"Region":"ap-guangzhou"`), ErrInvalidAttribute, "Region", []string{"'R'", "lowercase"}},
	{"underscore name", ev(`"resource_type":"x"`), ErrInvalidAttribute, "resource_type", []string{"'_'"}},
	{"empty name", ev(`"":"x"`), ErrInvalidAttribute, "", []string{"empty attribute name"}},
	{"extension object", ev(`"tags":{"a":"b"}`), ErrInvalidAttribute, "tags", []string{"JSON object", "string, boolean or integer"}},
	{"extension array", ev(`"resource":["a"]`), ErrInvalidAttribute, "resource", []string{"JSON array"}},
	{"extension float", ev(`"ratio":3.5`), ErrInvalidAttribute, "ratio", []string{"3.5", "integer"}},
	{"extension exponent", ev(`"n":1e3`), ErrInvalidAttribute, "n", []string{"1e3", "integer"}},
	{"extension beyond int32", ev(`"n":2147483648`), ErrInvalidAttribute, "n", []string{"2147483648", "32-bit"}},
	{"bad datacontenttype", ev(`"datacontenttype":"json"`), ErrInvalidAttribute, "datacontenttype", []string{`"json"`, "media type"}},
	{"empty datacontenttype", ev(`"datacontenttype":""`), ErrInvalidAttribute, "datacontenttype", []string{"empty"}},
	{"relative dataschema", ev(`"dataschema":"/schemas/1"`), ErrInvalidAttribute, "dataschema", []string{"absolute URI"}},
	{"empty subject", ev(`"subject":""`), ErrInvalidAttribute, "subject", []string{"empty"}},
	{"bad time", ev(`"time":"yesterday"`), ErrInvalidAttribute, "time", []string{`"yesterday"`, "RFC 3339"}},
	{"epoch ms time", ev(`"time":1615430559146`), ErrInvalidAttribute, "time", []string{"1615430559146", "/v1/sources/cloudaudit"}},
	{"time out of range", ev(`"time":"0000-01-01T00:00:00+01:00"`), ErrInvalidAttribute, "time", []string{"0000-9999"}},
	{"data and data_base64", ev(`"data":1,"data_base64":"AA=="`), ErrInvalidAttribute, "data_base64", []string{"both"}},
	{"bad base64", ev(`"data_base64":"not base64!"`), ErrMalformed, "data_base64", []string{"standard base64"}},
	{"base64 with line break", ev(`"data_base64":"AAAA\nAAAA"`), ErrMalformed, "data_base64", []string{"no line breaks"}},
	{"url-safe base64", ev(`"data_base64":"-_8="`), ErrMalformed, "data_base64", []string{"standard base64"}},
	{"base64 not a string", ev(`"data_base64":5`), ErrInvalidAttribute, "data_base64", []string{"JSON string"}},
	{"base64 declared JSON but not JSON", ev(`"datacontenttype":"application/json","data_base64":"aGVsbG8="`), ErrMalformed, "data_base64", []string{"declares JSON"}},
	{"text data not a string", ev(`"datacontenttype":"text/plain","data":{"a":1}`), ErrInvalidAttribute, "data", []string{`"text/plain"`, "must be a JSON string"}},
}

func TestDecodeStructuredRejects(t *testing.T) {
	var golden strings.Builder
	for _, tc := range badStructured {
		t.Run(tc.name, func(t *testing.T) {
			e, err := DecodeStructured([]byte(tc.body))
			wantError(t, err, tc.kind, tc.attr, -1, tc.mentions...)
			if e.Context != nil {
				t.Errorf("rejected input still produced an event: %v", e)
			}
			fmt.Fprintf(&golden, "%s: %v\n", tc.name, err)
		})
	}
	checkGolden(t, "structured_errors.golden", golden.String())
}

// checkGolden pins the exact wording of error messages, which clients see.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("messages differ from %s (run go test -update if intended):\n%s", path, got)
	}
}

func TestDecodeStructuredData(t *testing.T) {
	tests := []struct {
		name, members string
		data          string
		contentType   string
		base64        bool
	}{
		{"object without datacontenttype", `"data":{"a":1}`, `{"a":1}`, "application/json", false},
		{"json string stays a json string", `"data":"{\"a\":1}"`, `"{\"a\":1}"`, "application/json", false},
		{"json data kept byte for byte", `"datacontenttype":"application/json","data":[1, 2.50,  "x"]`, `[1, 2.50,  "x"]`, "application/json", false},
		{"text data is the string content", `"datacontenttype":"text/plain","data":"line\nnext"`, "line\nnext", "text/plain", false},
		{"plus-json object stays data", `"datacontenttype":"application/vnd.audit+json","data":{"k":"v"}`, `{"k":"v"}`, "application/vnd.audit+json", false},
		{"plus-json array with parameters", `"datacontenttype":"application/problem+json; charset=utf-8","data":[1,{"a":true}]`, `[1,{"a":true}]`, "application/problem+json; charset=utf-8", false},
		{"plus-json string kept as bytes", `"datacontenttype":"application/vnd.audit+json","data":"abc"`, `"abc"`, "application/vnd.audit+json", true},
		{"data_base64 decoded", `"data_base64":"AAEC/w=="`, "\x00\x01\x02\xff", "", true},
		{"null data is no data", `"data":null`, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := DecodeStructured([]byte(ev(tc.members)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(e.Data(), []byte(tc.data)) {
				t.Errorf("data = %q, want %q", e.Data(), tc.data)
			}
			if got := e.DataContentType(); got != tc.contentType {
				t.Errorf("datacontenttype = %q, want %q", got, tc.contentType)
			}
			if e.DataBase64 != tc.base64 {
				t.Errorf("DataBase64 = %v, want %v", e.DataBase64, tc.base64)
			}
			checkRoundTrip(t, e)
		})
	}
}

func TestDecodeStructuredAttributes(t *testing.T) {
	body := ev(`"subject":"qcs::tke:ap-guangzhou:uin/1:cluster/cls-1","time":"2024-05-01T20:00:00.5+08:00",` +
		`"dataschema":"https://schemas.example/audit","region":"ap-guangzhou","count":-3,"ok":true,` +
		`"averyveryverylongextensionname":"x","optionalext":null`)
	e, err := DecodeStructured([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"region": "ap-guangzhou", "count": int32(-3), "ok": true, "averyveryverylongextensionname": "x"}
	if got := e.Extensions(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("extensions = %#v, want %#v", got, want)
	}
	if e.ID() != "id-1" || e.Source() != "/src" || e.Type() != "t.created" || e.SpecVersion() != event.CloudEventsVersionV1 {
		t.Errorf("required attributes wrong: %v", e)
	}
	if e.Subject() != "qcs::tke:ap-guangzhou:uin/1:cluster/cls-1" || e.DataSchema() != "https://schemas.example/audit" {
		t.Errorf("optional attributes wrong: %v", e)
	}
	if got := e.Time().UTC().Format("2006-01-02T15:04:05.000Z07:00"); got != "2024-05-01T12:00:00.500Z" {
		t.Errorf("time = %s", got)
	}
	if e.Data() != nil || e.DataContentType() != "" {
		t.Errorf("event without data got data %q, datacontenttype %q", e.Data(), e.DataContentType())
	}
}

func TestDecodeBatch(t *testing.T) {
	events, err := DecodeBatch([]byte(`[` + ev(`"n":1`) + `, ` + ev(`"n":2`) + `]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Extensions()["n"] != int32(1) || events[1].Extensions()["n"] != int32(2) {
		t.Fatalf("events = %v", events)
	}
	empty, err := DecodeBatch([]byte(" [ ] "))
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("empty batch = %#v, %v; want empty non-nil slice", empty, err)
	}
}

func TestDecodeBatchRejects(t *testing.T) {
	good := ev("")
	tests := []struct {
		name, body string
		kind       error
		attr       string
		index      int
		mentions   []string
	}{
		{"object instead of array", good, ErrMalformed, "", -1, []string{"batch must be a JSON array", "JSON object"}},
		{"element not an object", `[` + good + `, 42]`, ErrMalformed, "", 1, []string{"event 1:", "must be a JSON object, got a JSON number"}},
		{"bad third element", `[` + good + `,` + good + `,` + ev(`"time":"yesterday"`) + `]`, ErrInvalidAttribute, "time", 2, []string{`event 2: attribute "time": "yesterday" is not an RFC 3339 timestamp`}},
		{"duplicate key in element", `[` + ev(`"type":"again"`) + `]`, ErrMalformed, "type", 0, []string{"appears twice"}},
		{"trailing comma", `[` + good + `,]`, ErrMalformed, "", 1, []string{"not valid JSON"}},
		{"unterminated", `[` + good, ErrMalformed, "", -1, []string{"not valid JSON"}},
		{"trailing data", `[]]`, ErrMalformed, "", -1, []string{"unexpected data after"}},
		{"invalid utf8", "[\"\xc3\x28\"]", ErrMalformed, "", -1, []string{"UTF-8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, err := DecodeBatch([]byte(tc.body))
			wantError(t, err, tc.kind, tc.attr, tc.index, tc.mentions...)
			if events != nil {
				t.Errorf("rejected batch returned %d events", len(events))
			}
		})
	}
}
