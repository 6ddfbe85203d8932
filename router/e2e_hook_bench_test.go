package router_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
)

// The webhook receiver of the throughput benchmarks runs in a child
// process (this test binary again, see serveChildHook), so that its CPU is
// not counted as auditbus's: the process's CPU is then ingest, JetStream,
// the router and its HTTP client (and the benchmark's own ingest
// senders), and the child's is added back for the figure that counts the
// whole machine. The child counts deliveries in a shared memory-mapped
// file, so waiting for them costs the parent no requests.

// childHookEnv names the counter file; set, the test binary is the
// receiver and nothing else.
const childHookEnv = "AUDITBUS_BENCH_HOOK_FILE"

// serveChildHook makes this process the receiver when childHookEnv is
// set: it prints its URL, counts every request in the file, and exits when
// its standard input closes (the parent ended). Otherwise it returns.
func serveChildHook() {
	path := os.Getenv(childHookEnv)
	if path == "" {
		return
	}
	n, err := mapCounter(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
	}))
	os.Exit(0)
}

// mapCounter maps the first 8 bytes of path (created by the parent) as a
// shared counter.
func mapCounter(path string) (*atomic.Int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mem, err := syscall.Mmap(int(f.Fd()), 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", path, err)
	}
	return (*atomic.Int64)(unsafe.Pointer(&mem[0])), nil
}

// childHook is the receiver in its child process, as the parent sees it.
type childHook struct {
	URL string
	got *atomic.Int64
	pid int
}

func startChildHook(b *testing.B) *childHook {
	path := filepath.Join(b.TempDir(), "hook.count")
	if err := os.WriteFile(path, make([]byte, 8), 0o600); err != nil {
		b.Fatal(err)
	}
	got, err := mapCounter(path)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childHookEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("receiver: %v", err)
	}
	return &childHook{URL: strings.TrimSpace(url), got: got, pid: cmd.Process.Pid}
}

// cpu is the CPU time the receiver used so far (Linux: the scheduler's
// own count, in nanoseconds, summed over the threads in
// /proc/PID/task/*/schedstat; threads that ended are not counted, and the
// Go runtime keeps its threads).
func (h *childHook) cpu(b *testing.B) time.Duration {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", h.pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("receiver's CPU time: no /proc/%d/task (%v)", h.pid, err)
	}
	var sum time.Duration
	for _, t := range tasks {
		raw, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that just ended
		}
		ns, err := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		if err != nil {
			b.Fatalf("receiver's CPU time: %s: %v", t, err)
		}
		sum += time.Duration(ns)
	}
	return sum
}

// queuedCount is how many messages the deliveries stream ever stored:
// deliveries that did not go straight from the fan-out (queued, parked,
// scheduled for a retry).
func queuedCount(b *testing.B, s *router.Server) uint64 {
	js, err := jetstream.New(s.NATS())
	if err != nil {
		b.Fatal(err)
	}
	st, err := js.Stream(context.Background(), bus.DeliveriesStream)
	if err != nil {
		b.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return info.State.LastSeq
}
