package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/auditbus/auditbus/internal/doccheck"
)

// TestCheckConfigRefusals: --check-config exits 1 naming the problem for
// each thing start would refuse, and leaves nothing behind (the data dir
// it is pointed at stays absent).
func TestCheckConfigRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key := ecdsaPair(t)
	certFile, keyFile := write("tls.crt", string(cert)), write("tls.key", string(key))
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	seedFile := write("ok.nk", string(seed))
	notSeed := write("bad.nk", "SUNOTASEED\n")
	badAuth := write("auth.yaml", "identities:\n  - name: x\n    actions: [\"no:such\"]\n    tokens: [\"sha256:00\"]\n")
	badRule := write("bad-rule.yaml", "name: x\npattern: {type: [\"a\"]}\ntargets:\n  - id: t\n    webhook: {}\n")
	dataFile := write("data-file", "")
	data := filepath.Join(dir, "data")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"exposed without auth", []string{"--listen", "0.0.0.0:8443"}, "beyond loopback without auth"},
		{"half a TLS pair", []string{"--tls-cert", certFile}, "TLS needs both --tls-cert and --tls-key"},
		{"client CA without TLS", []string{"--tls-client-ca", certFile}, "--tls-client-ca needs --tls-cert"},
		{"TLS key not matching", []string{"--tls-cert", certFile, "--tls-key", seedFile}, "tls certificate"},
		{"broken auth file", []string{"--auth-file", badAuth}, badAuth},
		{"broken rule", []string{"--rules", badRule}, "1 problem(s) in rule files"},
		{"missing rules", []string{"--rules", filepath.Join(dir, "none")}, "1 problem(s) in rule files"},
		{"nkey without --nats-url", []string{"--nats-nkey", seedFile}, "need --nats-url"},
		{"users file with --nats-url", []string{"--nats-url", "nats://127.0.0.1:4222", "--nats-users", badAuth}, "--nats-users configures the embedded"},
		{"not an nkey seed", []string{"--nats-url", "nats://127.0.0.1:4222", "--nats-nkey", notSeed}, "--nats-nkey " + notSeed},
		{"creds file not creds", []string{"--nats-url", "nats://127.0.0.1:4222", "--nats-creds", seedFile}, "--nats-creds " + seedFile},
		{"two NATS credentials", []string{"--nats-url", "nats://127.0.0.1:4222", "--nats-creds", seedFile, "--nats-nkey", seedFile}, "give one of"},
		{"replicas on the embedded server", []string{"--stream-replicas", "3"}, "needs a NATS cluster"},
		{"half a signing pair", []string{"--signing-key", keyFile}, "signing key and certificate go together"},
		{"signing key not RSA", []string{"--signing-key", keyFile, "--signing-cert", certFile}, certFile},
		{"bad public URL", []string{"--public-url", "ftp://x"}, "public URL"},
		{"data dir is a file", []string{"--data-dir", filepath.Join(dataFile, "sub")}, "not a directory"},
		{"data dir is a file itself", []string{"--data-dir", dataFile}, dataFile + " is not a directory"},
		{"bad log level", []string{"--log-level", "loud"}, "log level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--check-config", "--data-dir", data}, tc.args...)
			code, out, errOut := cli(t, context.Background(), args...)
			if code != 1 || !strings.Contains(errOut, tc.want) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 1 saying %q", code, out, errOut, tc.want)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Fatalf("the check made %s", data)
			}
		})
	}
}

// TestCheckConfigDocExample runs the --check-config example of
// deploy/README.md where it runs (a checkout without a data dir) and
// compares the output with the one the README shows.
func TestCheckConfigDocExample(t *testing.T) {
	cmd, want, _ := strings.Cut(doccheck.Read(t, "../../deploy/README.md", "TestCheckConfigDocExample"), "\n")
	root := t.TempDir()
	copyRules(t, "examples/rules", filepath.Join(root, "examples", "rules"))
	t.Chdir(root)
	code, out, errOut := cli(t, context.Background(), strings.Fields(strings.TrimPrefix(cmd, "$ auditbus "))...)
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %q\n--- got\n%s--- README shows\n%s", code, errOut, out, want)
	}
}
