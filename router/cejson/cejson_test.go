package cejson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

func newEvent(ct string, data []byte, base64 bool) *event.Event {
	e := event.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("t")
	e.SetExtension("region", "ap-guangzhou")
	if ct != "" {
		e.SetDataContentType(ct)
	}
	e.DataEncoded, e.DataBase64 = data, base64
	return &e
}

func TestMarshalAndUnmarshal(t *testing.T) {
	tests := []struct {
		name, ct, data string
		base64         bool
		stored         string // the data member as stored
	}{
		{"vendor +json object is a JSON value", "application/vnd.audit+json", `{"k": [1, "v"]}`, false, `"data":{"k": [1, "v"]}`},
		{"+json with parameters", "application/problem+json; charset=utf-8", `[1,2]`, false, `"data":[1,2]`},
		{"+json number", "application/vnd.x+json", `42`, false, `"data":42`},
		{"+json white space around the value", "application/vnd.x+json", "{\"a\":1}\n", false, `"data":{"a":1}}`},
		{"+json boolean", "application/vnd.x+json", `true`, false, `"data":true`},
		{"+json string stays base64", "application/vnd.x+json", `"abc"`, true, `"data_base64":"ImFiYyI="`},
		{"+json null stays base64", "application/vnd.x+json", `null`, true, `"data_base64":"bnVsbA=="`},
		{"application/json is sdk-go's", "application/json", `{"a":1}`, false, `"data":{"a":1}`},
		{"text is a string", "text/plain", `{"a":1}`, false, `"data":"{\"a\":1}"`},
		{"binary is base64", "application/octet-stream", "\x00\x01", true, `"data_base64":"AAE="`},
		{"cloudevents+json is sdk-go's", "application/cloudevents+json", `{"a":1}`, false, `"data":{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newEvent(tt.ct, []byte(tt.data), tt.base64)
			b, err := Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(b) || !strings.Contains(string(b), tt.stored) {
				t.Fatalf("stored %s, want it to hold %s", b, tt.stored)
			}
			var out event.Event
			if err := Unmarshal(b, &out); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if !bytes.Equal(out.DataEncoded, bytes.TrimRight(in.DataEncoded, "\n")) || out.DataBase64 != in.DataBase64 ||
				out.DataContentType() != tt.ct || out.Extensions()["region"] != "ap-guangzhou" || out.ID() != "1" {
				t.Errorf("read back data %q base64 %v ct %q ext %v, want %q %v %q", out.DataEncoded, out.DataBase64,
					out.DataContentType(), out.Extensions(), in.DataEncoded, in.DataBase64, tt.ct)
			}
		})
	}
}

// TestReadsWhatSDKGoWrote: events stored before this package, with +json
// data as data_base64, read back unchanged.
func TestReadsWhatSDKGoWrote(t *testing.T) {
	in := newEvent("application/vnd.audit+json", []byte(`{"k":"v"}`), true)
	var b bytes.Buffer
	if err := event.WriteJson(in, &b); err != nil {
		t.Fatal(err)
	}
	var out event.Event
	if err := Unmarshal(b.Bytes(), &out); err != nil || string(out.Data()) != `{"k":"v"}` || !out.DataBase64 {
		t.Errorf("read %q base64 %v, %v", out.Data(), out.DataBase64, err)
	}
}

func TestUnmarshalKeepsSDKErrors(t *testing.T) {
	for _, doc := range []string{
		`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/plain","data":{"a":1}}`,
		`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/vnd.x+json","data":{"a":1},"time":5}`,
		`[1]`,
	} {
		var e event.Event
		err := Unmarshal([]byte(doc), &e)
		sdkErr := new(event.Event).UnmarshalJSON([]byte(doc))
		if err == nil || sdkErr == nil || err.Error() != sdkErr.Error() {
			t.Errorf("%s: error %v, want sdk-go's %v", doc, err, sdkErr)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("application/vnd.audit+json", []byte(`{"a":[1,{"b":null}]}`), false)
	f.Add("application/json", []byte(`"x"`), false)
	f.Add("application/x+json;v=1", []byte(` 1e3`), false)
	f.Add("text/plain", []byte("hi"), false)
	f.Fuzz(func(t *testing.T, ct string, data []byte, base64 bool) {
		e := newEvent("", data, base64)
		e.SetDataContentType(ct)
		b, err := Marshal(e)
		if err != nil {
			return
		}
		var out event.Event
		sdkErr := new(event.Event).UnmarshalJSON(b)
		if err := Unmarshal(b, &out); err != nil {
			if sdkErr == nil {
				t.Fatalf("sdk-go reads %s, Unmarshal does not: %v", b, err)
			}
			return
		}
		if asJSONValue(e) && !bytes.Equal(out.DataEncoded, bytes.TrimSpace(e.DataEncoded)) {
			t.Fatalf("data %q read back as %q from %s", e.DataEncoded, out.DataEncoded, b)
		}
	})
}
