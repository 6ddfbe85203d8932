package ingest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// binaryRequest is a binary-mode request with the required attributes;
// set overrides or adds headers, an empty value deleting the header.
func binaryRequest(body string, set ...[2]string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
	r.Header.Set("ce-specversion", "1.0")
	r.Header.Set("ce-id", "id-1")
	r.Header.Set("ce-source", "/src")
	r.Header.Set("ce-type", "t.created")
	for _, kv := range set {
		if kv[1] == "" {
			r.Header.Del(kv[0])
		} else {
			r.Header.Set(kv[0], kv[1])
		}
	}
	return r
}

func decodeOne(t *testing.T, r *http.Request) eventView {
	t.Helper()
	events, err := Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1", len(events))
	}
	e := events[0]
	checkRoundTrip(t, e)
	return eventView{e.Subject(), e.DataContentType(), string(e.Data()), e.DataBase64, e.Extensions()}
}

type eventView struct {
	subject, contentType, data string
	base64                     bool
	extensions                 map[string]any
}

func TestDecodeBinary(t *testing.T) {
	tests := []struct {
		name string
		req  *http.Request
		want eventView
	}{
		{"json body", binaryRequest(`{"a": 1}`, [2]string{"Content-Type", "application/json"}),
			eventView{contentType: "application/json", data: `{"a": 1}`}},
		{"percent-decoded values", binaryRequest("", [2]string{"ce-subject", "a%20b%22%25%C3%A9"}, [2]string{"CE-Region", "ap%2Dguangzhou"}),
			eventView{subject: `a b"%é`, extensions: map[string]any{"region": "ap-guangzhou"}}},
		{"quoted-string unescaped", binaryRequest("", [2]string{"ce-subject", `"hello world"`}),
			eventView{subject: "hello world"}},
		{"quoted-pairs unescaped", binaryRequest("", [2]string{"ce-subject", `"say \"hi\" \\ bye"`}, [2]string{"ce-region", `"ap-guangzhou"`}),
			eventView{subject: `say "hi" \ bye`, extensions: map[string]any{"region": "ap-guangzhou"}}},
		{"unquoted, then percent-decoded once", binaryRequest("", [2]string{"ce-subject", `"a%20b%2522"`}),
			eventView{subject: "a b%22"}},
		{"quotes inside a value are not a quoted-string", binaryRequest("", [2]string{"ce-subject", `a"b"`}),
			eventView{subject: `a"b"`}},
		{"raw non-ascii kept", binaryRequest("", [2]string{"ce-subject", "réseau"}),
			eventView{subject: "réseau"}},
		{"no content type keeps bytes opaque", binaryRequest("\x00\xff"),
			eventView{data: "\x00\xff", base64: true}},
		{"text stays text", binaryRequest("hello", [2]string{"Content-Type", "text/plain; charset=utf-8"}),
			eventView{contentType: "text/plain; charset=utf-8", data: "hello"}},
		{"plus-json object is data", binaryRequest(`{"k":"v"}`, [2]string{"Content-Type", "application/vnd.audit+json"}),
			eventView{contentType: "application/vnd.audit+json", data: `{"k":"v"}`}},
		{"plus-json string kept as bytes", binaryRequest(`"k"`, [2]string{"Content-Type", "application/vnd.audit+json"}),
			eventView{contentType: "application/vnd.audit+json", data: `"k"`, base64: true}},
		{"empty body is no data", binaryRequest("", [2]string{"Content-Type", "application/json"}),
			eventView{contentType: "application/json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeOne(t, tc.req)
			if got.subject != tc.want.subject || got.contentType != tc.want.contentType || got.data != tc.want.data || got.base64 != tc.want.base64 {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			for k, v := range tc.want.extensions {
				if got.extensions[k] != v {
					t.Errorf("extension %s = %#v, want %#v", k, got.extensions[k], v)
				}
			}
		})
	}
}

func TestDecodeBinaryRejects(t *testing.T) {
	repeated := binaryRequest("")
	repeated.Header.Add("ce-subject", "one")
	repeated.Header.Add("ce-subject", "two")
	caseTwins := binaryRequest("")
	caseTwins.Header["ce-id"] = []string{"other"}
	twoContentTypes := binaryRequest("x")
	twoContentTypes.Header.Add("Content-Type", "text/plain")
	twoContentTypes.Header.Add("Content-Type", "text/html")

	tests := []struct {
		name     string
		req      *http.Request
		kind     error
		attr     string
		mentions []string
	}{
		{"bad escape", binaryRequest("", [2]string{"ce-subject", "100%zz"}), ErrMalformed, "subject", []string{"percent-encoding", "byte 3"}},
		{"truncated escape", binaryRequest("", [2]string{"ce-subject", "abc%4"}), ErrMalformed, "subject", []string{"two hex digits"}},
		{"invalid utf8 after decoding", binaryRequest("", [2]string{"ce-region", "%ff%fe"}), ErrMalformed, "region", []string{"UTF-8"}},
		{"quoted-string never closed", binaryRequest("", [2]string{"ce-subject", `"hello`}), ErrMalformed, "subject", []string{"never closed", "%22"}},
		{"escaped closing quote", binaryRequest("", [2]string{"ce-subject", `"hello\"`}), ErrMalformed, "subject", []string{"never closed"}},
		{"text after the quoted-string", binaryRequest("", [2]string{"ce-subject", `"a" b`}), ErrMalformed, "subject", []string{"after its closing double quote", "byte 2"}},
		{"control byte in a quoted-string", binaryRequest("", [2]string{"ce-subject", "\"a\x7fb\""}), ErrMalformed, "subject", []string{"0x7f"}},
		{"repeated header", repeated, ErrInvalidAttribute, "subject", []string{"repeated"}},
		{"same header in two cases", caseTwins, ErrInvalidAttribute, "id", []string{"repeated"}},
		{"ce-datacontenttype", binaryRequest("", [2]string{"ce-datacontenttype", "text/plain"}), ErrInvalidAttribute, "datacontenttype", []string{"Content-Type"}},
		{"ce-data", binaryRequest("", [2]string{"ce-data", "x"}), ErrInvalidAttribute, "data", []string{"body"}},
		{"dash in name", binaryRequest("", [2]string{"ce-foo-bar", "x"}), ErrInvalidAttribute, "foo-bar", []string{"'-'"}},
		{"underscore in name", binaryRequest("", [2]string{"ce-foo_bar", "x"}), ErrInvalidAttribute, "foo_bar", []string{"'_'"}},
		{"empty name", binaryRequest("", [2]string{"ce-", "x"}), ErrInvalidAttribute, "", []string{"empty attribute name"}},
		{"specversion 0.3", binaryRequest("", [2]string{"ce-specversion", "0.3"}), ErrInvalidAttribute, "specversion", []string{"only CloudEvents 1.0"}},
		{"missing id", binaryRequest("", [2]string{"ce-id", ""}), ErrMissingAttribute, "id", []string{"required"}},
		{"bad time", binaryRequest("", [2]string{"ce-time", "yesterday"}), ErrInvalidAttribute, "time", []string{`"yesterday"`, "RFC 3339"}},
		{"json content type, body not json", binaryRequest("{oops", [2]string{"Content-Type", "application/json"}), ErrMalformed, "", []string{"not valid UTF-8 JSON"}},
		{"bad content type", binaryRequest("x", [2]string{"Content-Type", "text/"}), ErrInvalidAttribute, "datacontenttype", []string{"media type"}},
		{"repeated content type", twoContentTypes, ErrInvalidAttribute, "datacontenttype", []string{"repeated"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, err := Decode(tc.req)
			wantError(t, err, tc.kind, tc.attr, -1, tc.mentions...)
			if events != nil {
				t.Errorf("rejected request returned %d events", len(events))
			}
		})
	}
}
