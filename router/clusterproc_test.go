package router_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/auditbus/auditbus/router/bus"
)

// buildBinary builds the main package pkg into dir and returns its path;
// with -race like the test itself, so the build reuses cached packages.
func buildBinary(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, pkg)...).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// proc is a process the test starts, kills with SIGKILL and starts again
// with the same command line; its output is kept and shown when the test
// fails. Cleanup kills it.
type proc struct {
	name string
	bin  string
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
	out  *syncBuffer
	run  *procRun
}

// procRun is one run of a proc: err is how it ended, set before done is
// closed.
type procRun struct {
	done chan struct{}
	err  error
}

func newProc(t *testing.T, name, bin string, args ...string) *proc {
	p := &proc{name: name, bin: bin, args: args, out: &syncBuffer{}}
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			out := p.out.String()
			t.Logf("%s output (last 6000 bytes):\n%s", p.name, out[max(0, len(out)-6000):])
		}
	})
	return p
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "--- start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	run := &procRun{done: make(chan struct{})}
	go func() { run.err = cmd.Wait(); close(run.done) }()
	p.cmd, p.run = cmd, run
}

// exited is nil while the process started last runs (or none runs since
// kill), else how it ended with the end of its output. Ports are
// chosen by freePort, closed, then bound by the child (and bound again by
// a restart, which needs the same address), so another process may take
// one meanwhile: that bind error is named, not left to a readiness
// timeout.
func (p *proc) exited() error {
	p.mu.Lock()
	run := p.run
	p.mu.Unlock()
	if run == nil {
		return nil
	}
	select {
	case <-run.done:
	default:
		return nil
	}
	err := run.err
	out := p.out.String()
	out = out[max(0, len(out)-3000):]
	if strings.Contains(out, "address already in use") {
		return fmt.Errorf("%s exited (%v): its port was taken by another process after the test chose it; output:\n%s", p.name, err, out)
	}
	return fmt.Errorf("%s exited (%v); output:\n%s", p.name, err, out)
}

// waitRunning is waitWithin that fails at once, with the process's
// output, when one of procs exits meanwhile.
func waitRunning(t *testing.T, d time.Duration, what string, procs []*proc, cond func() (bool, string)) {
	t.Helper()
	waitWithin(t, d, what, func() (bool, string) {
		for _, p := range procs {
			if err := p.exited(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		return cond()
	})
}

// kill sends SIGKILL (no shutdown code runs) and waits for the exit.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	select {
	case <-p.run.done:
	default:
		if err := p.cmd.Process.Kill(); err != nil {
			t.Errorf("kill %s: %v", p.name, err)
		}
		<-p.run.done
	}
	fmt.Fprintf(p.out, "--- killed %s\n", time.Now().Format(time.RFC3339Nano))
	p.cmd, p.run = nil, nil
}

// natsNode is one nats-server process of a loopback cluster.
type natsNode struct {
	*proc
	url string
}

// clusterAccess is the auditbus nkey user the cluster config admits, for
// auditbus (the seed file) and the test's own client.
type clusterAccess struct {
	public   string
	seedFile string
}

func newClusterAccess(t *testing.T) clusterAccess {
	t.Helper()
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	return clusterAccess{public: pub, seedFile: writeFile(t, filepath.Join(t.TempDir(), "auditbus.nk"), seed)}
}

