package bus

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The answers are nats-server's own (errors.json of v2.15): what a publish
// gets when a limit stops it, and look-alikes that more room would not cure.
func TestStorageRefusalClassifiesJetStreamAnswers(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string // in the ErrStorageFull text; "" when not a storage refusal
	}{
		{"server max store", &jetstream.APIError{Code: 503, ErrorCode: 10023, Description: "insufficient resources"},
			"(insufficient resources, err_code 10023)"},
		{"account limit", &jetstream.APIError{Code: 400, ErrorCode: 10002, Description: "resource limits exceeded for account"},
			"(resource limits exceeded for account, err_code 10002)"},
		{"reservations", &jetstream.APIError{Code: 500, ErrorCode: 10047, Description: "insufficient storage resources available"},
			"err_code 10047"},
		{"stream max bytes", &jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum bytes exceeded"},
			"(maximum bytes exceeded, err_code 10077)"},
		{"wrapped", fmt.Errorf("nats: %w", &jetstream.APIError{ErrorCode: 10023, Description: "insufficient resources"}),
			"err_code 10023"},
		{"message too large", &jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "message size exceeds maximum allowed"}, ""},
		{"stream not found", &jetstream.APIError{Code: 404, ErrorCode: 10059, Description: "stream not found"}, ""},
		{"timeout", nats.ErrTimeout, ""},
		{"no responders", jetstream.ErrNoStreamResponse, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storageRefusal(tt.err)
			if tt.want == "" {
				if got != nil {
					t.Fatalf("storageRefusal(%v) = %v, want nil", tt.err, got)
				}
				return
			}
			if !errors.Is(got, ErrStorageFull) || !strings.Contains(got.Error(), tt.want) {
				t.Fatalf("storageRefusal(%v) = %v, want ErrStorageFull naming %q", tt.err, got, tt.want)
			}
		})
	}
}
