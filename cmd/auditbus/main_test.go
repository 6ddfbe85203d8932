package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/dispatch"
)

var update = flag.Bool("update", false, "rewrite golden files")

// cli runs the command in-process and returns exit code, stdout, stderr.
func cli(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestRulesValidateExamples(t *testing.T) {
	code, out, errOut := cli(t, context.Background(), "rules", "validate", "../../examples/rules")
	if code != 0 || !strings.HasPrefix(out, "8 rules OK") || errOut != "" {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}

func TestRulesValidateReportsPositions(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	src := "name: first\ntargets:\n  - id: out\n    log: {}\n---\nname: second\npattern:\n  data:\n    eventName: [{prefx: Delete}]\ntargets:\n  - id: out\n    webhook: {url: 'ftp://x'}\n"
	retry := filepath.Join(dir, "retry.yaml")
	if err := os.WriteFile(retry, []byte("name: third\ntargets:\n  - id: out\n    log: {}\n    retry: {max_attempts: 3}\n    concurrency: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, context.Background(), "rules", "validate", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errOut)
	}
	code, _, retryErr := cli(t, context.Background(), "rules", "validate", retry)
	if code != 1 || !strings.Contains(retryErr, retry+":6:") || !strings.Contains(retryErr, "concurrency must be an integer") || strings.Contains(retryErr, "max_attempts") {
		t.Errorf("retry: exit %d: %s", code, retryErr)
	}
	for _, want := range []string{bad + ":9:", `prefx`, bad + ":12:", "http or https"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestRulesValidateWarnsAboutUncataloguedEventNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.yaml")
	src := "name: typo\npattern:\n  type: [\"tke:CloudEvent:ApiCall\"]\n  data:\n    eventName: [DeleteClustr, DeleteCluster]\ntargets:\n  - id: out\n    log: {}\n" +
		"---\nname: other-product\npattern:\n  source: [cvm.cloud.tencent]\n  data:\n    eventName: [TerminateInstances]\ntargets:\n  - id: out\n    log: {}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, context.Background(), "rules", "validate", path)
	if code != 0 || !strings.HasPrefix(out, "2 rules OK") {
		t.Fatalf("warnings must not fail validation: exit %d %s %s", code, out, errOut)
	}
	if !strings.Contains(errOut, path+":1:1: rule \"typo\": warning: event name \"DeleteClustr\"") || strings.Count(errOut, "warning") != 1 {
		t.Errorf("want one warning, for DeleteClustr only:\n%s", errOut)
	}
}

func TestRulesTestExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/events/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("example events: %v %v", files, err)
	}
	var all strings.Builder
	for _, f := range files {
		code, out, errOut := cli(t, context.Background(), "rules", "test", "--rules", "../../examples/rules", "--event", f)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, errOut)
		}
		all.WriteString(out)
	}
	golden(t, "examples.golden", all.String())
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "auditbus.yaml")
	if err := os.WriteFile(cfgFile, []byte("listen: 127.0.0.1:1111\ndata_dir: /from/file\nworkers: 3\nrules: [a.yaml, b.yaml]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUDITBUS_DATA_DIR", "/from/env")
	t.Setenv("AUDITBUS_WORKERS", "5")
	c := defaultServeConfig()
	if err := parseLayered(c.flags, []string{"--config", cfgFile, "--workers", "7", "--rules", "c.yaml"}, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:1111" || c.DataDir != "/from/env" || c.Workers != 7 || strings.Join(c.Rules, ",") != "c.yaml" {
		t.Errorf("listen=%s data-dir=%s workers=%d rules=%v; want file, env, flag, flag", c.Listen, c.DataDir, c.Workers, c.Rules)
	}

	if err := os.WriteFile(cfgFile, []byte("listn: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := parseLayered(defaultServeConfig().flags, []string{"--config", cfgFile}, os.Stderr)
	if err == nil || !strings.Contains(err.Error(), `:1:1: unknown key "listn"`) {
		t.Errorf("unknown config key: %v", err)
	}
}

func TestRedactKeysFlag(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  []string
		err   bool
	}{
		{"token,Password", []string{"token", "Password"}, false},
		{"-", []string{}, false},
		{"", nil, true},
		{" , ", nil, true},
	} {
		c := defaultServeConfig()
		err := parseLayered(c.flags, []string{"--redact-keys=" + tt.value}, io.Discard)
		if (err != nil) != tt.err || (!tt.err && !slices.Equal(c.RedactKeys, tt.want)) {
			t.Errorf("--redact-keys=%q: keys %q, err %v", tt.value, c.RedactKeys, err)
		}
	}
}

func TestPublishToRunningServer(t *testing.T) {
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Rules: []string{"../../examples/rules"}, Log: zerolog.Nop(), Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	url := "http://" + srv.Addr()
	code, out, errOut := cli(t, context.Background(), "publish", "--url", url, "--file", "../../examples/events/tke-delete-cluster.json")
	if code != 0 || !strings.Contains(out, "published 1 events") || !strings.Contains(out, "1 new, 0 duplicates") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	code, out, _ = cli(t, context.Background(), "publish", "--url", url, "--file", "../../examples/events/tke-delete-cluster.json")
	if code != 0 || !strings.Contains(out, "0 new, 1 duplicates") {
		t.Errorf("second publish: exit %d: %s", code, out)
	}

	for _, tt := range []struct{ format, file, want string }{
		{"cloudaudit", "cloudaudit.json", "published 2 events"},
		{"cts", "cts-traces.json", "published 2 events"},
		{"k8s-audit", "k8s-eventlist.json", "published 2 events"},
	} {
		args := []string{"publish", "--url", url, "--format", tt.format, "--cluster", "prod", "--file", "../../examples/records/" + tt.file}
		if code, out, errOut := cli(t, context.Background(), args...); code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("publish --format %s: exit %d: %s %s", tt.format, code, out, errOut)
		}
	}

	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	os.WriteFile(bad, []byte(`{"specversion":"1.0","id":"1","source":"s","type":"t"}`+"\n"+`{"specversion":"1.0","id":"2","source":"s"}`+"\n"), 0o644)
	code, _, errOut = cli(t, context.Background(), "publish", "--url", url, "--file", bad)
	if code != 1 || !strings.Contains(errOut, "bad.ndjson:2:1: event 2: ") || !strings.Contains(errOut, "type") {
		t.Errorf("bad file: exit %d: %s", code, errOut)
	}
}

