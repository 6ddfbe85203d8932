package check

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// probes are a container's HTTP probes: kind to scheme and path.
func probes(c map[string]any) map[string][2]string {
	out := map[string][2]string{}
	for _, kind := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
		if g := asMap(at(c, kind+".httpGet")); g != nil {
			out[kind] = [2]string{strings.ToLower(cmp.Or(str(g["scheme"]), "HTTP")), str(g["path"])}
		}
	}
	return out
}

// get answers whether GET base+path is 200, as the kubelet asks: no
// certificate verification.
func get(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(url)
	if err != nil {
		t.Errorf("probe %s: %v", url, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("probe %s: %s, want 200", url, resp.Status)
	}
}

// TestNATSProbes: the NATS container's probe paths answer 200 on a real
// nats-server configured as node 0 (the rendered config and args), alone:
// on loopback, without routes, its store in a temp dir.
func TestNATSProbes(t *testing.T) {
	objs := render(t)
	opts, w := natsNode(t, objs, 0, t.TempDir())
	opts.Host, opts.Port, opts.HTTPHost, opts.HTTPPort = "127.0.0.1", server.RANDOM_PORT, "127.0.0.1", server.RANDOM_PORT
	opts.Routes, opts.Cluster, opts.StoreDir, opts.NoSigs, opts.NoLog = nil, server.ClusterOpts{}, t.TempDir(), true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	ps := probes(w.containers[0])
	if len(ps) < 2 {
		t.Fatalf("NATS probes %v: want readiness and liveness", ps)
	}
	for _, p := range ps {
		get(t, fmt.Sprintf("%s://%s%s", p[0], ns.MonitorAddr(), p[1]))
	}
}

// TestAuditbusProbes: the auditbus container's probe paths answer 200,
// over its probes' scheme and without an identity, on a real `auditbus
// serve` run from the rendered Deployment's args: with its auth file, TLS
// pair, signing pair, nkey and rules (startDeployedAuditbus).
func TestAuditbusProbes(t *testing.T) {
	objs := render(t)
	ab := workloads([]object{only(t, objs, "Deployment", "auditbus")})[0]
	ps := probes(ab.containers[0])
	if ps["readinessProbe"][1] == "" || ps["livenessProbe"][1] == "" || ps["startupProbe"][1] == "" {
		t.Fatalf("auditbus probes %v: want startup, readiness and liveness", ps)
	}
	// A first start waits for a NATS quorum: liveness must not end it.
	if start, live := probeWindow(ab.containers[0], "startupProbe"), probeWindow(ab.containers[0], "livenessProbe"); start <= live {
		t.Errorf("auditbus startup probe allows %v, no more than liveness's %v: a slow first start is killed", start, live)
	}
	args := strs(ab.containers[0]["args"])
	if !slices.Contains(args, "--auth-file") {
		t.Fatalf("auditbus args %q: no --auth-file, yet every endpoint but the probes needs an identity", args)
	}
	p := startDeployedAuditbus(t, objs, args)
	for kind, pr := range ps {
		if pr[0] != "https" {
			t.Errorf("%s %v: auditbus serves TLS only, want HTTPS", kind, pr)
		}
		get(t, fmt.Sprintf("%s://%s%s", pr[0], p.addr, pr[1]))
	}
	// The probes answer without an identity; the API does not.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get("https://" + p.addr + "/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/rules without an identity: %s, want 401: auth is not on", resp.Status)
	}
}

// probeWindow is how long a probe of kind may fail before the kubelet
// acts: periodSeconds (default 10) times failureThreshold (default 3).
func probeWindow(c map[string]any, kind string) time.Duration {
	p := asMap(c[kind])
	period, threshold := 10.0, 3.0
	if v, ok := p["periodSeconds"].(float64); ok {
		period = v
	}
	if v, ok := p["failureThreshold"].(float64); ok {
		threshold = v
	}
	return time.Duration(period*threshold) * time.Second
}

func newECDSAKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// tlsPEM is a self-signed certificate for key and the key, PEM-encoded.
func tlsPEM(t *testing.T, key crypto.Signer) (certPEM, keyPEM []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "auditbus"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}
