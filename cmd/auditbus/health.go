package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runHealth is `auditbus health`: a probe of a running server's /readyz
// (or /healthz with --live) for container healthchecks, where the
// distroless image has no curl. It exits 0 on 200 and 1 otherwise, saying
// why (the server's answer names the failing check).
func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("health", stderr)
	base := fs.String("url", envOr("AUDITBUS_URL", "http://127.0.0.1:8080"), "auditbus HTTP API (env AUDITBUS_URL)")
	live := fs.Bool("live", false, "probe liveness (/healthz) instead of readiness (/readyz)")
	insecure := fs.Bool("insecure", false, "do not verify the server's certificate (a probe of the same host or pod, as the kubelet's)")
	timeout := fs.Duration("timeout", 5*time.Second, "timeout of the probe")
	asJSON := jsonFlag(fs, "the answer")
	// Both endpoints are public: no token, only the server's certificate.
	cf := clientFlags{}
	fs.StringVar(&cf.caCert, "ca-cert", "", "PEM CA certificates to verify an https --url with")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	tlsCfg, err := cf.tlsConfig()
	if err != nil {
		return err
	}
	tlsCfg.InsecureSkipVerify = *insecure
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	client := &http.Client{Timeout: *timeout, Transport: tr}
	path := "/readyz"
	if *live {
		path = "/healthz"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(*base, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	if *asJSON {
		return writeJSON(stdout, map[string]any{"path": path, "status": resp.StatusCode, "body": strings.TrimSpace(string(body))})
	}
	fmt.Fprintf(stdout, "%s: %s\n", path, strings.TrimSpace(string(body)))
	return nil
}
