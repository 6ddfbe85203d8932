package index_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// exampleEvents is every event the repository holds as an example: the
// examples, the sources' golden outputs and the index's test events,
// each as written there and as auditbus stores it (cejson.Marshal).
func exampleEvents(t testing.TB) (docs [][]byte, stored [][]byte) {
	t.Helper()
	files, _ := filepath.Glob("../../examples/events/*.json")
	golden, _ := filepath.Glob("../sources/testdata/*/*.golden.json")
	if len(files) == 0 || len(golden) == 0 {
		t.Fatal("no example events or golden files found")
	}
	var evs []event.Event
	for _, f := range append(files, golden...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var raws []json.RawMessage
		if b = []byte(strings.TrimSpace(string(b))); b[0] == '[' {
			if err := json.Unmarshal(b, &raws); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		} else {
			raws = []json.RawMessage{b}
		}
		for _, r := range raws {
			docs = append(docs, r)
			var e event.Event
			if err := cejson.Unmarshal(r, &e); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			evs = append(evs, e)
		}
	}
	evs = append(evs, indextest.Events(t, 300, time.Unix(1_700_000_000, 0))...)
	for _, k := range indextest.K8sEvents(t, 60, time.Unix(1_700_000_000, 0)) {
		evs = append(evs, k.Event)
	}
	for i := range evs {
		b, err := cejson.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, b)
	}
	return docs, stored
}

// sameRecord fails t unless the extraction gives for data what the
// reference gives, record and error alike.
func sameRecord(t *testing.T, data []byte) {
	t.Helper()
	stored := time.Unix(1_600_000_000, 0)
	got, err := index.FromEvent(9, "default", data, stored)
	want, werr := index.RefFromEvent(9, "default", data, stored)
	if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
		t.Fatalf("%s\nerror %v, reference %v", data, err, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s\nrecord    %+v\nreference %+v", data, got, want)
	}
}

// TestExtractMatchesReference: on every example event, as written and
// as stored, the one-pass extraction gives the record the decoding one
// gave; every stored one takes the one pass.
func TestExtractMatchesReference(t *testing.T) {
	docs, stored := exampleEvents(t)
	for _, d := range docs {
		sameRecord(t, d)
	}
	for _, d := range stored {
		if !index.Plain(d) {
			t.Errorf("stored event not read in one pass: %s", d)
		}
		sameRecord(t, d)
	}
}

// extractSeeds are events whose reading departs from the plain one:
// the cases the one pass hands to sdk-go or must read as encoding/json
// would.
var extractSeeds = []string{
	`{"specversion":"1.0","id":"1","source":"s","type":"tke:CloudEvent:ApiCall","principal":"alice","data":{"requestID":"r"}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"x","datacontenttype":"application/json","data":{"objectRef":{"uid":3}}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","data": {"resourceId":"a"} }`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","":"x","principal":"p"}`,
	`{"id":"1","specversion":"1.0","source":"s","type":"t","data":{"eventName":"E"}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"eventName":5,"RESOURCE_ID":"r","ResourceId":"q"}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":"{\"requestID\":\"x\"}"}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/vnd.x+json","data":{"eventName":"E"}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"e30="}`,
	`{"specversion":"1.0","id":"1","source":"a b","type":"t","time":"2024-01-02T03:04:05.6+08:00","Principal":"P","data":null}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","time":"yesterday"}`,
	`{"specversion":"1.0","id":"\u0061","source":"s","type":"t","kind":"K8sAudit","num":5,"data":{"user":{"username":"system:x"}}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"cce:K8sAudit:get","data":{"cluster_id":"c","content":"{\"verb\":\"get\",\"sourceIPs\":[5],\"objectRef\":{\"resource\":\"pods\",\"subresource\":\"exec\",\"name\":\"n\"},\"responseStatus\":{\"code\":403}}","sourceIPs":["1.2.3.4"],"user":null}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"cce:K8sAudit:get","data":{"objectRef":"x","responseStatus":{"code":1e2,"status":"Failure"},"ſourceIPs":[],"USER":{"UserName":"u"},"Verb":"\u00e9"}}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"cce:K8sAudit:get","data":{"content":" {\"cluster_name\":\"n\"","cluster":"c","content":null}}`,
	`{"specversion":"1.0","specversion":"1.0","id":"1","source":"s","type":"t"}`,
	`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{},"data":{"requestID":"r"}}`,
}

// FuzzExtract: on any stored message, the one-pass extraction gives the
// reference's record or error.
func FuzzExtract(f *testing.F) {
	for _, s := range extractSeeds {
		f.Add([]byte(s))
	}
	docs, stored := exampleEvents(f)
	for _, d := range append(docs, stored[:20]...) {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameRecord(t, data) })
}

// FuzzExtractData: on any data of a Kubernetes audit event stored as
// auditbus stores it, the one-pass extraction gives the reference's
// record.
func FuzzExtractData(f *testing.F) {
	for _, s := range extractSeeds {
		if i := strings.Index(s, `"data":`); i >= 0 {
			f.Add([]byte(s[i+len(`"data":`) : len(s)-1]))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameRecord(t, append([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"cce:K8sAudit:get","data":`), append(data, '}')...))
	})
}

// FuzzValidJSON: the extraction's validity check agrees with
// encoding/json's.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{}`, ` [1, -0.5e+3, "a\u00e9\n", true, null] `, `{"a":01}`, `"\x"`, `[1,]`, `{"a" 1}`, "\"\x01\"", strings.Repeat("[", 10001) + strings.Repeat("]", 10001)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := index.ValidJSON(b), json.Valid(b); got != want {
			t.Fatalf("%q: validJSON %v, json.Valid %v", b, got, want)
		}
	})
}
