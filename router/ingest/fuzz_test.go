package ingest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/cejson"
)

var fuzzSeeds = []string{
	`{"specversion":"1.0","id":"1","source":"/s","type":"t"}`,
	`{"specversion":"1.0","id":"1","source":"https://x.example/a?b=c#d","type":"t","subject":"s","time":"2024-05-01T12:00:00.123+08:00","dataschema":"https://x/s","ext":"v","n":-7,"b":false,"data":{"a":[1,2.5,null]}}`,
	`{"specversion":"1.0","id":"1","source":"urn:a:b","type":"t","datacontenttype":"text/plain","data":"hi\u0000\n"}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/vnd.x+json","data":{"k":"v"}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"AAEC/w=="}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","data":"{\"a\":1}","subject":null}`,
	`{"specversion":"0.3","id":"1","source":"s","type":"t"}`,
	`{"specversion":"1.0","id":"1","id":"2","source":"s","type":"t"}`,
	`[]`, `{}`, `null`, `"x"`,
}

// checkRoundTrip asserts that an accepted event survives what the bus does
// with it. cejson.Marshal, the bus's writer, must reproduce it byte for
// byte (but for white space around +json data);
// json.Marshal compacts JSON data and escapes HTML characters in it, so
// through json.Marshal (sdk-go's form, which cejson differs from only for
// +json data) the event must only come back the same after one such
// normalisation.
func checkRoundTrip(t *testing.T, e event.Event) {
	t.Helper()
	checkRouterReads(t, e)
	exact, err := cejson.Marshal(&e)
	if err != nil {
		t.Fatalf("accepted event does not write: %v", err)
	}
	again, err := DecodeStructured(exact)
	if err != nil {
		t.Fatalf("written event %s is rejected: %v", exact, err)
	}
	want := e.Data()
	if !e.DataBase64 && isJSONMediaType(e.DataMediaType()) {
		want = bytes.TrimSpace(want)
	}
	if !bytes.Equal(want, again.Data()) || e.DataBase64 != again.DataBase64 {
		t.Fatalf("round trip changed data: %q -> %q", e.Data(), again.Data())
	}
	var stored event.Event
	if err := cejson.Unmarshal(exact, &stored); err != nil || !bytes.Equal(stored.Data(), again.Data()) {
		t.Fatalf("the router reads %s as data %q (%v), ingest as %q", exact, stored.Data(), err, again.Data())
	}
	exact2, err := cejson.Marshal(&again)
	if err != nil || !bytes.Equal(exact, exact2) {
		t.Fatalf("round trip changed the event:\n%s\n%s (%v)", exact, exact2, err)
	}
	if !e.DataBase64 && isJSONMediaType(e.DataMediaType()) && !writtenAsJSON(e.DataMediaType()) {
		return // sdk-go's json.Marshal writes such data as a string of its text
	}
	first, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("accepted event does not marshal: %v", err)
	}
	decoded, err := DecodeStructured(first)
	if err != nil {
		t.Fatalf("marshalled event %s is rejected: %v", first, err)
	}
	second, err := json.Marshal(decoded)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("json.Marshal round trip changed the event:\n%s\n%s (%v)", first, second, err)
	}
}

func FuzzDecodeStructured(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeStructured(b)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v is %T, not *Error", err, err)
			}
			return
		}
		if err := Validate(&e); err != nil {
			t.Fatalf("accepted event fails Validate: %v", err)
		}
		checkRoundTrip(t, e)
	})
}

func FuzzDecodeBatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte("[" + s + "]"))
		f.Add([]byte("[" + s + "," + s + "]"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		events, err := DecodeBatch(b)
		if err != nil {
			if events != nil {
				t.Fatalf("rejected batch returned %d events", len(events))
			}
			return
		}
		for _, e := range events {
			checkRoundTrip(t, e)
		}
		all, err := json.Marshal(events)
		if err != nil {
			t.Fatalf("accepted batch does not marshal: %v", err)
		}
		again, err := DecodeBatch(all)
		if err != nil || len(again) != len(events) {
			t.Fatalf("marshalled batch %s: %d events, error %v", all, len(again), err)
		}
	})
}

// FuzzDecodeBinary fuzzes the header values (percent-encoded as the
// binding sends them, or quoted-strings as older senders do) and the body
// of a binary-mode request.
func FuzzDecodeBinary(f *testing.F) {
	f.Add("id-1", "t", "sub", "ap-guangzhou", "application/json", []byte(`{"a":[1,2.5e3,"x"]}`))
	f.Add("a%00b", "t", "", "", "text/plain", []byte("hi"))
	f.Add("1", "t", "s%C2%85", "r", "application/vnd.x+json", []byte(`[[[]]]`))
	f.Add("1", "t", "", "", "", []byte{0, 1, 2})
	f.Add(`"q\"1"`, "t", `"a b%20c"`, `"\r"`, "", []byte(nil))
	f.Fuzz(func(t *testing.T, id, typ, subject, region, ct string, body []byte) {
		r := binaryRequest(string(body), [2]string{"ce-id", id}, [2]string{"ce-type", typ},
			[2]string{"ce-subject", subject}, [2]string{"ce-region", region}, [2]string{"Content-Type", ct})
		events, err := Decode(r)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v is %T, not *Error", err, err)
			}
			return
		}
		checkRoundTrip(t, events[0])
	})
}
