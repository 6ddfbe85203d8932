package ingest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func post(contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestDecodeModes(t *testing.T) {
	withHeaders := post("application/cloudevents+json", ev(""))
	withHeaders.Header.Set("ce-specversion", "0.3") // structured mode ignores ce-* headers
	tests := []struct {
		name  string
		req   *http.Request
		count int
	}{
		{"structured", post("application/cloudevents+json", ev("")), 1},
		{"structured, case and charset", post("Application/CloudEvents+JSON; charset=UTF-8", ev("")), 1},
		{"structured wins over headers", withHeaders, 1},
		{"batch", post("application/cloudevents-batch+json", "["+ev("")+","+ev("")+"]"), 2},
		{"empty batch", post("application/cloudevents-batch+json", "[]"), 0},
		{"binary", binaryRequest(`{}`, [2]string{"Content-Type", "application/json"}), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, err := Decode(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if events == nil || len(events) != tc.count {
				t.Fatalf("got %#v, want %d events", events, tc.count)
			}
		})
	}
}

func TestDecodeRejectsMediaType(t *testing.T) {
	tests := []struct {
		name, contentType string
		mentions          []string
	}{
		{"avro", "application/cloudevents+avro", []string{`"application/cloudevents+avro" is not supported`, "application/cloudevents+json", "application/cloudevents-batch+json", "ce-specversion"}},
		{"protobuf batch", "application/cloudevents-batch+protobuf", []string{"not supported"}},
		{"latin1", "application/cloudevents+json; charset=iso-8859-1", []string{`"iso-8859-1"`, "UTF-8"}},
		{"unparsable", "application/cloudevents+json; charset", []string{"cannot be parsed"}},
		{"plain json without ce headers", "application/json", []string{`"application/json"`, "ce-specversion", "application/cloudevents+json"}},
		{"nothing", "", []string{"no Content-Type", "application/cloudevents-batch+json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, err := Decode(post(tc.contentType, ev("")))
			wantError(t, err, ErrUnsupportedMediaType, "", -1, tc.mentions...)
			if events != nil {
				t.Errorf("got events %v", events)
			}
		})
	}
}

// endless counts how much of it was read.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += int64(len(p))
	return len(p), nil
}

func TestDecodeTooLarge(t *testing.T) {
	t.Run("body over the limit", func(t *testing.T) {
		r := post("application/cloudevents+json", ev(`"data":"`+strings.Repeat("x", 100)+`"`))
		_, err := Decode(r, WithMaxBodyBytes(100))
		wantError(t, err, ErrTooLarge, "", -1, "100 bytes")
	})
	t.Run("body at the limit", func(t *testing.T) {
		body := ev("")
		if _, err := Decode(post("application/cloudevents+json", body), WithMaxBodyBytes(int64(len(body)))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("reads at most limit+1 bytes", func(t *testing.T) {
		src := &endless{}
		r := httptest.NewRequest(http.MethodPost, "/v1/events", io.LimitReader(src, 1<<30))
		r.ContentLength = -1
		r.Header.Set("Content-Type", "application/cloudevents+json")
		_, err := Decode(r, WithMaxBodyBytes(1000))
		wantError(t, err, ErrTooLarge, "", -1, "1000 bytes")
		if src.read > 64<<10 {
			t.Errorf("read %d bytes for a 1000-byte limit", src.read)
		}
	})
	t.Run("content-length over the limit, checked before media type", func(t *testing.T) {
		r := post("application/cloudevents+avro", strings.Repeat("x", int(DefaultMaxBodyBytes)+1))
		_, err := Decode(r)
		wantError(t, err, ErrTooLarge, "", -1, "1048576 bytes")
	})
}
