package router

import (
	"cmp"
	"crypto/tls"
	"errors"
	"log"
	"strings"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/auth"
)

// loadAccess loads the auth file and the TLS key pair, so a broken one
// stops start-up before anything listens, and starts reloading the auth
// file as it changes (until Stop).
func (s *Server) loadAccess() error {
	var err error
	if s.tls, err = apiTLS(s.cfg); err != nil {
		return err
	}
	if s.cfg.AuthFile == "" {
		if s.cfg.InsecureNoAuth {
			s.cfg.Log.Warn().Str("listen", s.cfg.Listen).Msg("API auth is off (--insecure-no-auth): anyone who reaches the API can read every audit record and change every rule")
		}
		return nil
	}
	a, err := auth.New(s.cfg.AuthFile, auth.WithLogger(s.cfg.Log), auth.WithRegisterer(s.reg),
		auth.WithFailureLimit(cmp.Or(s.cfg.AuthFailureBurst, auth.DefaultFailureBurst), cmp.Or(s.cfg.AuthFailureRate, auth.DefaultFailureRate)),
		auth.WithSignatureOptions(auth.WithMaxBodyBytes(s.cfg.MaxBodyBytes)))
	if err != nil {
		return err
	}
	if a.HasCertificates() && (s.tls == nil || s.tls.ClientCAs == nil) {
		s.cfg.Log.Warn().Str("auth_file", s.cfg.AuthFile).Msg("identities name client certificates, but without --tls-client-ca no client is asked for one")
	}
	s.auth = a
	s.bgWG.Go(func() { a.Run(s.bgCtx) })
	return nil
}

// httpErrorLog sends net/http's own complaints (TLS handshake failures,
// oversized headers) to the structured log at debug level: they are a
// client's problem, and a scan of the port must not flood the log.
func httpErrorLog(l zerolog.Logger) *log.Logger {
	return log.New(debugWriter{l.With().Str("component", "http").Logger()}, "", 0)
}

type debugWriter struct{ l zerolog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.l.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// apiTLS is the API's TLS config from the TLS flags, nil without TLS.
func apiTLS(c Config) (*tls.Config, error) {
	if c.TLSCertFile == "" && c.TLSKeyFile == "" {
		if c.TLSClientCAFile != "" {
			return nil, errors.New("--tls-client-ca needs --tls-cert and --tls-key: client certificates come with TLS")
		}
		return nil, nil
	}
	if c.TLSCertFile == "" || c.TLSKeyFile == "" {
		return nil, errors.New("TLS needs both --tls-cert and --tls-key")
	}
	return tlsConfig(c.TLSCertFile, c.TLSKeyFile, c.TLSClientCAFile, c.Log)
}
