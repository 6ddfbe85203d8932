package check

import (
	"cmp"
	"context"
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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
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

// TestAuditbusProbes: the auditbus container's probe paths answer 200
// over its probes' scheme on a real auditbus serving TLS with the rules of
// the rendered ConfigMap (embedded NATS: the probes do not depend on
// which).
func TestAuditbusProbes(t *testing.T) {
	objs := render(t)
	ab := workloads([]object{only(t, objs, "Deployment", "auditbus")})[0]
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	os.Mkdir(rules, 0o755)
	for _, cm := range kinds(objs, "ConfigMap") {
		if strings.HasPrefix(cm.Name, "auditbus-rules-") {
			for k, v := range asMap(cm.Map["data"]) {
				os.WriteFile(filepath.Join(rules, k), []byte(str(v)), 0o644)
			}
		}
	}
	cert, key := tlsPair(t, dir)
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"),
		NATSListen: "-", Rules: []string{rules}, TLSCertFile: cert, TLSKeyFile: key, Log: zerolog.Nop()})
	if err != nil {
		t.Fatalf("auditbus with the ConfigMap's rules: %v", err)
	}
	defer srv.Stop(context.Background())
	ps := probes(ab.containers[0])
	if ps["readinessProbe"][1] == "" || ps["livenessProbe"][1] == "" {
		t.Fatalf("auditbus probes %v: want readiness and liveness", ps)
	}
	for _, p := range ps {
		if p[0] != "https" {
			t.Errorf("probe %v: auditbus serves TLS only, want HTTPS", p)
		}
		get(t, fmt.Sprintf("%s://%s%s", p[0], srv.Addr(), p[1]))
	}
}

func tlsPair(t *testing.T, dir string) (certFile, keyFile string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "auditbus"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600)
	return certFile, keyFile
}
