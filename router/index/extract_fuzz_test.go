package index_test

import (
	"errors"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/index"
)

// FuzzFromMessage: whatever a stored message holds, the indexer gets a
// record of the bus the subject names, or ErrUndecodable; never a panic.
func FuzzFromMessage(f *testing.F) {
	f.Add("auditbus.events.default.tke.ApiCall.DeleteCluster", []byte(`{"specversion":"1.0","id":"1","source":"s","type":"tke:CloudEvent:ApiCall","principal":"alice","data":{"requestID":"r"}}`))
	f.Add("auditbus.events.prod._.x._", []byte(`{"specversion":"1.0","id":"1","source":"s","type":"x","datacontenttype":"application/json","data":{"objectRef":{"uid":3}}}`))
	f.Add("other.subject", []byte(`{}`))
	f.Fuzz(func(t *testing.T, subject string, data []byte) {
		rec, err := index.FromMessage(7, subject, data, time.Unix(1, 0))
		if err != nil {
			if !errors.Is(err, index.ErrUndecodable) {
				t.Fatalf("error %v is not ErrUndecodable", err)
			}
			return
		}
		if rec.Bus == "" || rec.Seq != 7 || rec.Time.IsZero() || rec.TraceRating == "" || string(rec.Event) != string(data) {
			t.Fatalf("record %+v", rec)
		}
	})
}
