package sources

import (
	"errors"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// Events redacts, in place, the data of every event whose datacontenttype
// is JSON, as JSON does a record. Data it refuses (a key named twice,
// nesting too deep) fails the whole batch with an *ingest.Error naming
// the event (its index, or -1 for a batch of one) and attribute data;
// events before it may already be redacted.
func (r *Redactor) Events(events []event.Event) error {
	if !r.On() {
		return nil
	}
	for i := range events {
		e := &events[i]
		if len(e.DataEncoded) == 0 || !jsonData(e.DataMediaType()) {
			continue
		}
		data, err := r.JSON(e.DataEncoded)
		if err != nil {
			var ie *ingest.Error
			if errors.As(err, &ie) {
				c := *ie
				c.Index, c.Attribute = i, "data"
				if len(events) == 1 {
					c.Index = -1
				}
				return &c
			}
			return err
		}
		e.DataEncoded = data
	}
	return nil
}

// jsonData is the CloudEvents spec's test for JSON data: application/json
// or a +json structured syntax suffix (ingest sets application/json where
// structured data came without a type).
func jsonData(mt string) bool {
	mt = strings.ToLower(mt)
	return mt == event.ApplicationJSON || mt == event.TextJSON || strings.HasSuffix(mt, "+json")
}
