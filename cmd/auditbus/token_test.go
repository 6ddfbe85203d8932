package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
)

// TestTokenCreateEntryWorks: the entry `token create` prints, put in an
// auth file, lets the printed token publish through the CLI, and nothing
// else works without it.
func TestTokenCreateEntryWorks(t *testing.T) {
	code, out, errOut := cli(t, context.Background(), "token", "create", "--name", "shipper", "--action", "events:put", "--bus", "default")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errOut)
	}
	token := regexp.MustCompile(`(?m)^token: (abt_\S+)$`).FindStringSubmatch(out)
	entry := out[strings.Index(out, "  - name: shipper"):]
	if token == nil || !strings.Contains(entry, `actions: ["events:put"]`) || !strings.Contains(entry, `buses: ["default"]`) {
		t.Fatalf("output:\n%s", out)
	}
	authFile := filepath.Join(t.TempDir(), "auth.yaml")
	if err := os.WriteFile(authFile, []byte("identities:\n"+entry), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		AuthFile: authFile, Log: zerolog.Nop(), Stdout: &bytes.Buffer{}, AuthFailureRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	url := "http://" + srv.Addr()
	publish := []string{"publish", "--url", url, "--file", "../../examples/events/tke-delete-cluster.json"}

	t.Setenv("AUDITBUS_TOKEN", "")
	if code, _, errOut := cli(t, context.Background(), publish...); code != 1 || !strings.Contains(errOut, "AB.4010") {
		t.Errorf("publish without a token: exit %d: %s", code, errOut)
	}
	t.Setenv("AUDITBUS_TOKEN", token[1])
	if code, out, errOut := cli(t, context.Background(), publish...); code != 0 || !strings.Contains(out, "1 new") {
		t.Errorf("publish with the token: exit %d: %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, context.Background(), "dlq", "list", "--url", url); code != 1 || !strings.Contains(errOut, `"dlq:read"`) {
		t.Errorf("dlq list with an events:put token: exit %d: %s", code, errOut)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(token[1]+"\n"), 0o600)
	t.Setenv("AUDITBUS_TOKEN", "")
	if code, out, errOut := cli(t, context.Background(), append(publish, "--token-file", tokenFile)...); code != 0 {
		t.Errorf("publish with --token-file: exit %d: %s %s", code, out, errOut)
	}
}

func TestTokenCreateRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token"}, 2, "missing subcommand (want create)"},
		{[]string{"token", "create", "--name", "x"}, 2, "at least one --action"},
		{[]string{"token", "create", "--name", "x", "--action", "rules:red"}, 1, `unknown action "rules:red"`},
		{[]string{"token", "create", "--name", "x", "--action", "*", "--bus", "Prod"}, 1, `bus "Prod"`},
	} {
		code, _, errOut := cli(t, context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	code, out, _ := cli(t, context.Background(), "token", "create", "--name", "sdk", "--action", "cts:*", "--access-key")
	if code != 0 || !regexp.MustCompile(`access key: [A-Z0-9]{20}\nsecret key: [A-Za-z0-9]{40}\n`).MatchString(out) || !strings.Contains(out, "secret_file: sdk.sk") {
		t.Errorf("--access-key: exit %d:\n%s", code, out)
	}
}

// TestClientOverTLS: publish and dlq reach an https server they trust
// through --ca-cert (AUDITBUS_CA_CERT), and refuse one they do not.
func TestClientOverTLS(t *testing.T) {
	// httptest's certificate is for 127.0.0.1; serve auditbus with it.
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	ts.Close()
	dir := t.TempDir()
	leaf := ts.TLS.Certificates[0]
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		TLSCertFile: certFile, TLSKeyFile: keyFile, Log: zerolog.Nop(), Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	url := "https://" + srv.Addr()
	publish := []string{"publish", "--url", url, "--file", "../../examples/events/tke-delete-cluster.json"}
	if code, _, errOut := cli(t, context.Background(), publish...); code != 1 || !strings.Contains(errOut, "certificate") {
		t.Errorf("publish to an untrusted server: exit %d: %s", code, errOut)
	}
	if code, out, errOut := cli(t, context.Background(), append(publish, "--ca-cert", certFile)...); code != 0 || !strings.Contains(out, "1 new") {
		t.Errorf("publish with --ca-cert: exit %d: %s %s", code, out, errOut)
	}
	t.Setenv("AUDITBUS_CA_CERT", certFile)
	if code, _, errOut := cli(t, context.Background(), "dlq", "list", "--url", url); code != 0 {
		t.Errorf("dlq list with AUDITBUS_CA_CERT: exit %d: %s", code, errOut)
	}
}
