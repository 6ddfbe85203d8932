package kubernetes

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// buildAuditbus builds cmd/auditbus from the repository this module
// replaces auditbus with (so from the code under test, with its own
// go.mod) and returns the binary's path.
func buildAuditbus(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "auditbus")
	if out, err := exec.Command("go", "-C", "../../..", "build", "-o", bin, "./cmd/auditbus").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/auditbus: %v\n%s", err, out)
	}
	return bin
}

// process is `auditbus serve` run as its own process from a fixture:
// the fixture's TLS, client CA, auth file and data directory.
type process struct {
	cmd    *exec.Cmd
	addr   string        // host:port of the API
	log    string        // the file its output goes to
	exited chan struct{} // closed once the process ended and was waited for
	err    error         // how it ended, once exited is closed
}

// startProcess runs bin serve on listen ("127.0.0.1:0" for a free port,
// or a killed process's address to take its place) and waits until its
// /readyz answers 200. A process still running at cleanup is killed.
func (f *fixture) startProcess(t *testing.T, bin, listen string) *process {
	t.Helper()
	if listen == "127.0.0.1:0" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			t.Fatal(err)
		}
		listen = ln.Addr().String()
		ln.Close()
	}
	p := &process{addr: listen, log: filepath.Join(t.TempDir(), "auditbus.log"), exited: make(chan struct{})}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own copy
	p.cmd = exec.Command(bin, "serve", "--listen", listen, "--data-dir", f.dataDir, "--nats-listen", "-",
		"--tls-cert", f.serverCert.cert, "--tls-key", f.serverCert.key, "--tls-client-ca", f.clientCA.file,
		"--auth-file", f.authFile, "--auth-failure-rate", "-1", "--log-format", "json", "--log-level", "warn")
	p.cmd.Stdout, p.cmd.Stderr = out, out
	dieWithTest(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		defer close(p.exited)
		p.err = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			logs, _ := os.ReadFile(p.log)
			t.Logf("auditbus serve on %s:\n%s", p.addr, logs)
		}
	})
	c := f.client()
	defer c.CloseIdleConnections()
	waitUntil(t, time.Minute, "auditbus serve to be ready", func() bool {
		select {
		case <-p.exited:
			t.Fatalf("auditbus serve exited: %v", p.err)
		default:
		}
		resp, err := c.Get(p.base() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// base is the process's API as a kubeconfig names it.
func (p *process) base() string { return "https://" + p.addr }

// kill ends the process with SIGKILL, so no shutdown code runs: what it
// had not written to its store is gone, as in a crash or an OOM kill.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill auditbus: %v", err)
	}
	<-p.exited
}

// stop ends the process with SIGTERM and fails the test unless it exits
// cleanly, releasing its data directory.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop auditbus: %v", err)
	}
	waitFor(t, p.exited, time.Minute, "auditbus serve to exit after SIGTERM")
	if p.err != nil {
		t.Errorf("auditbus serve exited after SIGTERM: %v", p.err)
	}
}

// client trusts the fixture's server CA and presents no certificate.
func (f *fixture) client() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(f.serverCA.cert)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}
