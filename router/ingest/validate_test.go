package ingest

import (
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

func TestValidate(t *testing.T) {
	base := func() event.Event {
		e := event.New()
		e.SetID("v-1")
		e.SetSource("/src")
		e.SetType("t")
		return e
	}
	good := base()
	if err := Validate(&good); err != nil {
		t.Fatalf("valid event rejected: %v", err)
	}
	tests := []struct {
		name     string
		edit     func(e *event.Event)
		kind     error
		attr     string
		mentions []string
	}{
		{"v0.3", func(e *event.Event) { e.SetSpecVersion(event.CloudEventsVersionV03) }, ErrInvalidAttribute, "specversion", []string{"only CloudEvents 1.0"}},
		{"no id", func(e *event.Event) { e.Context.(*event.EventContextV1).ID = "" }, ErrMissingAttribute, "id", []string{"required"}},
		{"setter error recorded by sdk-go", func(e *event.Event) { e.SetID("") }, ErrInvalidAttribute, "id", []string{"CloudEvents SDK", "non-empty"}},
		{"bad datacontenttype", func(e *event.Event) { e.SetDataContentType("nope") }, ErrInvalidAttribute, "datacontenttype", []string{"media type"}},
		{"json data not json", func(e *event.Event) {
			e.SetDataContentType(event.ApplicationJSON)
			e.DataEncoded = []byte("{oops")
		}, ErrInvalidAttribute, "data", []string{"not valid JSON"}},
		{"text data not utf8", func(e *event.Event) {
			e.SetDataContentType(event.TextPlain)
			e.DataEncoded = []byte{0xff}
		}, ErrInvalidAttribute, "data", []string{"data_base64"}},
		{"extension of a non CloudEvents type", func(e *event.Event) {
			e.Context.(*event.EventContextV1).Extensions = map[string]any{"f": 1.5}
		}, ErrInvalidAttribute, "f", []string{"float64"}},
		{"extension with an upper case key", func(e *event.Event) {
			e.Context.(*event.EventContextV1).Extensions = map[string]any{"Up": "x"}
		}, ErrInvalidAttribute, "Up", []string{"lowercase"}},
		{"nil context", func(e *event.Event) { e.Context = nil }, ErrMissingAttribute, "specversion", []string{"no context"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := base()
			tc.edit(&e)
			wantError(t, Validate(&e), tc.kind, tc.attr, -1, tc.mentions...)
		})
	}
}
