package api

import (
	"bytes"
	"net/http"
	"strconv"
)

// WithSigningCert serves certPEM, the certificate whose key signs smn
// webhooks, at GET /v1/signing-cert: the signing_cert_url of every smn
// message. Default: no such endpoint.
func WithSigningCert(certPEM []byte) Option {
	return func(o *options) { o.signingCert = bytes.Clone(certPEM) }
}

// signingCert answers the certificate as PEM. It is public by nature:
// receivers fetch it to verify messages, and it holds no secret.
func (s *Server) signingCert(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Length", strconv.Itoa(len(s.opts.signingCert)))
	w.WriteHeader(http.StatusOK)
	w.Write(s.opts.signingCert)
}
