package api

import (
	"errors"
	"slices"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/ingest"
)

// AllBuses, as an entry of WithEventRedaction's list, selects every bus.
const AllBuses = "*"

// WithEventRedaction sets the buses whose /v1/events JSON data is redacted
// like audit records before it is stored (see sources.Redactor): bus names,
// or AllBuses. Default: every bus. An empty list redacts no event data; the
// source endpoints redact regardless.
func WithEventRedaction(buses []string) Option {
	return func(o *options) { o.redactBuses = slices.Clone(buses) }
}

func (o *options) redactsEvents(bus string) bool {
	if !o.redactor.On() {
		return false
	}
	return slices.Contains(o.redactBuses, AllBuses) || slices.Contains(o.redactBuses, bus)
}

// redactEvents redacts the data of every event whose datacontenttype is
// JSON. Data the redactor refuses (a key named twice, nesting too deep)
// fails the whole request, naming the event.
func (s *Server) redactEvents(events []event.Event) error {
	for i := range events {
		e := &events[i]
		if len(e.DataEncoded) == 0 || !jsonData(e.DataMediaType()) {
			continue
		}
		data, err := s.opts.redactor.JSON(e.DataEncoded)
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
