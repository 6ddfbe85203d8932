package rules

import (
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

func TestNewEnvAttributes(t *testing.T) {
	e := tkeEvent(t, map[string]any{"eventName": "DeleteCluster"})
	e.SetTime(time.Date(2024, 5, 1, 10, 0, 0, 5, time.FixedZone("CST", 8*3600)))
	e.SetExtension("retries", 3)
	e.SetExtension("sampled", true)
	e.SetExtension("observed", time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC))
	env := NewEnv(e)
	want := map[string]any{
		"specversion":     "1.0",
		"id":              "9d5b2c0e-1a7f-4c1e-9a9e-2f8f1c3b7a10",
		"source":          "tke.cloud.tencent",
		"type":            "tke:CloudEvent:ApiCall",
		"time":            "2024-05-01T02:00:00.000000005Z",
		"datacontenttype": "application/json",
		"region":          "ap-guangzhou",
		"retries":         int32(3),
		"sampled":         true,
		"observed":        "2024-05-01T02:00:00Z",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env[%q] = %#v, want %#v", k, env[k], v)
		}
	}
	if _, ok := env["dataschema"]; ok {
		t.Error("empty dataschema must be omitted")
	}
	data, ok := env["data"].(map[string]any)
	if !ok || data["eventName"] != "DeleteCluster" {
		t.Errorf("data = %#v", env["data"])
	}
}

func TestNewEnvData(t *testing.T) {
	cases := []struct {
		name, contentType string
		payload           []byte
		want              any
	}{
		{"json object", "application/json", []byte(`{"a":1}`), map[string]any{"a": 1.0}},
		{"json suffix", "application/cloudevents+json; charset=utf-8", []byte(`[1]`), []any{1.0}},
		{"text/json", "text/json", []byte(`true`), true},
		{"empty content type is json", "", []byte(`{"a":1}`), map[string]any{"a": 1.0}},
		{"json string stays string", "application/json", []byte(`"{\"a\":1}"`), `{"a":1}`},
		{"plain text", "text/plain", []byte(`hello`), "hello"},
		{"json that does not parse is a string", "application/json", []byte(`{`), "{"},
		{"binary without content type is a string", "", []byte("\x00\x01"), "\x00\x01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := event.New()
			e.SetID("1")
			e.SetSource("s")
			e.SetType("t")
			e.DataEncoded = tc.payload
			e.SetDataContentType(tc.contentType)
			if got := NewEnv(&e)["data"]; !equalJSON(got, tc.want) {
				t.Errorf("data = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestNewEnvNoData(t *testing.T) {
	env := NewEnv(tkeEvent(t, nil))
	if _, ok := env["data"]; ok {
		t.Errorf("event without data has env[data] = %#v", env["data"])
	}
}

func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !equalJSON(x[k], y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}
