package ingest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// controlValues are values holding one control character of each range
// the spec of the product refuses: C0, DEL and C1.
var controlValues = map[string]string{
	"NUL": "a\x00b", "newline": "a\nb", "tab": "a\tb", "ESC": "a\x1bb",
	"DEL": "a\x7fb", "C1 NEL": "a\u0085b", "C1 last": "a\u009fb",
}

// attributeValues are, per attribute, a valid value to put the control
// character into.
var attributeValues = map[string]string{
	"id": "id-1", "type": "t.created", "subject": "sub", "source": "/src",
	"dataschema": "https://x.example/s", "time": "2024-05-01T12:00:00Z",
	"region": "ap-guangzhou", // an extension
}

func TestControlCharactersRefused(t *testing.T) {
	for attr := range attributeValues {
		for what, bad := range controlValues {
			for _, mode := range []string{"binary", "structured", "batch"} {
				t.Run(fmt.Sprintf("%s/%s/%s", attr, what, mode), func(t *testing.T) {
					_, err := Decode(requestWith(mode, attr, bad))
					wantError(t, err, ErrInvalidAttribute, attr, indexOf(mode), "control character", fmt.Sprintf("%U", []rune(strings.Trim(bad, "ab"))[0]))
				})
			}
		}
	}
}

func indexOf(mode string) int {
	if mode == "batch" {
		return 1 // the bad event is the second of the batch
	}
	return -1
}

// requestWith builds a request of mode whose attr is value; in a batch,
// the first event is valid and the second carries the value.
func requestWith(mode, attr, value string) *http.Request {
	attrs := map[string]string{"specversion": "1.0", "id": "id-1", "source": "/src", "type": "t.created"}
	attrs[attr] = value
	if mode == "binary" {
		r := httptest.NewRequest(http.MethodPost, "/v1/events", nil)
		for k, v := range attrs {
			// The binding percent-encodes; a raw control byte in a header
			// never gets past net/http's client.
			r.Header.Set("ce-"+k, percentEncode(v))
		}
		return r
	}
	var fields []string
	for k, v := range attrs {
		fields = append(fields, strconv.Quote(k)+":"+jsonString(v))
	}
	one := "{" + strings.Join(fields, ",") + "}"
	body, ct := one, event.ApplicationCloudEventsJSON
	if mode == "batch" {
		body, ct = `[{"specversion":"1.0","id":"ok","source":"/src","type":"t"},`+one+"]", event.ApplicationCloudEventsBatchJSON
	}
	r := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
	r.Header.Set("Content-Type", ct)
	return r
}

func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// jsonString escapes every control character as \u00XX, the way a JSON
// encoder would send it.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if isControl(r) || r == '"' || r == '\\' {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestControlCharactersInDataAccepted(t *testing.T) {
	body := `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"log":"line 1\nline 2\u0000"}}`
	if _, err := DecodeStructured([]byte(body)); err != nil {
		t.Fatalf("escaped control characters inside data are data, not attributes: %v", err)
	}
}

func TestValidateRefusesControlInBuiltEvents(t *testing.T) {
	e := event.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("t")
	e.SetExtension("principal", "root\u0000")
	wantError(t, Validate(&e), ErrInvalidAttribute, "principal", -1, "U+0000")
}

func nested(depth int, leaf string) string {
	return strings.Repeat("[", depth) + leaf + strings.Repeat("]", depth)
}

func TestDataLimits(t *testing.T) {
	deep := nested(10000, "1")
	tests := []struct {
		name string
		req  *http.Request
		attr string
		kind error
		want []string
	}{
		{"structured 10,000 deep", structuredRequest(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":` + deep + `}`),
			"data", ErrInvalidAttribute, []string{"deeper than 100 levels"}},
		{"batch 10,000 deep", batchRequest(`[{"specversion":"1.0","id":"1","source":"/s","type":"t","data":` + deep + `}]`),
			"data", ErrInvalidAttribute, []string{"deeper than 100 levels"}},
		{"binary 10,000 deep", binaryRequest(deep, [2]string{"Content-Type", "application/json"}),
			"data", ErrInvalidAttribute, []string{"deeper than 100 levels"}},
		{"binary +json 10,000 deep", binaryRequest(deep, [2]string{"Content-Type", "application/vnd.x+json"}),
			"data", ErrInvalidAttribute, []string{"deeper than 100 levels"}},
		{"data_base64 +json 10,000 deep", structuredRequest(`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/x+json","data_base64":"` + base64.StdEncoding.EncodeToString([]byte(deep)) + `"}`),
			"data_base64", ErrInvalidAttribute, []string{"deeper than 100 levels"}},
		{"101 deep", structuredRequest(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":` + nested(101, "1") + `}`),
			"data", ErrInvalidAttribute, []string{"deeper than 100 levels"}},
		{"number out of float64 range", structuredRequest(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"n":1e400}}`),
			"data", ErrInvalidAttribute, []string{`"1e400"`, "64-bit float"}},
		{"long integer out of range", binaryRequest(`[`+strings.Repeat("9", 400)+`]`, [2]string{"Content-Type", "application/json"}),
			"data", ErrInvalidAttribute, []string{"64-bit float"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.req)
			idx := -1
			if strings.HasPrefix(tc.name, "batch") {
				idx = 0
			}
			wantError(t, err, tc.kind, tc.attr, idx, tc.want...)
		})
	}
}

func TestDataWithinLimitsAccepted(t *testing.T) {
	for _, data := range []string{
		nested(100, "1"),
		`{"s":"[[[[` + strings.Repeat("[", 200) + `\"]]"}`, // brackets inside strings do not nest
		`[1e308, -1.7976931348623157e308, 1e-400, 0.` + strings.Repeat("1", 400) + `, ` + strings.Repeat("9", 300) + `]`,
	} {
		e, err := DecodeStructured([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":` + data + `}`))
		if err != nil {
			t.Fatalf("data %.40s…: %v", data, err)
		}
		checkRoundTrip(t, e)
	}
	// Non-JSON data is opaque: its brackets mean nothing.
	e, err := DecodeStructured([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/plain","data":"` + nested(200, "1") + `"}`))
	if err != nil {
		t.Fatalf("text data: %v", err)
	}
	checkRoundTrip(t, e)
}

func structuredRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
	r.Header.Set("Content-Type", event.ApplicationCloudEventsJSON)
	return r
}

func batchRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
	r.Header.Set("Content-Type", event.ApplicationCloudEventsBatchJSON)
	return r
}
