package sinks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/sinks"
)

const testURN = "urn:fss:ap-guangzhou:123:function:default:on-delete:latest"

// invocation is what a test function endpoint received.
type invocation struct {
	contentType string
	header      http.Header
	body        []byte
}

// functionEndpoint answers every request with status, extra headers and
// answer as body, recording what it received.
func functionEndpoint(t *testing.T, status int, extra http.Header, answer string) (*httptest.Server, chan invocation) {
	t.Helper()
	got := make(chan invocation, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- invocation{r.Header.Get("Content-Type"), r.Header.Clone(), b}
		for k, v := range extra {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestFunctionURL(t *testing.T) {
	tests := []struct {
		invocation string
		status     int
		header     http.Header
		ok         bool
		retryable  bool
		retryAfter time.Duration
	}{
		{"sync", http.StatusOK, nil, true, false, 0},
		{"", http.StatusOK, nil, true, false, 0},
		{"sync", http.StatusAccepted, nil, true, false, 0},
		{"sync", http.StatusInternalServerError, nil, false, true, 0},
		{"sync", http.StatusServiceUnavailable, http.Header{"Retry-After": {"7"}}, false, true, 7 * time.Second},
		{"sync", http.StatusTooManyRequests, nil, false, true, 0},
		{"sync", http.StatusBadRequest, nil, false, false, 0},
		{"sync", http.StatusNotFound, nil, false, false, 0},
		{"sync", http.StatusFound, http.Header{"Location": {"http://elsewhere.example/"}}, false, false, 0},
		{"async", http.StatusAccepted, nil, true, false, 0},
		{"async", http.StatusOK, nil, false, false, 0},
		{"async", http.StatusNoContent, nil, false, false, 0},
		{"async", http.StatusBadGateway, nil, false, true, 0},
		{"async", http.StatusForbidden, nil, false, false, 0},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%d", tt.invocation, tt.status)
		srv, got := functionEndpoint(t, tt.status, tt.header, `{"result":"done"}`)
		cfg := fmt.Sprintf(`{urn: %q, url: %q, headers: {X-Cff-Request-Version: v1}}`, testURN, srv.URL)
		if tt.invocation != "" {
			cfg = fmt.Sprintf(`{urn: %q, url: %q, invocation: %s, headers: {X-Cff-Request-Version: v1}}`, testURN, srv.URL, tt.invocation)
		}
		d := delivery(t)
		err := newSink(t, "function", cfg, sinks.Deps{Guard: loopback}).Deliver(context.Background(), d)
		inv := <-got
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if string(d.Response) != `{"result":"done"}` {
				t.Errorf("%s: response %q not recorded", name, d.Response)
			}
		} else if err == nil || sinks.Retryable(err) != tt.retryable || sinks.RetryAfter(err) != tt.retryAfter {
			t.Errorf("%s: err=%v retryable=%v retryAfter=%s, want retryable=%v", name, err, sinks.Retryable(err), sinks.RetryAfter(err), tt.retryable)
		}
		if err != nil && !strings.Contains(err.Error(), testURN) {
			t.Errorf("%s: error %q does not name the function", name, err)
		}
		var e map[string]any
		if json.Unmarshal(inv.body, &e) != nil || e["id"] != "evt-1" || e["specversion"] != "1.0" ||
			inv.contentType != "application/json" || inv.header.Get("X-Cff-Request-Version") != "v1" {
			t.Errorf("%s: request %q %s %v, want the structured event as JSON", name, inv.contentType, inv.body, inv.header)
		}
		if len(got) != 0 {
			t.Errorf("%s: redirect followed", name)
		}
	}
}

func TestFunctionURLSendsInputPayload(t *testing.T) {
	srv, got := functionEndpoint(t, http.StatusOK, nil, "")
	d := delivery(t)
	d.Payload = map[string]any{"cluster": "cls-abc"}
	if err := newSink(t, "function", fmt.Sprintf(`{urn: %q, url: %q}`, testURN, srv.URL), sinks.Deps{Guard: loopback}).Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if inv := <-got; string(inv.body) != `{"cluster":"cls-abc"}` || inv.contentType != "application/json" {
		t.Errorf("request %q %s, want the input payload", inv.contentType, inv.body)
	}
}

func TestFunctionURLIsGuarded(t *testing.T) {
	srv, got := functionEndpoint(t, http.StatusOK, nil, "")
	err := newSink(t, "function", fmt.Sprintf(`{urn: %q, url: %q}`, testURN, srv.URL), sinks.Deps{}).Deliver(context.Background(), delivery(t))
	if err == nil || sinks.Retryable(err) || !errors.Is(err, sinks.ErrForbiddenAddress) {
		t.Errorf("function on 127.0.0.1 without allowing it: %v", err)
	}
	if len(got) != 0 {
		t.Error("the refused endpoint was called")
	}
}

// sh runs script with sh -c; args are $1, $2, ...
func sh(script string, args ...string) string {
	argv := append([]string{"sh", "-c", script, "sh"}, args...)
	b, _ := json.Marshal(argv)
	return string(b)
}

func commandSink(t *testing.T, command string, extra string) sinks.Sink {
	t.Helper()
	return newSink(t, "function", fmt.Sprintf(`{urn: %q, command: %s%s}`, testURN, command, extra), sinks.Deps{})
}

func TestFunctionCommandGetsEventOnStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "stdin.json")
	s := commandSink(t, sh(`cat > "$1"; echo handled`, out), "")
	if err := s.Connect(context.Background()); err != nil {
		t.Errorf("Connect: %v", err)
	}
	d := delivery(t)
	if err := s.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		ID   string         `json:"id"`
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.ID != "evt-1" || e.Type != "tke:CloudEvent:ApiCall" || e.Data["eventName"] != "DeleteCluster" {
		t.Errorf("stdin %s (%v), want the structured event", b, err)
	}
	if string(d.Response) != "handled\n" {
		t.Errorf("response %q, want the command's stdout", d.Response)
	}

	d.Payload = "cluster cls-abc deleted"
	if err := s.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "cluster cls-abc deleted" {
		t.Errorf("stdin %q, want the input payload", b)
	}
}

