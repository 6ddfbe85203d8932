package index_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/index"
)

// typedEvent is the alternative to the one-pass reading that
// BenchmarkExtract measures: one encoding/json decode of the members the
// index reads, data kept raw, then one of the data's fields.
type typedEvent struct {
	SpecVersion, ID, Source, Type, Subject, Time, DataContentType string
	Kind, Principal, ResourceType, ResourceName, Outcome, Code    string
	SourceIP, Region, Cluster, TraceRating, Action                string
	HostID, HostName, HostIP                                      string
	Data                                                          json.RawMessage
}

type typedData struct {
	ResourceID     string `json:"resource_id"`
	RequestID      string `json:"request_id"`
	TCResource     string `json:"resourceId"`
	TCRequest      string `json:"requestID"`
	AuditID        string `json:"auditID"`
	EventName      string `json:"eventName"`
	ClusterID      string `json:"cluster_id"`
	ClusterName    string `json:"cluster_name"`
	Content        *string
	Verb           string
	User           *struct{ Username string }
	SourceIPs      []string
	ObjectRef      *struct{ UID, Resource, Subresource, Name string }
	ResponseStatus *struct {
		Code   int
		Status string
	}
}

// BenchmarkExtract is the cost of deriving a record from a stored event
// (the corpus of TestExtractMatchesReference, as stored): the one-pass
// reading the indexer uses, the decoding it replaced, and one typed
// encoding/json decode (not exact: for its cost only).
//
//	go test ./router/index -run '^$' -bench Extract -benchmem
func BenchmarkExtract(b *testing.B) {
	_, stored := exampleEvents(b)
	for _, v := range []struct {
		name string
		run  func([]byte) error
	}{
		{"one-pass", func(d []byte) error { _, err := index.FromEvent(1, "default", d, time.Time{}); return err }},
		{"decode", func(d []byte) error { _, err := index.RefFromEvent(1, "default", d, time.Time{}); return err }},
		{"typed", func(d []byte) error {
			var e typedEvent
			if err := json.Unmarshal(d, &e); err != nil {
				return err
			}
			var x typedData
			_ = json.Unmarshal(e.Data, &x)
			if x.Content != nil && len(*x.Content) > 0 && (*x.Content)[0] == '{' {
				_ = json.Unmarshal([]byte(*x.Content), &x)
			}
			return nil
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			bytes := 0
			for i := 0; b.Loop(); i++ {
				d := stored[i%len(stored)]
				bytes += len(d)
				if err := v.run(d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/event")
		})
	}
}
