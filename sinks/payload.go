package sinks

import (
	"encoding/json"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/cejson"
)

// body returns what a delivery carries as a plain body: the input payload
// when there is one (text for a string, JSON otherwise), else the event's
// data with its content type.
func body(d *Delivery) ([]byte, string, error) {
	switch p := d.Payload.(type) {
	case nil:
		return d.Event.Data(), d.Event.DataContentType(), nil
	case string:
		return []byte(p), "text/plain; charset=utf-8", nil
	default:
		b, err := json.Marshal(p)
		if err != nil {
			return nil, "", Permanent(fmt.Errorf("input payload is not JSON-encodable: %w", err))
		}
		return b, event.ApplicationJSON, nil
	}
}

// outgoing returns the event to deliver: the original, or a copy whose data
// is the input payload, as EventBridge's input transformer replaces the
// payload but keeps the envelope.
func outgoing(d *Delivery) (*event.Event, error) {
	if d.Payload == nil {
		return d.Event, nil
	}
	b, ct, err := body(d)
	if err != nil {
		return nil, err
	}
	e := d.Event.Clone()
	e.DataEncoded = b
	e.DataBase64 = false
	e.SetDataContentType(ct)
	return &e, nil
}

// structured encodes e in structured mode as the bus stores it (cejson),
// which keeps JSON data byte for byte (json.Marshal would re-compact and
// escape it) and writes +json data as a JSON value.
func structured(e *event.Event) ([]byte, error) {
	b, err := cejson.Marshal(e)
	if err != nil {
		return nil, Permanent(err)
	}
	return b, nil
}

// structuredOf is d's event, or the copy carrying its input payload, in
// structured mode: the stored bytes themselves when d has them and no
// payload (the bus stores events as cejson writes them), else encoded.
func structuredOf(d *Delivery) ([]byte, error) {
	if d.Payload == nil && d.Stored != nil {
		return d.Stored, nil
	}
	e, err := outgoing(d)
	if err != nil {
		return nil, err
	}
	return structured(e)
}
