package router_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router"
)

// testCA issues certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf's PEM certificate and key, for a server (with
// 127.0.0.1 as its address) or a client.
func (ca *testCA) issue(t testing.TB, subject pkix.Name, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsClient trusts ca and presents the given client certificate, if any.
func tlsClient(t testing.TB, ca *testCA, certPEM, keyPEM []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	cfg := &tls.Config{RootCAs: pool}
	if certPEM != nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		// Always sent, even when the server asks for another CA's: the
		// server must refuse it, not the client withhold it.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

// tlsServer starts auditbus on TLS, asking for client certificates of
// clientCA, with an auth file mapping the common name kube-apiserver and
// the subject "CN=shipper,O=audit" to identities that may post records.
func tlsServer(t testing.TB, serverCA, clientCA *testCA) (*router.Server, string) {
	return tlsServerFor(t, serverCA, clientCA, true)
}

// tlsServerFor is tlsServer, without the auth file unless withAuth.
func tlsServerFor(t testing.TB, serverCA, clientCA *testCA, withAuth bool) (*router.Server, string) {
	t.Helper()
	dir := t.TempDir()
	certPEM, keyPEM := serverCA.issue(t, pkix.Name{CommonName: "auditbus"}, true)
	certFile := writeFile(t, filepath.Join(dir, "tls.crt"), certPEM)
	keyFile := writeFile(t, filepath.Join(dir, "tls.key"), keyPEM)
	caFile := writeFile(t, filepath.Join(dir, "client-ca.crt"), clientCA.pem)
	authFile := ""
	if withAuth {
		authFile = writeAuthFile(t, `  - name: kube-apiserver-prod
    certificates: [{common_name: kube-apiserver}]
    actions: [sources:put, rules:read]
  - name: shipper
    certificates: [{subject: "CN=shipper,O=audit"}]
    actions: [events:put]
`)
	}
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.TLSCertFile, c.TLSKeyFile, c.TLSClientCAFile, c.AuthFile = certFile, keyFile, caFile, authFile
	})
	return s, "https://" + s.Addr()
}

const k8sBatch = `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"tls-1","stage":"ResponseComplete","verb":"delete","requestURI":"/api/v1/namespaces/x","user":{"username":"u"},"objectRef":{"resource":"namespaces","name":"x"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2024-01-01T00:00:00Z","stageTimestamp":"2024-01-01T00:00:00Z"}]}`

func postWith(t *testing.T, c *http.Client, url, body string, header http.Header) (int, map[string]any, error) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

// TestClientCertificates: a certificate of the client CA maps to its
// identity by common name or subject; one of another CA is refused in the
// handshake; a trusted certificate that names no identity, or one whose
// identity lacks the action, is refused; a token still works without a
// certificate.
func TestClientCertificates(t *testing.T) {
	serverCA, clientCA, otherCA := newTestCA(t, "server CA"), newTestCA(t, "client CA"), newTestCA(t, "other CA")
	s, base := tlsServer(t, serverCA, clientCA)
	k8sURL := base + "/v1/sources/k8s-audit?cluster=prod"

	apiserver := certClient(t, serverCA, clientCA, pkix.Name{CommonName: "kube-apiserver", Organization: []string{"system:masters"}})
	if status, answer, err := postWith(t, apiserver, k8sURL, k8sBatch, nil); err != nil || status != 202 {
		t.Fatalf("kube-apiserver certificate: %d %v %v", status, answer, err)
	}
	shipper := certClient(t, serverCA, clientCA, pkix.Name{CommonName: "shipper", Organization: []string{"audit"}})
	if status, answer, _ := postWith(t, shipper, k8sURL, k8sBatch, nil); status != 403 {
		t.Errorf("shipper (events:put only) on a source endpoint: %d %v, want 403", status, answer)
	}
	stored := streamMsgs(t, s)

	stranger := certClient(t, serverCA, clientCA, pkix.Name{CommonName: "stranger"})
	if status, answer, _ := postWith(t, stranger, k8sURL, k8sBatch, nil); status != 401 {
		t.Errorf("trusted certificate naming no identity: %d %v, want 401", status, answer)
	}
	forged := certClient(t, serverCA, otherCA, pkix.Name{CommonName: "kube-apiserver"})
	if status, _, err := postWith(t, forged, k8sURL, k8sBatch, nil); err == nil {
		t.Errorf("certificate of another CA: answered %d, want the handshake refused", status)
	}
	anonymous := tlsClient(t, serverCA, nil, nil)
	if status, _, _ := postWith(t, anonymous, k8sURL, k8sBatch, nil); status != 401 {
		t.Errorf("no certificate, no token: %d, want 401", status)
	}
	if status, answer, _ := postWith(t, anonymous, k8sURL, k8sBatch, bearer(adminToken)); status != 202 {
		t.Errorf("token over TLS without a certificate: %d %v, want 202", status, answer)
	}
	// A wrong token is not rescued by a valid certificate.
	if status, _, _ := postWith(t, apiserver, k8sURL, k8sBatch, bearer("abt_wrong")); status != 401 {
		t.Errorf("valid certificate with a wrong token: %d, want 401", status)
	}
	if got := streamMsgs(t, s); got != stored {
		t.Errorf("refused requests stored events: %d, want %d", got, stored)
	}
}

