package sinks

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// MinSigningKeyBits is the smallest RSA key a Signer accepts.
const MinSigningKeyBits = 2048

// ErrSigningKeyMismatch is returned by NewSigner when the private key is not
// the one the certificate was issued for: every signature would then fail
// to verify against the certificate receivers fetch.
var ErrSigningKeyMismatch = errors.New("signing key does not match the certificate's public key")

// Signer signs smn-format messages with an RSA private key whose X.509
// certificate receivers fetch from the message's signing_cert_url. It is
// safe for concurrent use.
type Signer struct {
	key     *rsa.PrivateKey
	cert    *x509.Certificate
	certPEM []byte
}

// NewSigner builds a Signer from a PEM certificate and the PEM private key
// it was issued for (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"). The
// key must be RSA of at least MinSigningKeyBits bits, since SMN receivers
// verify RSA signatures; a key that does not match the certificate is
// ErrSigningKeyMismatch. The certificate's validity dates are not checked:
// receivers verify a signature with the certificate's key, not its dates.
func NewSigner(certPEM, keyPEM []byte) (*Signer, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := parseRSAKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, ErrSigningKeyMismatch
	}
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	return &Signer{key: key, cert: cert, certPEM: block}, nil
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("signing certificate: no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	return cert, nil
}

func parseRSAKeyPEM(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("signing key: no PEM block")
	}
	var parsed any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("signing key: PEM block %q, want PRIVATE KEY or RSA PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key: %T, want an RSA key (SMN signatures are RSA)", parsed)
	}
	if bits := key.N.BitLen(); bits < MinSigningKeyBits {
		return nil, fmt.Errorf("signing key: RSA %d bits, want at least %d", bits, MinSigningKeyBits)
	}
	return key, nil
}

// Sign returns the SHA256withRSA signature of msg (RSASSA-PKCS1-v1_5 over
// SHA-256), the algorithm SMN's sample verifiers use with a certificate
// signed SHA256-RSA.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sig, nil
}

// CertPEM returns the certificate, PEM-encoded, as receivers fetch it from
// signing_cert_url. The slice is a copy.
func (s *Signer) CertPEM() []byte { return bytes.Clone(s.certPEM) }

// Certificate returns the parsed certificate. Callers must not modify it.
func (s *Signer) Certificate() *x509.Certificate { return s.cert }
