package router

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/sinks"
)

// A generated signing pair lives in <data dir>/signing as key.pem (0600)
// and cert.pem, and is reused on every later start.
const (
	signingDirName  = "signing"
	signingKeyFile  = "key.pem"
	signingCertFile = "cert.pem"
)

// The generated pair: RSA as SMN signs, a key size every receiver takes,
// and a validity long enough that nobody has to rotate it by surprise
// (receivers verify with the key; SMN's samples do not check the dates).
const (
	signingKeyBits    = 2048
	signingValidity   = 20 * 365 * 24 * time.Hour
	signingCommonName = "auditbus"
)

// ErrSigningPairHalf is returned when only one of the key and the
// certificate is configured, or only one is found in the data dir.
var ErrSigningPairHalf = errors.New("signing key and certificate go together")

// loadSigning checks the configured public URL and loads the signer, so
// that a bad value stops start-up before anything runs.
func (s *Server) loadSigning() error {
	if s.cfg.PublicURL != "" {
		u, err := checkPublicURL(s.cfg.PublicURL)
		if err != nil {
			return err
		}
		s.cfg.PublicURL = u
	}
	signer, err := loadSigner(s.cfg)
	if err != nil {
		return err
	}
	s.signer = signer
	return nil
}

// loadSigner returns the signer of smn deliveries: the configured key and
// certificate files, or else the pair under <data dir>/signing, generated
// there on first use. It logs where the pair came from and the
// certificate's SHA-256 fingerprint, for operators to give receivers.
func loadSigner(cfg Config) (*sinks.Signer, error) {
	var (
		s    *sinks.Signer
		from string
		err  error
	)
	switch {
	case cfg.SigningKeyFile != "" && cfg.SigningCertFile != "":
		from = cfg.SigningCertFile
		s, err = readSigner(cfg.SigningCertFile, cfg.SigningKeyFile)
	case cfg.SigningKeyFile != "" || cfg.SigningCertFile != "":
		return nil, fmt.Errorf("%w: set both --signing-key and --signing-cert, or neither", ErrSigningPairHalf)
	default:
		from = filepath.Join(cfg.DataDir, signingDirName)
		s, err = dataDirSigner(from, time.Now())
	}
	if err != nil {
		return nil, err
	}
	logSigner(cfg.Log, s, from)
	return s, nil
}

func readSigner(certFile, keyFile string) (*sinks.Signer, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	s, err := sinks.NewSigner(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", certFile, keyFile, err)
	}
	return s, nil
}

// dataDirSigner loads the pair in dir, generating it first if dir does not
// exist. Half a pair is an error rather than a reason to generate a new
// one, since receivers may have pinned the certificate.
func dataDirSigner(dir string, now time.Time) (*sinks.Signer, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := createSigningPair(dir, now); err != nil {
			return nil, err
		}
	}
	certFile, keyFile := filepath.Join(dir, signingCertFile), filepath.Join(dir, signingKeyFile)
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	if (certErr == nil) != (keyErr == nil) {
		return nil, fmt.Errorf("%w: %s holds only one of %s and %s; restore the other, or remove the directory to generate a new pair (receivers must then fetch the new certificate)",
			ErrSigningPairHalf, dir, signingKeyFile, signingCertFile)
	}
	return readSigner(certFile, keyFile)
}

// createSigningPair generates a pair and moves it into place as dir in one
// rename, so that a crash, or another process starting on the same data
// dir, never leaves or sees half a pair. When another process won the
// race, its pair is kept.
func createSigningPair(dir string, now time.Time) error {
	certPEM, keyPEM, err := generateSigningPair(now)
	if err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("signing pair: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+signingDirName+"-*") // 0700
	if err != nil {
		return fmt.Errorf("signing pair: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	if err := os.WriteFile(filepath.Join(tmp, signingKeyFile), keyPEM, 0o600); err != nil {
		return fmt.Errorf("signing pair: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, signingCertFile), certPEM, 0o644); err != nil {
		return fmt.Errorf("signing pair: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(dir); statErr == nil {
			return nil // created meanwhile by another process
		}
		return fmt.Errorf("signing pair: %w", err)
	}
	return nil
}

// generateSigningPair returns a new self-signed certificate (CN=auditbus,
// SHA256-RSA, valid from an hour before now, for clocks slightly behind)
// and its RSA key (PKCS#8), both PEM. The certificate is signed SHA256-RSA
// because SMN's Java and Node.js samples pick the verification algorithm
// from the certificate's own signature algorithm.
func generateSigningPair(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return nil, nil, fmt.Errorf("generate signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: signingCommonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(signingValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create signing certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), nil
}

// logSigner logs the certificate in use, and warns about one that SMN's
// samples would reject or that has expired.
func logSigner(log zerolog.Logger, s *sinks.Signer, from string) {
	cert := s.Certificate()
	sum := sha256.Sum256(cert.Raw)
	log.Info().Str("from", from).Str("subject", cert.Subject.String()).
		Str("sha256_fingerprint", hex.EncodeToString(sum[:])).Time("not_after", cert.NotAfter).
		Msg("smn signing certificate")
	if cert.SignatureAlgorithm != x509.SHA256WithRSA {
		log.Warn().Str("certificate_signature_algorithm", cert.SignatureAlgorithm.String()).
			Msg("smn messages are signed SHA256withRSA, but receivers that follow SMN's Java or Node.js samples verify with the certificate's own signature algorithm and will fail; use a certificate signed SHA256-RSA")
	}
	if time.Now().After(cert.NotAfter) {
		log.Warn().Time("not_after", cert.NotAfter).Msg("the smn signing certificate has expired; receivers that check its dates will refuse messages")
	}
}
