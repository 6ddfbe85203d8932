package cejson

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

var benchData = []byte(`{"eventName":"DeleteCluster","errorCode":0,"userIdentity":{"principalId":"1","type":"CAMUser"},"resources":[` +
	strings.Repeat(`{"id":"cls-1","tags":{"env":"prod"}},`, 20) + `{}]}`)

// BenchmarkMarshal compares cejson with sdk-go's writer: the same for
// application/json, one more append for a +json value.
func BenchmarkMarshal(b *testing.B) {
	for _, ct := range []string{"application/json", "application/vnd.audit+json"} {
		e := newEvent(ct, benchData, false)
		b.Run("sdk-go/"+ct, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var buf bytes.Buffer
				if err := event.WriteJson(e, &buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("cejson/"+ct, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Marshal(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnmarshal: application/json costs what sdk-go's reader costs;
// a +json value takes the fallback (sdk-go refuses it first).
func BenchmarkUnmarshal(b *testing.B) {
	for _, ct := range []string{"application/json", "application/vnd.audit+json"} {
		raw, err := Marshal(newEvent(ct, benchData, false))
		if err != nil {
			b.Fatal(err)
		}
		if ct == "application/json" {
			b.Run("sdk-go/"+ct, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var e event.Event
					if err := e.UnmarshalJSON(raw); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("cejson/"+ct, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var e event.Event
				if err := Unmarshal(raw, &e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
