package main

import (
	"io"
	"testing"
)

func TestSigningFlags(t *testing.T) {
	t.Setenv("AUDITBUS_PUBLIC_URL", "https://from-env.example")
	c := defaultServeConfig()
	if err := parseLayered(c.flags, []string{"--signing-key", "k.pem", "--signing-cert", "c.pem"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if c.SigningKeyFile != "k.pem" || c.SigningCertFile != "c.pem" || c.PublicURL != "https://from-env.example" {
		t.Errorf("signing key %q, cert %q, public URL %q", c.SigningKeyFile, c.SigningCertFile, c.PublicURL)
	}
	c = defaultServeConfig()
	if err := parseLayered(c.flags, []string{"--public-url", "https://from-flag.example"}, io.Discard); err != nil || c.PublicURL != "https://from-flag.example" {
		t.Errorf("--public-url: %q, %v", c.PublicURL, err)
	}
}
