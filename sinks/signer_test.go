package sinks_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/auditbus/auditbus/sinks"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestNewSigner(t *testing.T) {
	certPEM, _ := os.ReadFile("testdata/signing/cert.pem")
	keyPEM, _ := os.ReadFile("testdata/signing/key.pem")
	block, _ := pem.Decode(keyPEM)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey)))
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherPKCS8, _ := x509.MarshalPKCS8PrivateKey(otherRSA)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallPKCS8, _ := x509.MarshalPKCS8PrivateKey(small)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPKCS8, _ := x509.MarshalPKCS8PrivateKey(ec)

	tests := []struct {
		name      string
		cert, key []byte
		want      string // error substring; "" for success
		is        error
	}{
		{"PKCS#8 key", certPEM, keyPEM, "", nil},
		{"PKCS#1 key", certPEM, pkcs1, "", nil},
		{"key of another certificate", certPEM, pemBlock("PRIVATE KEY", otherPKCS8), "does not match", sinks.ErrSigningKeyMismatch},
		{"short RSA key", certPEM, pemBlock("PRIVATE KEY", smallPKCS8), "1024 bits", nil},
		{"ECDSA key", certPEM, pemBlock("PRIVATE KEY", ecPKCS8), "want an RSA key", nil},
		{"key and certificate swapped", keyPEM, certPEM, "no PEM CERTIFICATE block", nil},
		{"not PEM", certPEM, []byte("secret"), "no PEM block", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sinks.NewSigner(tt.cert, tt.key)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(s.CertPEM(), certPEM) {
					t.Errorf("CertPEM differs from the certificate given")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSignerSignVerifiesWithCertificate(t *testing.T) {
	s := testSigner(t)
	sig, err := s.Sign([]byte("message\nhello\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Certificate().CheckSignature(x509.SHA256WithRSA, []byte("message\nhello\n"), sig); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if err := s.Certificate().CheckSignature(x509.SHA256WithRSA, []byte("message\nhello!\n"), sig); err == nil {
		t.Error("signature verifies another message")
	}
}