// connect signs in to urls as auditbus, whose permissions in the shipped
// config allow only its own reply inbox. It returns at once and keeps
// trying while no server listens yet.
func (a clusterAccess) connect(t *testing.T, urls string) *nats.Conn {
	t.Helper()
	o, err := nats.NkeyOptionFromSeed(a.seedFile)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(urls, o, nats.CustomInboxPrefix(bus.InternalInboxPrefix), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		t.Fatalf("connect to the cluster: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// startNATSProcesses runs three nats-server processes on loopback, each
// with the shipped deploy/nats-cluster.conf made local: its own name,
// ports and store dir, routes to the others, and access's key in place
// of the config's. Durability, JetStream and permission settings stay as
// shipped. It returns once JetStream answers through the cluster.
func startNATSProcesses(t *testing.T, bin string, access clusterAccess) []*natsNode {
	t.Helper()
	shipped, err := os.ReadFile("../deploy/nats-cluster.conf")
	if err != nil {
		t.Fatal(err)
	}
	client := []int{freePort(t), freePort(t), freePort(t)}
	cluster := []int{freePort(t), freePort(t), freePort(t)}
	var routes []string
	for _, p := range cluster {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	var nodes []*natsNode
	var procs []*proc
	var urls []string
	for i := range 3 {
		name := fmt.Sprintf("n%d", i+1)
		conf := localClusterConf(t, string(shipped), name, client[i], cluster[i], t.TempDir(), routes, access.public)
		path := writeFile(t, filepath.Join(t.TempDir(), name+".conf"), []byte(conf))
		n := &natsNode{proc: newProc(t, "nats-server "+name, bin, "-c", path), url: fmt.Sprintf("nats://127.0.0.1:%d", client[i])}
		n.start(t)
		nodes, procs, urls = append(nodes, n), append(procs, n.proc), append(urls, n.url)
	}
	js, _ := jetstream.New(access.connect(t, strings.Join(urls, ",")))
	waitRunning(t, 60*time.Second, "JetStream on the cluster", procs, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err == nil, fmt.Sprint(err)
	})
	return nodes
}

// localClusterConf rewrites the shipped cluster config for one loopback
// node; each replacement must find its line, so a change to the shipped
// file that the test would silently not apply fails here instead.
func localClusterConf(t *testing.T, conf, name string, port, clusterPort int, storeDir string, routes []string, nkey string) string {
	t.Helper()
	for _, r := range []struct{ pattern, with string }{
		{`(?m)^server_name: \S+$`, "server_name: " + name},
		{`(?m)^listen: \S+$`, fmt.Sprintf("listen: 127.0.0.1:%d", port)},
		{`(?m)^(\s+)store_dir: \S+$`, fmt.Sprintf("${1}store_dir: %q", storeDir)},
		{`(?m)^(\s+)nkey: U[A-Z0-9]+$`, "${1}nkey: " + nkey},
		{`(?m)^(\s+)listen: 0\.0\.0\.0:6222$`, fmt.Sprintf("${1}listen: 127.0.0.1:%d", clusterPort)},
		{`(?s)routes: \[[^\]]*\]`, "routes: [" + strings.Join(routes, ", ") + "]"},
	} {
		re := regexp.MustCompile(r.pattern)
		if n := len(re.FindAllStringIndex(conf, -1)); n != 1 {
			t.Fatalf("deploy/nats-cluster.conf: %d matches of %s, want 1", n, r.pattern)
		}
		conf = re.ReplaceAllString(conf, r.with)
	}
	return conf
}

// serveProc is one `auditbus serve` process on a fixed address.
type serveProc struct {
	*proc
	addr string
}

func newServeProc(t *testing.T, name, bin string, args ...string) *serveProc {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args = append([]string{"serve", "--listen", addr, "--data-dir", t.TempDir()}, args...)
	return &serveProc{proc: newProc(t, name, bin, args...), addr: addr}
}

// probeClient bounds each readiness probe, so a process that accepts
// connections but never answers fails the wait instead of hanging it.
var probeClient = &http.Client{Timeout: 5 * time.Second}

// ready reports whether /readyz answers 200.
func (s *serveProc) ready() (bool, string) {
	resp, err := probeClient.Get("http://" + s.addr + "/readyz")
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode == http.StatusOK, fmt.Sprintf("%d %s", resp.StatusCode, b.String())
}

// startReady starts the process and waits until /readyz answers 200; it
// fails at once when the process exits first (a port taken meanwhile).
func (s *serveProc) startReady(t *testing.T) {
	t.Helper()
	s.start(t)
	waitRunning(t, 60*time.Second, s.name+" ready", []*proc{s.proc}, s.ready)
}