// TestServeStopsOnSignal runs the serve command and cancels its context, as
// SIGTERM does, checking it served and then exited cleanly.
func TestServeStopsOnSignal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--listen", addr, "--data-dir", t.TempDir(), "--nats-listen", "-",
			"--rules", "../../examples/rules", "--log-format", "json"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil && resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of its signal")
	}
	if !strings.Contains(stderr.String(), `"message":"auditbus stopped"`) {
		t.Errorf("no structured stop log line in %s", stderr.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errOut := cli(t, context.Background(), "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestRemovedTargetGraceFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want time.Duration
	}{
		{nil, dispatch.DefaultRemovedTargetGrace},
		{[]string{"--removed-target-grace", "90s"}, 90 * time.Second},
		{[]string{"--removed-target-grace=0"}, 0},
	} {
		c := defaultServeConfig()
		if err := parseLayered(c.flags, tt.args, io.Discard); err != nil || c.RemovedTargetGrace != tt.want {
			t.Errorf("%q: grace %s, err %v; want %s", tt.args, c.RemovedTargetGrace, err, tt.want)
		}
	}
}

// TestLocalHookExampleValid: the rule file the Quickstart starts the
// server with beside the examples loads.
func TestLocalHookExampleValid(t *testing.T) {
	code, out, errOut := cli(t, context.Background(), "rules", "validate", "../../examples/rules", "../../examples/my-local-hook.yaml")
	if code != 0 || !strings.HasPrefix(out, "9 rules OK") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}
