package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/router/api"
)

func TestSigningCertEndpoint(t *testing.T) {
	const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	tests := []struct {
		name, method string
		opts         []api.Option
		status       int
		contentType  string
		body         string
	}{
		{"served", http.MethodGet, []api.Option{api.WithSigningCert([]byte(pem))}, http.StatusOK, "application/x-pem-file", pem},
		{"GET only", http.MethodPost, []api.Option{api.WithSigningCert([]byte(pem))}, http.StatusMethodNotAllowed, "application/json", "AB.4050"},
		{"not configured", http.MethodGet, nil, http.StatusNotFound, "application/json", "AB.4040"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(api.New(nil, tt.opts...))
			defer srv.Close()
			req, _ := http.NewRequest(tt.method, srv.URL+"/v1/signing-cert", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) || !strings.Contains(string(b), tt.body) {
				t.Errorf("%s: %d %q %q", tt.method, resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
		})
	}
}
