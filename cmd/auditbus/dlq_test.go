package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
)

func TestDLQListAndRedrive(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer bad.Close()
	var spareHits atomic.Int64
	spare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { spareHits.Add(1) }))
	defer spare.Close()
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	rule := fmt.Sprintf("name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n  - id: bad\n    webhook: {url: %q}\n  - id: spare\n    webhook: {url: %q}\n", bad.URL, spare.URL)
	if err := os.WriteFile(rules, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Rules: []string{rules}, Log: zerolog.Nop(), Stdout: &bytes.Buffer{}, AllowPrivateTargets: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	url := "http://" + srv.Addr()
	if code, out, errOut := cli(t, context.Background(), "publish", "--url", url, "--file", "../../examples/events/tke-delete-cluster.json"); code != 0 {
		t.Fatalf("publish: exit %d: %s %s", code, out, errOut)
	}
	var out string
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out, "rejected by target"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter listed: %s", out)
		}
		var code int
		var errOut string
		code, out, errOut = cli(t, context.Background(), "dlq", "list", "--url", url, "--rule", "deletes", "--target", "bad")
		if code != 0 {
			t.Fatalf("dlq list: exit %d: %s", code, errOut)
		}
	}
	if !strings.Contains(out, "deletes") || !strings.Contains(out, " 403 ") {
		t.Errorf("dlq list:\n%s", out)
	}
	code, out, errOut := cli(t, context.Background(), "dlq", "redrive", "--url", url, "--rule", "deletes", "--to-target", "spare")
	if code != 0 || !strings.Contains(out, "redriven 1") {
		t.Fatalf("dlq redrive: exit %d: %s %s", code, out, errOut)
	}
	for deadline := time.Now().Add(15 * time.Second); spareHits.Load() < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("spare got %d deliveries, want the match and the redrive", spareHits.Load())
		}
	}
	if code, _, errOut := cli(t, context.Background(), "dlq", "redrive", "--url", url, "--ids", "999"); code != 1 || !strings.Contains(errOut, "AB.4042") {
		t.Errorf("redrive of a missing id: exit %d: %s", code, errOut)
	}
	if code, _, _ := cli(t, context.Background(), "dlq", "redrive", "--url", url); code != 2 {
		t.Errorf("redrive without a selection: exit %d, want 2", code)
	}
}

// TestDLQListTellsGuardFromTarget: a delivery auditbus's own address guard
// refused (a loopback webhook without --allow-private-targets) is listed
// as such, with no status, apart from a target's own refusal (403).
func TestDLQListTellsGuardFromTarget(t *testing.T) {
	var hits atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer hook.Close()
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	rule := fmt.Sprintf("name: deletes\npattern:\n  data:\n    eventName: [DeleteCluster]\ntargets:\n  - id: local\n    webhook: {url: %q}\n", hook.URL)
	if err := os.WriteFile(rules, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "-",
		Rules: []string{rules}, Log: zerolog.Nop(), Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	url := "http://" + srv.Addr()
	if code, out, errOut := cli(t, context.Background(), "publish", "--url", url, "--file", "../../examples/events/tke-delete-cluster.json"); code != 0 {
		t.Fatalf("publish: exit %d: %s %s", code, out, errOut)
	}
	var out string
	waitUntil(t, "dead letter", func() bool {
		_, out, _ = cli(t, context.Background(), "dlq", "list", "--url", url)
		return strings.Contains(out, "deletes")
	})
	row := regexp.MustCompile(`(?m)^\d+\s+default\s+deletes\s+local\s+1\s+-\s+\S+\s+refused by address guard\s+.*forbidden target address`)
	if !row.MatchString(out) || strings.Contains(out, "rejected by target") {
		t.Errorf("dlq list:\n%s", out)
	}
	if hits.Load() != 0 {
		t.Errorf("the guard let %d requests through", hits.Load())
	}
	_, js, _ := cli(t, context.Background(), "dlq", "list", "--url", url, "--json")
	if !strings.Contains(js, `"reason":"refused by address guard"`) || strings.Contains(js, `"last_status"`) {
		t.Errorf("dlq list --json: %s", js)
	}
}