func TestFunctionCommandFailureCarriesExitCodeAndStderr(t *testing.T) {
	tests := []struct {
		script     string
		exit       int
		stderrTail string
		stderrLen  int
	}{
		{`echo "quota exceeded" >&2; exit 3`, 3, "quota exceeded\n", len("quota exceeded\n")},
		{`head -c 10000 /dev/zero | tr '\0' x >&2; echo END >&2; exit 1`, 1, "xxxxEND\n", sinks.MaxResponseBytes},
		{`kill -9 $$`, -1, "", 0},
	}
	for _, tt := range tests {
		err := commandSink(t, sh(tt.script), "").Deliver(context.Background(), delivery(t))
		var ce *sinks.CommandError
		var se *sinks.Error
		if !errors.As(err, &ce) || !errors.As(err, &se) || !sinks.Retryable(err) {
			t.Errorf("%s: %v, want a retryable *Error with a *CommandError", tt.script, err)
			continue
		}
		if ce.ExitCode != tt.exit || !strings.HasSuffix(string(ce.Stderr), tt.stderrTail) || len(ce.Stderr) != tt.stderrLen {
			t.Errorf("%s: exit %d, stderr (%d bytes) %.40q...; want exit %d, %d bytes ending %q",
				tt.script, ce.ExitCode, len(ce.Stderr), ce.Stderr, tt.exit, tt.stderrLen, tt.stderrTail)
		}
		if tt.exit > 0 && se.Status != tt.exit {
			t.Errorf("%s: status %d, want the exit code", tt.script, se.Status)
		}
	}
}