// certClient presents a certificate issuer made for subject.
func certClient(t testing.TB, serverCA, issuer *testCA, subject pkix.Name) *http.Client {
	certPEM, keyPEM := issuer.issue(t, subject, false)
	return tlsClient(t, serverCA, certPEM, keyPEM)
}

// TestTLSCertificateReload: replacing the key pair on disk changes the
// certificate new connections get, without a restart.
func TestTLSCertificateReload(t *testing.T) {
	serverCA := newTestCA(t, "server CA")
	dir := t.TempDir()
	certPEM, keyPEM := serverCA.issue(t, pkix.Name{CommonName: "first"}, true)
	certFile := writeFile(t, filepath.Join(dir, "tls.crt"), certPEM)
	keyFile := writeFile(t, filepath.Join(dir, "tls.key"), keyPEM)
	s := start(t, t.TempDir(), func(c *router.Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile })
	servedCN := func() string {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(serverCA.pem)
		conn, err := tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: pool})
		if err != nil {
			return "dial: " + err.Error()
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if cn := servedCN(); cn != "first" {
		t.Fatalf("served %q, want first", cn)
	}
	certPEM, keyPEM = serverCA.issue(t, pkix.Name{CommonName: "second"}, true)
	later := time.Now().Add(2 * time.Second) // a new modification time, whatever the clock's resolution
	writeFile(t, keyFile, keyPEM)
	writeFile(t, certFile, certPEM)
	os.Chtimes(keyFile, later, later)
	os.Chtimes(certFile, later, later)
	waitFor(t, "the new certificate served", func() (bool, string) {
		cn := servedCN()
		return cn == "second", cn
	})
	// A broken pair keeps the good one in use.
	writeFile(t, certFile, []byte("not a certificate"))
	later = later.Add(2 * time.Second)
	os.Chtimes(certFile, later, later)
	time.Sleep(1100 * time.Millisecond) // past the once-a-second check
	if cn := servedCN(); cn != "second" {
		t.Errorf("after a broken renewal: served %q, want second", cn)
	}
}

// TestHeaderLimit: headers beyond --max-header-bytes are refused (431)
// before any handler runs.
func TestHeaderLimit(t *testing.T) {
	s := start(t, t.TempDir(), func(c *router.Config) { c.MaxHeaderBytes = 4 << 10 })
	req, _ := http.NewRequest("GET", "http://"+s.Addr()+"/healthz", nil)
	req.Header.Set("X-Padding", string(bytes.Repeat([]byte("a"), 16<<10)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB of headers with a 4 KiB limit: %d, want 431", resp.StatusCode)
	}
}
