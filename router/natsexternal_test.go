package router_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/bus/bustest"
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
	return runNATS(t, opts)
}

// runNATS starts a NATS server with opts, stopping it with the test.
func runNATS(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
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
	ca := newTestCA(t, "test CA")
	caFile := writeFile(t, filepath.Join(dir, "ca.pem"), ca.pem)
	serverCert, err := tls.X509KeyPair(ca.issue(t, pkix.Name{CommonName: "nats-server"}, true))
	if err != nil {
		t.Fatal(err)
	}
	clientPEM, clientKeyPEM := ca.issue(t, pkix.Name{CommonName: "auditbus"}, false)
	clientCertFile := writeFile(t, filepath.Join(dir, "client.pem"), clientPEM)
	clientKeyFile := writeFile(t, filepath.Join(dir, "client-key.pem"), clientKeyPEM)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
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

// TestEventsStreamGainsTheConsumerBound: an events stream made before the
// bound existed is updated to it at start, not refused.
func TestEventsStreamGainsTheConsumerBound(t *testing.T) {
	external := bustest.Start(t, "")
	ctx := context.Background()
	if _, err := external.JS.CreateStream(ctx, jetstream.StreamConfig{Name: bus.StreamName, Subjects: []string{bus.SubjectPrefix + ".>"}}); err != nil {
		t.Fatal(err)
	}
	start(t, t.TempDir(), func(c *router.Config) { c.NATSURL = external.NS.ClientURL() })
	st, err := external.JS.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().Config.MaxConsumers; got != bus.DefaultMaxConsumers {
		t.Errorf("max consumers %d, want %d", got, bus.DefaultMaxConsumers)
	}
}
