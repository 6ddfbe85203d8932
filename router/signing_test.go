package router

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestGeneratedSigningPair(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "data", signingDirName)
	s, err := dataDirSigner(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	cert := s.Certificate()
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || key.N.BitLen() != 2048 || cert.Subject.CommonName != "auditbus" || cert.SignatureAlgorithm != x509.SHA256WithRSA ||
		cert.NotAfter.Before(now.AddDate(10, 0, 0)) || cert.NotBefore.After(now) {
		t.Errorf("generated certificate: CN %q, %s, %T, valid %s to %s", cert.Subject.CommonName, cert.SignatureAlgorithm, cert.PublicKey, cert.NotBefore, cert.NotAfter)
	}
	for name, mode := range map[string]os.FileMode{signingKeyFile: 0o600, signingCertFile: 0o644} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v, want mode %v (%v)", name, st.Mode(), mode, err)
		}
	}
	again, err := dataDirSigner(dir, now.Add(time.Hour))
	if err != nil || !bytes.Equal(again.CertPEM(), s.CertPEM()) {
		t.Errorf("second load did not reuse the pair (%v)", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".signing-*")); len(leftovers) > 0 {
		t.Errorf("temporary directories left: %v", leftovers)
	}
}

func TestSigningPairErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), signingDirName)
	if _, err := dataDirSigner(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, signingKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := dataDirSigner(dir, time.Now()); !errors.Is(err, ErrSigningPairHalf) {
		t.Errorf("certificate without key: %v, want ErrSigningPairHalf", err)
	}
	if _, err := loadSigner(Config{SigningKeyFile: "key.pem", Log: zerolog.Nop()}); !errors.Is(err, ErrSigningPairHalf) {
		t.Errorf("--signing-key alone: %v, want ErrSigningPairHalf", err)
	}
	if _, err := loadSigner(Config{SigningKeyFile: "no-such-key.pem", SigningCertFile: "no-such-cert.pem", Log: zerolog.Nop()}); err == nil ||
		!strings.Contains(err.Error(), "no-such-cert.pem") {
		t.Errorf("missing files: %v", err)
	}
}

func TestConfiguredSigningPair(t *testing.T) {
	certFile, keyFile := "../sinks/testdata/signing/cert.pem", "../sinks/testdata/signing/key.pem"
	s, err := loadSigner(Config{SigningKeyFile: keyFile, SigningCertFile: certFile, DataDir: t.TempDir(), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(certFile)
	if !bytes.Equal(s.CertPEM(), want) {
		t.Errorf("serving\n%s\nwant the configured\n%s", s.CertPEM(), want)
	}
	if _, err := loadSigner(Config{SigningKeyFile: certFile, SigningCertFile: keyFile, Log: zerolog.Nop()}); err == nil {
		t.Error("key and certificate swapped: no error")
	}
}

func TestCheckPublicURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://auditbus.example", "https://auditbus.example"},
		{"https://auditbus.example/", "https://auditbus.example"},
		{"http://10.0.0.5:8080/auditbus/", "http://10.0.0.5:8080/auditbus"},
		{"auditbus.example", ""},
		{"ftp://auditbus.example", ""},
		{"https://auditbus.example/?x=1", ""},
		{"https://user:pw@auditbus.example", ""},
	}
	for _, tt := range tests {
		got, err := checkPublicURL(tt.in)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("checkPublicURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
