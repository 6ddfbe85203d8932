package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nkeys"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// subscriberSeed writes a --nats-users file with one nkey subscriber
// user and returns the file and the user's seed file.
func subscriberSeed(t *testing.T) (users, seed string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	s, _ := kp.Seed()
	dir := t.TempDir()
	users, seed = filepath.Join(dir, "users.yaml"), filepath.Join(dir, "siem.nk")
	if err := os.WriteFile(users, []byte("users:\n  - name: siem\n    nkey: "+pub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seed, s, 0o600); err != nil {
		t.Fatal(err)
	}
	return users, seed
}

func postEvents(t *testing.T, base, bus string, evs []event.Event) {
	t.Helper()
	var b bytes.Buffer
	for i := range evs {
		raw, err := cejson.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(raw, '\n'))
	}
	parts := strings.Split(strings.TrimSpace(b.String()), "\n")
	resp, err := http.Post(base+"/v1/events?bus="+bus, "application/cloudevents-batch+json", strings.NewReader("["+strings.Join(parts, ",")+"]"))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %v %v", resp, err)
	}
	resp.Body.Close()
}

// lockedBuffer is a Buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tailProcess runs `auditbus tail` as a process and waits until it
// follows the stream; lines delivers its stdout lines.
type tailProcess struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	lines  chan string
}

func startTail(t *testing.T, bin string, args ...string) *tailProcess {
	t.Helper()
	p := &tailProcess{cmd: exec.Command(bin, append([]string{"tail"}, args...)...), stderr: &lockedBuffer{}, lines: make(chan string, 100)}
	p.cmd.Stderr = p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	dieWithTest(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // ends when the process closes its stdout
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	waitUntil(t, "tail following the stream", func() bool {
		return strings.Contains(p.stderr.String(), "following ")
	})
	return p
}

// next returns the next event line's bus and event id.
func (p *tailProcess) next(t *testing.T) (bus, id string) {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			t.Fatalf("tail ended early: %s", p.stderr.String())
		}
		var h struct {
			Bus   string `json:"bus"`
			Seq   uint64 `json:"seq"`
			Event struct {
				ID string `json:"id"`
			} `json:"event"`
		}
		if err := json.Unmarshal([]byte(line), &h); err != nil || h.Seq == 0 {
			t.Fatalf("line %q is not {bus, seq, event}: %v", line, err)
		}
		return h.Bus, h.Event.ID
	case <-time.After(60 * time.Second):
		t.Fatalf("no line from tail within 60s: %s", p.stderr.String())
	}
	return "", ""
}

// interrupt sends SIGINT and checks the process stops with exit code 0
// and says nothing on stderr beyond its start line.
func (p *tailProcess) interrupt(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range p.lines { // drain until stdout closes
	}
	err := p.cmd.Wait()
	if err != nil || strings.Count(p.stderr.String(), "\n") != 1 {
		t.Errorf("after SIGINT: %v; stderr %q", err, p.stderr.String())
	}
}

func TestTailFollowsTheBus(t *testing.T) {
	bin := buildAuditbus(t)
	users, seed := subscriberSeed(t)
	srv, _ := natsServer(t, router.Config{NATSUsersFile: users})
	base, natsURL := "http://"+srv.Addr(), srv.NATSClientURL()
	evs := indextest.Events(t, 31, time.Now().Add(-time.Hour))
	before, after, sentinel := evs[:15], evs[15:30], evs[30:]
	sentinel[0].SetExtension("principal", "alice")
	postEvents(t, base, "default", before)
	pattern := filepath.Join(t.TempDir(), "alice.yaml")
	os.WriteFile(pattern, []byte("principal: [alice]\n"), 0o644)

	// Through a pattern, from a minute ago: alice's stored events, then
	// her new ones, in stream order; no one else's.
	p := startTail(t, bin, "--nats-url", natsURL, "--nats-nkey", seed, "--pattern", pattern, "--since", "1m")
	postEvents(t, base, "default", after)
	postEvents(t, base, "default", sentinel)
	for _, e := range append(append(append([]event.Event{}, before...), after...), sentinel...) {
		if e.Extensions()["principal"] != "alice" {
			continue
		}
		if bus, id := p.next(t); bus != "default" || id != e.ID() {
			t.Fatalf("tail printed %s/%s, want default/%s", bus, id, e.ID())
		}
	}
	p.interrupt(t)

	// Without --since, only new events; --bus keeps to one bus.
	p = startTail(t, bin, "--nats-url", natsURL, "--nats-nkey", seed, "--bus", "prod")
	postEvents(t, base, "default", evs[:3]) // duplicates, stored nowhere new
	fresh := indextest.Events(t, 3, time.Now())
	for i := range fresh {
		fresh[i].SetID(fmt.Sprintf("fresh-%d", i))
	}
	postEvents(t, base, "staging", fresh)
	postEvents(t, base, "prod", fresh)
	for _, e := range fresh {
		if bus, id := p.next(t); bus != "prod" || id != e.ID() {
			t.Fatalf("tail --bus prod printed %s/%s, want prod/%s", bus, id, e.ID())
		}
	}
	p.interrupt(t)
}

func TestTailRefuses(t *testing.T) {
	_, seed := subscriberSeed(t)
	srv, _ := natsServer(t, router.Config{})
	natsURL := srv.NATSClientURL()
	badPattern := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(badPattern, []byte("type: [{frobnicate: x}]\n"), 0o644)
	for _, tt := range []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"unknown user", []string{"--nats-nkey", seed}, 1, "Authorization Violation"},
		{"no credentials", nil, 1, "Authorization Violation"},
		{"bad since", []string{"--since", "yesterday"}, 1, `--since: "yesterday"`},
		{"bad bus", []string{"--bus", "A.B"}, 1, `bus "A.B"`},
		{"condition alone", []string{"--condition", "true"}, 1, "--condition needs --pattern"},
		{"bad pattern", []string{"--pattern", badPattern}, 1, "frobnicate"},
		{"missing pattern", []string{"--pattern", badPattern + ".none"}, 1, "no such file"},
		{"argument", []string{"extra"}, 2, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, context.Background(), append([]string{"tail", "--nats-url", natsURL}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", code, tt.code, errOut, tt.wantErr)
			}
		})
	}
}
