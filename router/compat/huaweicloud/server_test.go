package huaweicloud

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
)

const (
	testAK        = "HPUAEXAMPLEAK0000001"
	testSK        = "examplesecretkey0000000000000000000000ab"
	testProjectID = "0123456789abcdef0123456789abcdef"
)

// verdict is what the server decided about one request.
type verdict struct {
	accessKey string
	err       error
	method    string
	path      string
	query     string
	body      []byte // as the handler read it after Verify
}

// verifyingServer is a loopback HTTP server that verifies every request
// with a SignatureVerifier and records the verdicts.
type verifyingServer struct {
	*httptest.Server
	mu       sync.Mutex
	verdicts []verdict
}

func startVerifyingServer(t *testing.T, opts ...auth.SignatureOption) *verifyingServer {
	t.Helper()
	keys := map[string][]byte{testAK: []byte(testSK)}
	v := auth.NewSignatureVerifier(func(ak string) ([]byte, bool) { s, ok := keys[ak]; return s, ok }, opts...)
	s := &verifyingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ak, err := v.Verify(r)
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.verdicts = append(s.verdicts, verdict{accessKey: ak, err: err, method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, body: body})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error_code":"AB.4010","error_msg":"unauthorized"}`)
			return
		}
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// only returns the single verdict the server recorded.
func (s *verifyingServer) only(t *testing.T) verdict {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.verdicts) != 1 {
		t.Fatalf("server saw %d requests, want 1: %+v", len(s.verdicts), s.verdicts)
	}
	return s.verdicts[0]
}

func (s *verifyingServer) all() []verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]verdict(nil), s.verdicts...)
}

// credentials are basic.Credentials with the project id set, so that the
// SDK never calls IAM to find it (which would need DNS and the internet).
func credentials(ak, sk string) *basic.Credentials {
	return basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(testProjectID).Build()
}

// httpConfig is the SDK's default configuration with a short timeout and,
// when rt is not nil, a round tripper that sees the signed request.
func httpConfig(rt http.RoundTripper) *config.HttpConfig {
	c := config.DefaultHttpConfig().WithTimeout(10 * time.Second)
	if rt != nil {
		c = c.WithHttpRoundTripper(rt)
	}
	return c
}

// tamper is a round tripper that changes the signed request before sending
// it, as someone on the path would.
type tamper func(*http.Request)

func (f tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	f(r)
	return http.DefaultTransport.RoundTrip(r)
}

// replaceBody sets r's body to b.
func replaceBody(r *http.Request, b []byte) {
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
}
