package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// clientFlags are how the CLI's API clients authenticate and trust the
// server: a token (never echoed), a CA for an https server with a private
// CA, and a client certificate.
type clientFlags struct {
	token, tokenFile, caCert, cert, key string
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.tokenFile, "token-file", os.Getenv("AUDITBUS_TOKEN_FILE"), "file holding the API token (env AUDITBUS_TOKEN_FILE; or set AUDITBUS_TOKEN)")
	fs.StringVar(&c.caCert, "ca-cert", os.Getenv("AUDITBUS_CA_CERT"), "PEM CA certificates to verify an https --url with (env AUDITBUS_CA_CERT)")
	fs.StringVar(&c.cert, "client-cert", os.Getenv("AUDITBUS_CLIENT_CERT"), "PEM client certificate to present, with --client-key (env AUDITBUS_CLIENT_CERT)")
	fs.StringVar(&c.key, "client-key", os.Getenv("AUDITBUS_CLIENT_KEY"), "PEM private key of --client-cert (env AUDITBUS_CLIENT_KEY)")
}

// httpClient is an API client that sends the token as a bearer token on
// every request. The token comes from a file or the environment, not a
// flag, so it never shows in a process list.
func (c *clientFlags) httpClient(timeout time.Duration) (*http.Client, error) {
	token := os.Getenv("AUDITBUS_TOKEN")
	if c.tokenFile != "" {
		raw, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("token file: %w", err)
		}
		token = strings.TrimSpace(string(raw))
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.caCert != "" || c.cert != "" || c.key != "" {
		cfg, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = cfg
	}
	var rt http.RoundTripper = tr
	if token != "" {
		rt = bearer{token: token, next: tr}
	}
	return &http.Client{Timeout: timeout, Transport: rt}, nil
}

func (c *clientFlags) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.caCert != "" {
		pem, err := os.ReadFile(c.caCert)
		if err != nil {
			return nil, fmt.Errorf("--ca-cert: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert %s: no PEM certificate in it", c.caCert)
		}
	}
	if (c.cert == "") != (c.key == "") {
		return nil, errors.New("--client-cert and --client-key go together")
	}
	if c.cert != "" {
		pair, err := tls.LoadX509KeyPair(c.cert, c.key)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
