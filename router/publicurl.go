package router

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// checkPublicURL returns a configured public URL without its trailing
// slash, or an error for one receivers could not use as a base.
func checkPublicURL(configured string) (string, error) {
	u, err := url.Parse(configured)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("public URL %q: want an absolute http or https URL without credentials, query or fragment", configured)
	}
	return strings.TrimRight(configured, "/"), nil
}

// listen binds the API's address ahead of serving, so that the default
// public URL, http://<listen address>, can name the port actually bound
// (":0" picks one). That default cannot be right for a wildcard address
// (0.0.0.0, ::), nor behind a proxy or TLS terminator; the first case is
// logged as a warning.
func (s *Server) listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Listen, err)
	}
	s.ln = newLimitListener(ln, s.cfg.MaxConnections, s.cfg.MaxClientConnections)
	if s.cfg.PublicURL == "" {
		scheme := "http://"
		if s.tls != nil {
			scheme = "https://"
		}
		s.cfg.PublicURL = scheme + ln.Addr().String()
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
			s.cfg.Log.Warn().Str("public_url", s.cfg.PublicURL).
				Msg("the API listens on a wildcard address, so the signing_cert_url of smn messages names no reachable host; set --public-url")
		}
	}
	return nil
}

// webhookOrigin is the configured origin, else the public URL's host
// without its port: the handshake's origin is a DNS name.
func (s *Server) webhookOrigin() string {
	if s.cfg.WebhookOrigin != "" {
		return s.cfg.WebhookOrigin
	}
	u, err := url.Parse(s.cfg.PublicURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
