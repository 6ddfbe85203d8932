package check

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/auditbus/auditbus/router/auth"
)

// auditbusProc is `auditbus serve` run from the rendered Deployment's
// args, as its pod would run it (auth file, TLS pair, signing pair, nkey,
// the rules ConfigMap) with these local changes only: --listen on a
// loopback port, every absolute path under a temp dir, --nats-url on a
// nats-server configured as the StatefulSet's node 0 (alone, so
// --stream-replicas 1), signing in with a fresh nkey put in that config.
type auditbusProc struct {
	addr string
	cmd  *exec.Cmd
	out  strings.Builder
	done chan struct{}
	err  error // how it exited, once done is closed
}

func startDeployedAuditbus(t *testing.T, objs []object, args []string) *auditbusProc {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "auditbus")
	if out, err := exec.Command("go", "-C", "../..", "build", "-o", bin, "./cmd/auditbus").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/auditbus: %v\n%s", err, out)
	}
	root := t.TempDir()
	natsURL, nkeyPub := "", ""
	p := &auditbusProc{addr: loopbackAddr(t), done: make(chan struct{})}
	values := flagValues(args)
	local := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--listen":
			local, i = append(local, a, p.addr), i+1
			continue
		case a == "--stream-replicas":
			local, i = append(local, a, "1"), i+1
			continue
		case a == "--nats-url":
			seed := filepath.Join(root, values["nats-nkey"])
			nkeyPub = writeNkey(t, seed)
			natsURL = startDeployedNATS(t, objs, nkeyPub)
			local, i = append(local, a, natsURL), i+1
			continue
		case filepath.IsAbs(a):
			a = filepath.Join(root, a)
		}
		local = append(local, a)
	}
	if natsURL == "" {
		t.Fatalf("Deployment args %q: no --nats-url", args)
	}
	writeFixtures(t, objs, root, values)
	p.cmd = exec.Command(bin, local...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	dieWithTest(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("auditbus %q:\n%s", local, p.out.String())
		}
	})
	p.waitReady(t)
	return p
}

// waitReady waits until /readyz answers 200, failing at once when the
// process exits first.
func (p *auditbusProc) waitReady(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-p.done:
			t.Fatalf("auditbus exited before it was ready: %v", p.err)
		default:
		}
		resp, err := client.Get("https://" + p.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("auditbus not ready within a minute: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// flagValues maps each --flag of args to the value after it.
func flagValues(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(args); i++ {
		if strings.HasPrefix(args[i], "--") && !strings.HasPrefix(args[i+1], "--") {
			out[strings.TrimPrefix(args[i], "--")] = args[i+1]
		}
	}
	return out
}

// writeFixtures makes, under root, the files the pod mounts: the rules
// ConfigMap, an auth file, a TLS pair and a signing pair, at the paths the
// flags name. A flag naming an absolute path with no fixture here fails,
// so a new mounted file is noticed.
func writeFixtures(t *testing.T, objs []object, root string, values map[string]string) {
	t.Helper()
	for name, path := range values {
		if !filepath.IsAbs(path) {
			continue
		}
		path = filepath.Join(root, path)
		switch name {
		case "data-dir", "nats-nkey", "tls-key", "signing-key":
			// made by serve, by writeNkey, or with their certificates
		case "rules":
			writeRules(t, objs, path)
		case "auth-file":
			_, hash, err := auth.NewToken()
			if err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, path, fmt.Sprintf("identities:\n  - name: kube-apiserver\n    actions: [sources:put]\n    tokens: [%q]\n", hash))
		case "tls-cert":
			cert, key := tlsPEM(t, newECDSAKey(t))
			writeTestFile(t, path, string(cert))
			writeTestFile(t, filepath.Join(root, values["tls-key"]), string(key))
		case "signing-cert":
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			cert, keyPEM := tlsPEM(t, key)
			writeTestFile(t, path, string(cert))
			writeTestFile(t, filepath.Join(root, values["signing-key"]), string(keyPEM))
		default:
			t.Fatalf("--%s %s: no fixture for this flag; add one", name, path)
		}
	}
}

// writeRules writes the rules ConfigMap's files into dir.
func writeRules(t *testing.T, objs []object, dir string) {
	t.Helper()
	n := 0
	for _, cm := range kinds(objs, "ConfigMap") {
		if strings.HasPrefix(cm.Name, "auditbus-rules-") {
			for k, v := range asMap(cm.Map["data"]) {
				writeTestFile(t, filepath.Join(dir, k), str(v))
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no auditbus-rules ConfigMap with files")
	}
}

// writeNkey writes a new user nkey seed to path and returns its public key.
func writeNkey(t *testing.T, path string) string {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, path, string(seed))
	return pub
}

// startDeployedNATS runs node 0 of the rendered StatefulSet alone on
// loopback, its nkey user's key replaced by nkey, and returns its URL.
func startDeployedNATS(t *testing.T, objs []object, nkey string) string {
	t.Helper()
	opts, _ := natsNode(t, objs, 0, t.TempDir())
	if len(opts.Nkeys) != 1 {
		t.Fatalf("NATS config has %d nkey users, want auditbus's only", len(opts.Nkeys))
	}
	opts.Nkeys[0].Nkey = nkey
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", server.RANDOM_PORT, 0
	opts.Routes, opts.Cluster, opts.StoreDir, opts.NoSigs, opts.NoLog = nil, server.ClusterOpts{}, t.TempDir(), true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return ns.ClientURL()
}

func loopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
