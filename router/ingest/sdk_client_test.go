package ingest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// sdkReceiver is an HTTP server on loopback that decodes what it is sent,
// keeping the raw ce-subject header and the decoded event or error.
type sdkReceiver struct {
	mu     sync.Mutex
	header string
	event  *event.Event
	err    error
}

func (s *sdkReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	events, err := Decode(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header, s.event, s.err = r.Header.Get("Ce-Subject"), nil, err
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.event = &events[0]
	w.WriteHeader(http.StatusAccepted)
}

// TestSDKClientBinaryHeaderValues sends events with sdk-go's HTTP client in
// binary mode, as a real producer does. sdk-go writes attribute values into
// headers as they are, neither percent-encoding nor quoting them, so what
// auditbus stores is what the SDK user set exactly when the value has no
// '%' and does not open with '"'. A value that opens with '"' is read as the
// binding's quoted-string (the quotes go); a '%' not followed by two hex
// digits is refused, naming the attribute, so nothing is stored wrong.
func TestSDKClientBinaryHeaderValues(t *testing.T) {
	recv := &sdkReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	client, err := ce.NewClientHTTP(cehttp.WithTarget(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, subject, wire, stored string
		refused                     bool
	}{
		{"plain", "qcs::tke:ap-guangzhou:uin/1:cluster/cls-1", "qcs::tke:ap-guangzhou:uin/1:cluster/cls-1", "qcs::tke:ap-guangzhou:uin/1:cluster/cls-1", false},
		{"spaces", "hello world", "hello world", "hello world", false},
		{"non-ASCII", "réseau 网络", "réseau 网络", "réseau 网络", false},
		{"quotes inside", `say "hi"`, `say "hi"`, `say "hi"`, false},
		{"opens with a quote", `"hello world"`, `"hello world"`, "hello world", false},
		{"percent-encoded by the user", "a%20b", "a%20b", "a b", false},
		{"bare percent", "100%", "100%", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := event.New()
			e.SetID("sdk-1")
			e.SetSource("/sdk")
			e.SetType("t.sent")
			e.SetSubject(tt.subject)
			res := client.Send(binding.WithForceBinary(context.Background()), e)
			var httpRes *cehttp.Result
			if !errors.As(res, &httpRes) {
				t.Fatalf("send: %v", res)
			}
			recv.mu.Lock()
			defer recv.mu.Unlock()
			if recv.header != tt.wire {
				t.Errorf("sdk-go sent ce-subject %q, want %q", recv.header, tt.wire)
			}
			switch {
			case tt.refused:
				if recv.err == nil || httpRes.StatusCode != http.StatusBadRequest {
					t.Errorf("status %d, err %v: want 400 naming the percent-encoding", httpRes.StatusCode, recv.err)
				}
			case recv.err != nil:
				t.Errorf("refused: %v", recv.err)
			case recv.event.Subject() != tt.stored:
				t.Errorf("stored subject %q, want %q", recv.event.Subject(), tt.stored)
			}
		})
	}
}
