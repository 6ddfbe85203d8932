package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deployFixtures makes, at the paths args name, the files a deployment
// mounts before it starts auditbus: what its README tells the operator to
// make (an auth file from `auditbus token create`, an nkey seed from
// `auditbus nats-user`, a TLS pair, an RSA signing pair) and the rules the
// deployment ships (rulesDir, as deployLine.rules). A flag naming an
// absolute path that has no fixture here fails the test, so a new file
// flag in a deploy line is noticed.
func deployFixtures(t *testing.T, bin string, args []string, rulesDir string) {
	t.Helper()
	values := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, value, ok := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "--") {
			continue
		}
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			value, i = args[i+1], i+1
		}
		values[name] = value
	}
	for name, path := range values {
		if !filepath.IsAbs(path) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		switch name {
		case "data-dir", "tls-key", "signing-key":
			// the data dir is made by serve; keys come with their certificates
		case "rules":
			if rulesDir != notMounted {
				copyRules(t, rulesDir, path)
			}
		case "auth-file":
			writeFixture(t, path, authFileFixture(t, bin))
		case "tls-cert":
			cert, key := ecdsaPair(t)
			writePair(t, path, cert, values["tls-key"], key)
		case "signing-cert":
			cert, key := rsaPair(t)
			writePair(t, path, cert, values["signing-key"], key)
		case "nats-nkey":
			if out, err := exec.Command(bin, "nats-user", "--name", "router", "--nkey-seed-out", path).CombinedOutput(); err != nil {
				t.Fatalf("nats-user: %v\n%s", err, out)
			}
		default:
			t.Fatalf("--%s %s: no fixture for this flag; add one", name, path)
		}
	}
}

func writeFixture(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writePair writes a certificate and, when the line names one, its key
// (a line without the key is for serve to refuse).
func writePair(t *testing.T, certPath string, cert []byte, keyPath string, key []byte) {
	writeFixture(t, certPath, cert)
	if keyPath != "" {
		writeFixture(t, keyPath, key)
	}
}

func copyRules(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	if from == "" {
		return
	}
	entries, err := os.ReadDir("../../" + from)
	if err != nil {
		t.Fatalf("rules of the deployment: %v", err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join("../../"+from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFixture(t, filepath.Join(to, e.Name()), raw)
	}
}

// authFileFixture is an auth file with the entry `auditbus token create`
// prints, as the deploy docs tell the operator to make it.
func authFileFixture(t *testing.T, bin string) []byte {
	out, err := exec.Command(bin, "token", "create", "--name", "kube-apiserver", "--action", "sources:put").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	_, entry, ok := strings.Cut(string(out), "identities:\n")
	if !ok {
		t.Fatalf("token create printed no entry:\n%s", out)
	}
	return []byte("identities:\n" + entry)
}

func ecdsaPair(t *testing.T) (certPEM, keyPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return selfSigned(t, key, &key.PublicKey)
}

func rsaPair(t *testing.T) (certPEM, keyPEM []byte) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return selfSigned(t, key, &key.PublicKey)
}

func selfSigned(t *testing.T, key, pub any) (certPEM, keyPEM []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "auditbus"},
		DNSNames: []string{"auditbus"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}