func TestFunctionMissingProgramIsPermanent(t *testing.T) {
	s := commandSink(t, `["/nonexistent/on-delete"]`, "")
	if err := s.Connect(context.Background()); err == nil {
		t.Error("Connect did not report the missing program")
	}
	err := s.Deliver(context.Background(), delivery(t))
	if err == nil || sinks.Retryable(err) {
		t.Errorf("missing program: %v, want a permanent failure", err)
	}
}

// TestFunctionCommandTimeoutKillsProcessGroup: on timeout the command and
// what it started in the background are killed, and the delivery fails
// (retryably) instead of waiting for them.
func TestFunctionCommandTimeoutKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	s := commandSink(t, sh(`sleep 300 & echo $! > "$1"; wait`, pidFile), ", timeout: 300ms")
	err := s.Deliver(context.Background(), delivery(t))
	var ce *sinks.CommandError
	if !errors.As(err, &ce) || !ce.TimedOut || !sinks.Retryable(err) || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Fatalf("Deliver = %v, want a retryable timeout", err)
	}
	if runtime.GOOS != "linux" {
		return // the check below reads /proc
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the background sleep is killed", func() bool { return !running(pid) })
}

// TestFunctionCommandLeftoversEndWithTheRun: a command that exits at once
// but leaves a background process does not leave it running past the run,
// where neither the timeout nor max_concurrency would bound it.
func TestFunctionCommandLeftoversEndWithTheRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	s := commandSink(t, sh(`sleep 300 </dev/null >/dev/null 2>&1 & echo $! > "$1"`, pidFile), ", timeout: 1m")
	if err := s.Deliver(context.Background(), delivery(t)); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the background sleep is killed after the run", func() bool { return !running(pid) })
}

