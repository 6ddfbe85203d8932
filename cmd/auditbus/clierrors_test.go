package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/auth"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPublishRecordsNameTheFormat: raw records of each source published
// as CloudEvents (no --format) are refused before anything is sent, with
// the --format that fits them.
func TestPublishRecordsNameTheFormat(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, tc := range []struct{ file, want string }{
		{"../../examples/records/cloudaudit.json", "hint: pass --format cloudaudit\n"},
		{"../../examples/records/cts-traces.json", "hint: pass --format cts\n"},
		{"../../examples/records/k8s-eventlist.json", "hint: pass --format k8s-audit\n"},
		{writeFile(t, "one.json", `{"userIdentity": {"type": "CAMUser"}, "eventName": "RunInstances"}`), "hint: pass --format cloudaudit\n"},
		{writeFile(t, "trace.ndjson", `{"trace_id": "x", "trace_name": "deleteCluster"}`+"\n"), "hint: pass --format cts\n"},
		{writeFile(t, "k8s.json", `[{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a"}]`), "hint: pass --format k8s-audit\n"},
	} {
		code, _, errOut := cli(t, context.Background(), "publish", "--url", srv.URL, "--file", tc.file)
		if code != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "records, not CloudEvents") {
			t.Errorf("%s: exit %d: %s", tc.file, code, errOut)
		}
	}
	// A CloudEvent that is merely invalid gets its own error, no hint.
	bad := writeFile(t, "bad.json", `{"specversion": "1.0", "id": "1", "source": "s", "userIdentity": {}}`)
	if code, _, errOut := cli(t, context.Background(), "publish", "--url", srv.URL, "--file", bad); code != 1 || strings.Contains(errOut, "hint:") {
		t.Errorf("invalid CloudEvent: exit %d: %s", code, errOut)
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent; want none", hits.Load())
	}
}

// TestPositionsAreOneBasedLineColumn: every position the CLI prints for an
// input file is file:line:column counted from 1, and events are numbered
// from 1.
func TestPositionsAreOneBasedLineColumn(t *testing.T) {
	ev := `{"specversion": "1.0", "id": "1", "source": "s", "type": "t"}`
	noType := `{"specversion": "1.0", "id": "2", "source": "s"}`
	syntax := writeFile(t, "syntax.json", "{\"specversion\": \"1.0\"\n  \"id\": \"1\"}")
	ndjson := writeFile(t, "two.ndjson", ev+"\n"+noType+"\n")
	array := writeFile(t, "array.json", "[\n  "+ev+",\n    "+noType+"\n]")
	arraySyntax := writeFile(t, "arraysyntax.json", "[\n  "+ev+",\n  {\"id\" 1}\n]")
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"publish", "--file", syntax}, syntax + ":2:3: value 1: invalid character '\"' after object key:value pair"},
		{[]string{"publish", "--file", ndjson}, ndjson + ":2:1: event 2: "},
		{[]string{"publish", "--file", array}, array + ":3:5: event 2: "},
		{[]string{"publish", "--file", arraySyntax}, arraySyntax + ":3:9: value 1: invalid character '1'"},
		{[]string{"rules", "test", "--rules", "../../examples/rules", "--event", array}, array + ":3:5: event 2: "},
		{[]string{"rules", "bench", "--rules", "../../examples/rules", "--events", ndjson}, ndjson + ":2:1: event 2: "},
		{[]string{"rules", "validate", missing}, missing + ": rule path: "},
	} {
		code, _, errOut := cli(t, context.Background(), tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, ":0:") {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args[:2], code, errOut, tc.want)
		}
	}
}

// TestK8sRecordsWithoutClusterNameTheFlag: the server's answer, meant for
// HTTP clients ("pass ?cluster=NAME"), comes with the flag to pass.
func TestK8sRecordsWithoutClusterNameTheFlag(t *testing.T) {
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Log: zerolog.Nop(), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	url := "http://" + srv.Addr()
	code, _, errOut := cli(t, context.Background(), "publish", "--url", url, "--format", "k8s-audit", "--file", "../../examples/records/k8s-eventlist.json")
	if code != 1 || !strings.Contains(errOut, "\nhint: pass --cluster NAME") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if code, out, errOut := cli(t, context.Background(), "publish", "--url", url, "--format", "k8s-audit", "--cluster", "prod", "--json",
		"--file", "../../examples/records/k8s-eventlist.json"); code != 0 || !strings.Contains(out, `"published":2`) {
		t.Errorf("with --cluster: exit %d: %s %s", code, out, errOut)
	}
}

