package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"
)

func sdkEvent(t *testing.T, id string) event.Event {
	t.Helper()
	e := event.New()
	e.SetID(id)
	e.SetSource("https://cloudaudit.tencentcloudapi.com/tke")
	e.SetType("tke:CloudEvent:ApiCall")
	e.SetSubject("qcs::tke:ap-guangzhou:uin/100000000001:cluster/cls-abc")
	e.SetTime(time.Date(2024, 5, 1, 12, 0, 0, 123000000, time.UTC))
	e.SetDataSchema("https://schemas.example/tke/v1")
	e.SetExtension("region", "ap-guangzhou")
	e.SetExtension("retries", 3)
	e.SetExtension("success", true)
	e.SetDataContentType(event.ApplicationJSON)
	e.DataEncoded = []byte(`{"eventName":"DeleteCluster","errorCode":0,"nested":{"a":[1,2,3]}}`)
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	return e
}

// sameEvent compares attributes, extension values as strings (binary mode
// cannot carry their types) and data bytes.
func sameEvent(t *testing.T, got, want event.Event, typedExtensions bool) {
	t.Helper()
	if got.ID() != want.ID() || got.Source() != want.Source() || got.Type() != want.Type() ||
		got.Subject() != want.Subject() || !got.Time().Equal(want.Time()) ||
		got.DataSchema() != want.DataSchema() || got.DataContentType() != want.DataContentType() {
		t.Errorf("attributes differ:\n got %v\nwant %v", got, want)
	}
	for name, w := range want.Extensions() {
		g := got.Extensions()[name]
		if typedExtensions && g != w {
			t.Errorf("extension %s = %#v, want %#v", name, g, w)
		}
		gs, _ := types.Format(g)
		ws, _ := types.Format(w)
		if gs != ws {
			t.Errorf("extension %s = %q, want %q", name, gs, ws)
		}
	}
	if len(got.Extensions()) != len(want.Extensions()) {
		t.Errorf("extensions = %v, want %v", got.Extensions(), want.Extensions())
	}
	if !bytes.Equal(got.Data(), want.Data()) {
		t.Errorf("data = %q, want %q", got.Data(), want.Data())
	}
}

func TestDecodeSDKEncodedRequests(t *testing.T) {
	tests := []struct {
		name  string
		ctx   context.Context
		typed bool
	}{
		{"binary", binding.WithForceBinary(context.Background()), false},
		{"structured", binding.WithForceStructured(context.Background()), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := sdkEvent(t, "rt-"+tc.name)
			r := httptest.NewRequest(http.MethodPost, "/v1/events", nil)
			if err := cehttp.WriteRequest(tc.ctx, binding.ToMessage(&want), r); err != nil {
				t.Fatal(err)
			}
			events, err := Decode(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 {
				t.Fatalf("got %d events", len(events))
			}
			sameEvent(t, events[0], want, tc.typed)
		})
	}
	t.Run("batch", func(t *testing.T) {
		want := []event.Event{sdkEvent(t, "rt-b1"), sdkEvent(t, "rt-b2")}
		body, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(body))
		r.Header.Set("Content-Type", format.JSONBatch.MediaType())
		events, err := Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 {
			t.Fatalf("got %d events", len(events))
		}
		for i := range want {
			sameEvent(t, events[i], want[i], true)
		}
	})
}
