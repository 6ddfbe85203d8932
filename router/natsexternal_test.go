package router_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
)

// startExternal runs a separate NATS server with JetStream that knows a
// password user and an nkey user, optionally requiring TLS.
func startExternal(t *testing.T, password, nkeyPub string, tlsCfg *tls.Config) *server.Server {
	t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true,
		Users: []*server.User{{Username: "auditbus", Password: password}},
		Nkeys: []*server.NkeyUser{{Nkey: nkeyPub}}}
	if tlsCfg != nil {
		opts.TLSConfig, opts.TLS, opts.TLSVerify = tlsCfg, true, tlsCfg.ClientAuth == tls.RequireAndVerifyClientCert
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("external NATS not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

func TestExternalNATSCredentials(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	dir := t.TempDir()
	seedFile, pwFile, wrongFile := filepath.Join(dir, "user.nk"), filepath.Join(dir, "pw"), filepath.Join(dir, "wrong")
	writeFile(t, seedFile, append(seed, '\n'))
	writeFile(t, pwFile, []byte("s3cret\n"))
	writeFile(t, wrongFile, []byte("guess\n"))
	ns := startExternal(t, "s3cret", pub, nil)

	for _, tc := range []struct {
		name string
		auth bus.ClientAuth
		ok   bool
	}{
		{"password file", bus.ClientAuth{User: "auditbus", PasswordFile: pwFile}, true},
		{"password from the environment", bus.ClientAuth{User: "auditbus", Password: "s3cret"}, true},
		{"nkey seed file", bus.ClientAuth{NkeySeedFile: seedFile}, true},
		{"wrong password", bus.ClientAuth{User: "auditbus", PasswordFile: wrongFile}, false},
		{"no credentials", bus.ClientAuth{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSURL: ns.ClientURL(), NATSAuth: tc.auth}
			srv, err := router.Start(context.Background(), cfg)
			if !tc.ok {
				if err == nil {
					srv.Stop(context.Background())
					t.Fatal("started without valid credentials")
				}
				if !errors.Is(err, nats.ErrAuthorization) {
					t.Fatalf("error %v, want %v", err, nats.ErrAuthorization)
				}
				return
			}
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			defer srv.Stop(context.Background())
			if !srv.NATS().IsConnected() || srv.NATSClientURL() != "" {
				t.Fatalf("connected %v, client URL %q", srv.NATS().IsConnected(), srv.NATSClientURL())
			}
			if _, err := os.Stat(filepath.Join(cfg.DataDir, "nats")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("an external server needs no internal seed: %v", err)
			}
		})
	}
}

func TestExternalNATSOverTLSWithClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t)
	caFile := writePEM(t, dir, "ca.pem", "CERTIFICATE", ca.Raw)
	serverCert := issue(t, ca, caKey, "nats-server", dir, "server", x509.ExtKeyUsageServerAuth)
	clientCertFile, clientKeyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	issue(t, ca, caKey, "auditbus", dir, "client", x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	ns := startExternal(t, "s3cret", pub, &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	pwFile := filepath.Join(dir, "pw")
	writeFile(t, pwFile, []byte("s3cret"))
	auth := bus.ClientAuth{User: "auditbus", PasswordFile: pwFile, CAFile: caFile, CertFile: clientCertFile, KeyFile: clientKeyFile}
	url := strings.Replace(ns.ClientURL(), "nats://", "tls://", 1)

	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSURL: url, NATSAuth: auth})
	if err != nil {
		t.Fatalf("start over TLS: %v", err)
	}
	if !srv.NATS().IsConnected() || !srv.NATS().TLSRequired() {
		t.Fatalf("connected %v, TLS %v", srv.NATS().IsConnected(), srv.NATS().TLSRequired())
	}
	srv.Stop(context.Background())

	noCert := auth
	noCert.CertFile, noCert.KeyFile = "", ""
	if srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSURL: url, NATSAuth: noCert}); err == nil {
		srv.Stop(context.Background())
		t.Fatal("started without the client certificate the server requires")
	}
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// issue signs a certificate for 127.0.0.1, writes it and its key as
// <name>.pem and <name>-key.pem in dir, and returns the pair.
func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn, dir, name string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := writePEM(t, dir, name+".pem", "CERTIFICATE", der)
	keyFile := writePEM(t, dir, name+"-key.pem", "PRIVATE KEY", keyDER)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

func writePEM(t *testing.T, dir, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	writeFile(t, path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}))
	return path
}