// TestServeWithoutRulesWarns: serve started with no rule file says so in
// a warning naming --rules; with rules it does not. Either way the
// start-up line says where the web console is.
func TestServeWithoutRulesWarns(t *testing.T) {
	for _, tc := range []struct {
		rules []string
		warn  bool
	}{{nil, true}, {[]string{"--rules", "../../examples/rules"}, false}} {
		ctx, cancel := context.WithCancel(context.Background())
		var stderr bytes.Buffer
		addr := freeAddr(t)
		done := make(chan int)
		go func() {
			args := append([]string{"serve", "--listen", addr, "--data-dir", t.TempDir(), "--nats-listen", "-", "--log-format", "json"}, tc.rules...)
			done <- run(ctx, args, io.Discard, &syncWriter{w: &stderr})
		}()
		waitUntil(t, "serve ready", func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("serve exited %d", code)
		}
		warned := regexp.MustCompile(`(?m)^\{"level":"warn".*"message":"no --rules given`).MatchString(stderr.String())
		if warned != tc.warn {
			t.Errorf("rules %v: warned %v, want %v:\n%s", tc.rules, warned, tc.warn, stderr.String())
		}
		if want := `"console":"http://` + addr + `/console/"`; !strings.Contains(stderr.String(), want) {
			t.Errorf("start-up log has no %s:\n%s", want, stderr.String())
		}
	}
}

// syncWriter serializes the writes of serve's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestLogDurationsHaveUnits: a duration field logs as a duration string,
// in JSON and console formats, not zerolog's bare milliseconds.
func TestLogDurationsHaveUnits(t *testing.T) {
	for format, want := range map[string]string{"json": `"grace":"1m0s"`, "console": "grace=1m0s"} {
		var b bytes.Buffer
		log, err := newLogger(format, "info", &b)
		if err != nil {
			t.Fatal(err)
		}
		log.Warn().Dur("grace", time.Minute).Msg("shutdown grace over")
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s: %q lacks %q", format, b.String(), want)
		}
	}
}

// TestPublishServerErrorsPointIntoFile: a record the server refuses, in
// the second request of a batched publish, is named by its number in the
// file and its line:column, not by its index in the request.
func TestPublishServerErrorsPointIntoFile(t *testing.T) {
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Log: zerolog.Nop(), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	src, err := os.ReadFile("../../examples/records/cloudaudit.json")
	if err != nil {
		t.Fatal(err)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(src, &recs); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "three.ndjson", compact(t, recs[0])+"\n"+compact(t, recs[1])+"\n"+`  {"eventName": 5}`+"\n")
	code, _, errOut := cli(t, context.Background(), "publish", "--url", "http://"+srv.Addr(), "--format", "cloudaudit", "--batch", "2", "--file", file)
	if code != 1 || !strings.Contains(errOut, "request 2 of 2: 400 Bad Request AB.1003: 1 bad record(s), nothing stored: "+file+":3:3: record 3: eventName") || strings.Contains(errOut, "record 0") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestClientErrorsNameTheFlag: a refused connection and a 401 come with
// the flag that fixes them.
func TestClientErrorsNameTheFlag(t *testing.T) {
	authFile := writeFile(t, "auth.yaml", "identities:\n  - name: ops\n    actions: [\"*\"]\n    tokens: [\""+auth.HashToken("secret")+"\"]\n")
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		AuthFile: authFile, Log: zerolog.Nop(), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	t.Setenv("AUDITBUS_TOKEN", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dlq", "list", "--url", "http://" + srv.Addr()}, "AB.4010"},
		{[]string{"search", "--url", "http://" + srv.Addr()}, "AB.4010"},
		{[]string{"dlq", "list", "--url", "http://" + freeAddr(t)}, "connection refused"},
	} {
		code, _, errOut := cli(t, context.Background(), tc.args...)
		want := "\nhint: pass --token-file FILE or set AUDITBUS_TOKEN"
		if tc.want == "connection refused" {
			want = "\nhint: nothing listens at that address: start `auditbus serve`, or pass --url"
		}
		if code != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d: %s", tc.args[:2], code, errOut)
		}
	}
}
