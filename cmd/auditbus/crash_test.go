package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestCrashSafetyWithRealProcesses builds the binary, runs `auditbus
// serve` on a temp data dir, sends a few thousand events, kills it with
// SIGKILL while it delivers, and starts it again on the same data dir:
// every event the API accepted reaches the webhook at least once.
// Duplicates are expected (at-least-once) and only reported.
func TestCrashSafetyWithRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildAuditbus(t)
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // slow enough to be killed mid-delivery
		mu.Lock()
		seen[r.Header.Get("Ce-Id")]++
		mu.Unlock()
	}))
	defer hook.Close()
	received := func() (distinct, total int) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range seen {
			distinct, total = distinct+1, total+n
		}
		return distinct, total
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	rule := fmt.Sprintf("name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n  - id: hook\n    webhook: {url: %q}\n", hook.URL)
	if err := os.WriteFile(rules, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}

	first, addr := serveProcess(t, bin, dir, rules)
	const n = 3000
	for i := 0; i < n; i += 100 {
		var batch []map[string]any
		for j := i; j < i+100; j++ {
			batch = append(batch, map[string]any{"specversion": "1.0", "id": fmt.Sprint("crash-", j),
				"source": "tke.cloud.tencent", "type": "tke:CloudEvent:ApiCall", "datacontenttype": "application/json",
				"data": map[string]any{"eventName": "DeleteCluster"}})
		}
		body, _ := json.Marshal(batch)
		resp, err := http.Post("http://"+addr+"/v1/events", "application/cloudevents-batch+json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("post batch %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}
	waitUntil(t, "deliveries under way", func() bool { d, _ := received(); return d >= n/10 })
	if err := first.Process.Kill(); err != nil { // SIGKILL: no shutdown code runs
		t.Fatal(err)
	}
	_ = first.Wait()
	atKill, _ := received()
	t.Logf("killed after %d of %d events delivered", atKill, n)
	if atKill == n {
		t.Fatalf("every event was delivered before the kill; the test proves nothing")
	}

	serveProcess(t, bin, dir, rules)
	waitUntil(t, "every accepted event delivered", func() bool { d, _ := received(); return d == n })
	d, total := received()
	t.Logf("delivered %d distinct events, %d duplicates", d, total-d)
}

// buildAuditbus builds this command into a temp dir and returns its path.
func buildAuditbus(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "auditbus")
	args := []string{"build", "-o", bin}
	if raceEnabled { // reuse the packages this test binary was built from
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProcess starts `auditbus serve` on dataDir, with extra flags after
// the usual ones, and waits until it is ready; the process is killed at
// cleanup if still running.
func serveProcess(t *testing.T, bin, dataDir, rules string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	args := append([]string{"serve", "--listen", addr, "--data-dir", dataDir, "--nats-listen", "-",
		"--rules", rules, "--allow-private-targets", "--ack-wait", "2s", "--log-format", "json", "--log-level", "warn"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("auditbus serve output:\n%s", logs.String())
		}
	})
	waitUntil(t, "server ready", func() bool {
		resp, err := probeClient.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return cmd, addr
}

// postBatches posts batches of size events (ids prefix0, prefix1, …) to
// addr until done is closed or a request is not answered 202, sending the
// ids of each accepted batch on the channel it returns; the channel is
// closed when posting stops.
func postBatches(addr, prefix string, size int, done <-chan struct{}) <-chan []string {
	batches := make(chan []string)
	go func() {
		defer close(batches)
		for i := 0; ; i += size {
			select {
			case <-done:
				return
			default:
			}
			var batch []map[string]any
			var ids []string
			for j := i; j < i+size; j++ {
				id := fmt.Sprint(prefix, j)
				ids = append(ids, id)
				batch = append(batch, map[string]any{"specversion": "1.0", "id": id, "source": "tke.cloud.tencent",
					"type": "tke:CloudEvent:ApiCall", "principal": "alice", "datacontenttype": "application/json",
					"data": map[string]any{"eventName": "DeleteCluster"}})
			}
			body, _ := json.Marshal(batch)
			resp, err := http.Post("http://"+addr+"/v1/events", "application/cloudevents-batch+json", bytes.NewReader(body))
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				return
			}
			batches <- ids
		}
	}()
	return batches
}

// waitUntil polls cond every 20ms, failing the test after 60s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
