package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHealth: the probe passes on 200 and fails on anything else with the
// server's reason; an https server's certificate is verified unless
// --insecure, and --ca-cert makes it verifiable.
func TestHealth(t *testing.T) {
	ready := true
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			w.Write([]byte("ok"))
		case r.URL.Path == "/readyz" && ready:
			w.Write([]byte("ready"))
		default:
			http.Error(w, "stream is offline", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	for _, tc := range []struct {
		name  string
		ready bool
		args  []string
		code  int
		want  string
	}{
		{"ready, verified", true, []string{"--ca-cert", ca}, 0, "/readyz: ready"},
		{"ready, not verifiable", true, nil, 1, "certificate"},
		{"ready, insecure", true, []string{"--insecure"}, 0, "/readyz: ready"},
		{"not ready", false, []string{"--insecure"}, 1, "503 Service Unavailable: stream is offline"},
		{"not ready but live", false, []string{"--insecure", "--live"}, 0, "/healthz: ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready = tc.ready
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"health", "--url", srv.URL}, tc.args...), &out, &errOut)
			if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Fatalf("exit %d, out %q, err %q; want %d saying %q", code, out.String(), errOut.String(), tc.code, tc.want)
			}
		})
	}
}