// running reports whether pid is a live process (not gone, not a zombie
// waiting for a parent to reap it).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	rest := s[strings.LastIndexByte(s, ')')+1:]
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// TestFunctionCommandMaxConcurrency runs more deliveries than slots with
// commands that block until released, and releases them once every
// delivery has either started its command or reported that it waits for a
// slot. Each run logs its start and end: the log must show exactly
// max_concurrency runs at once (without the bound, all would have
// started before the release).
func TestFunctionCommandMaxConcurrency(t *testing.T) {
	dir := t.TempDir()
	log, release := filepath.Join(dir, "log"), filepath.Join(dir, "release")
	var debug syncBuffer
	s := newSink(t, "function", fmt.Sprintf(`{urn: %q, command: %s, max_concurrency: 2}`, testURN,
		sh(`echo s >> "$1"; while [ ! -e "$2" ]; do sleep 0.01; done; echo e >> "$1"`, log, release)),
		sinks.Deps{Log: zerolog.New(&debug).Level(zerolog.DebugLevel)})
	const runs = 6
	var wg sync.WaitGroup
	for range runs {
		wg.Go(func() {
			if err := s.Deliver(context.Background(), delivery(t)); err != nil {
				t.Error(err)
			}
		})
	}
	lines := func() string { b, _ := os.ReadFile(log); return string(b) }
	waitUntil(t, "every delivery runs or waits", func() bool {
		return strings.Count(lines(), "s")+strings.Count(debug.String(), "waiting for a free slot") == runs
	})
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	running, most := 0, 0
	for _, c := range strings.Fields(lines()) {
		if c == "s" {
			running++
		} else {
			running--
		}
		most = max(most, running)
	}
	if most != 2 || strings.Count(lines(), "s") != runs {
		t.Errorf("log %q: at most %d at once, want 2 (and %d runs)", lines(), most, runs)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFunctionMaxConcurrencyConfig(t *testing.T) {
	for cfg, want := range map[string]int{"": sinks.DefaultFunctionMaxConcurrency, ", max_concurrency: 9": 9} {
		if got := sinks.MaxConcurrency(commandSink(t, `[cat]`, cfg)); got != want {
			t.Errorf("config %q: %d slots, want %d", cfg, got, want)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := sinks.NewLimiter(2)
	ctx := context.Background()
	if l.Acquire(ctx) != nil || l.Acquire(ctx) != nil {
		t.Fatal("could not take the two slots")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Acquire(done); !errors.Is(err, context.Canceled) {
		t.Errorf("third Acquire = %v, want it to wait until its context ended", err)
	}
	l.Release()
	if err := l.Acquire(ctx); err != nil {
		t.Errorf("Acquire after Release: %v", err)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := sinks.TailBuffer(8)
	var all bytes.Buffer
	for _, w := range []string{"abc", "defghij", "k", "0123456789abcdefghij", "xy"} {
		tb.Write([]byte(w))
		all.WriteString(w)
		want := all.String()[max(0, all.Len()-8):]
		if string(tb.Bytes()) != want {
			t.Errorf("after %q: %q, want %q", w, tb.Bytes(), want)
		}
	}
}

func TestFunctionConfigErrors(t *testing.T) {
	tests := []struct{ cfg, want string }{
		{`{url: "https://fn.example/invoke"}`, "urn: required"},
		{`{urn: "fss:ap-guangzhou:fn", url: "https://fn.example/invoke"}`, "want urn:<namespace>"},
		{`{urn: "urn:fss", url: "https://fn.example/invoke"}`, "want urn:<namespace>"},
		{`{urn: "urn:fss::123:function", url: "https://fn.example/invoke"}`, "part 3 is empty"},
		{`{urn: "urn:fss:ap guangzhou:fn", url: "https://fn.example/invoke"}`, "space"},
		{`{urn: "` + testURN + `"}`, "want url"},
		{`{urn: "` + testURN + `", url: "https://fn.example/invoke", command: [cat]}`, "not both"},
		{`{urn: "` + testURN + `", url: "ftp://fn.example/invoke"}`, "want an absolute http or https URL"},
		{`{urn: "` + testURN + `", url: "https://fn.example/invoke", invocation: later}`, `invocation "later"`},
		{`{urn: "` + testURN + `", url: "https://fn.example/invoke", max_concurrency: 2}`, "max_concurrency: applies to command"},
		{`{urn: "` + testURN + `", url: "https://fn.example/invoke", timeout: -1s}`, "must be positive"},
		{`{urn: "` + testURN + `", command: []}`, "command: want the program"},
		{`{urn: "` + testURN + `", command: [""]}`, "command: want the program"},
		{`{urn: "` + testURN + `", command: [cat], invocation: async}`, "invocation: applies to url"},
		{`{urn: "` + testURN + `", command: [cat], headers: {A: b}}`, "headers: applies to url"},
		{`{urn: "` + testURN + `", command: [cat], max_concurrency: -1}`, "must be positive"},
		{`{urn: "` + testURN + `", command: "cat /etc/passwd"}`, "cannot unmarshal"},
		{`{urn: "` + testURN + `", command: [cat], shell: true}`, `unknown option "shell"`},
	}
	for _, tt := range tests {
		err := sinks.Check("function", node(t, tt.cfg))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Check(function, %s) = %v, want an error containing %q", tt.cfg, err, tt.want)
		}
	}
	for _, cfg := range []string{
		`{urn: "` + testURN + `", url: "https://fn.example/invoke", invocation: async, timeout: 3s, headers: {X-Cff-Request-Version: v1}}`,
		`{urn: "` + testURN + `", command: [/usr/local/bin/on-delete, --verbose], timeout: 1m, max_concurrency: 1}`,
		`{urn: "urn:scf:ap-guangzhou:100:namespace:default:function:on-delete", url: "https://fn.example/invoke"}`,
	} {
		if err := sinks.Check("function", node(t, cfg)); err != nil {
			t.Errorf("Check(function, %s) = %v", cfg, err)
		}
	}
}

// waitUntil polls cond until it holds, failing the test after a generous
// 15s: it waits for something to happen, it does not time it.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
