package router_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/bus/bustest"
)

// Sizes of the disk-full test: a tmpfs whose ballast file leaves JetStream
// about 2 MiB, far below its limit, and whose removal gives it room again.
const (
	diskSize    = 10 << 20
	ballastSize = 7 << 20
	bigLimit    = 1 << 30 // --nats-max-store: never reached
)

// TestFullDiskAnswers507AndRecovers fills the filesystem of the data dir
// (a real tmpfs) while JetStream's own limit is far away. nats-server
// answers nothing to a write that failed with ENOSPC and fails every later
// write of that store; auditbus reads the cause from the server's health
// report: the request answers 507 AB.5071 naming the full disk instead of
// 503, later requests are refused at once and store nothing, and /readyz
// is not ready with the cause. Once space is freed auditbus reopens its
// JetStream streams by itself: /readyz is ready, every event answered 202 before
// is still stored, and new events are stored and delivered.
func TestFullDiskAnswers507AndRecovers(t *testing.T) {
	dir, ok := bustest.SmallFS(t, diskSize)
	if !ok {
		return
	}
	ballast := filepath.Join(dir, "ballast")
	if err := os.WriteFile(ballast, make([]byte, ballastSize), 0o600); err != nil {
		t.Fatalf("ballast: %v", err)
	}
	hook := newWebhook(t, nil)
	var logs syncBuffer
	s := start(t, filepath.Join(dir, "data"), func(c *router.Config) {
		c.NATSMaxStore = bigLimit
		c.PublishTimeout = 2 * time.Second
		c.Log = zerolog.New(&logs).Level(zerolog.InfoLevel)
	}, writeRules(t, deleteRule(hook.URL)))

	accepted, status, header, answer := fill(t, s, diskSize)
	msg, _ := answer["error_msg"].(string)
	if status != http.StatusInsufficientStorage || answer["error_code"] != api.CodeDiskFull ||
		!strings.Contains(msg, "disk is full (no space left on device)") || !strings.Contains(msg, "--data-dir") ||
		header.Get("Retry-After") != "30" {
		t.Fatalf("after %d events stored, the refusal = %d %v Retry-After=%q, want 507 %s naming the full disk",
			accepted, status, answer, header.Get("Retry-After"), api.CodeDiskFull)
	}

	before := streamMsgs(t, s)
	refused := oneEvent(t, "refused-while-disk-full")
	if status, answer := post(t, s, "application/cloudevents+json", refused, nil); status != http.StatusInsufficientStorage || answer["error_code"] != api.CodeDiskFull {
		t.Fatalf("post while the disk is full: %d %v, want 507 %s", status, answer, api.CodeDiskFull)
	}
	if after := streamMsgs(t, s); after != before {
		t.Fatalf("stream went from %d to %d events on a refused request", before, after)
	}
	if before < uint64(accepted) {
		t.Fatalf("the stream holds %d events, %d were answered 202", before, accepted)
	}
	status, _, body := call(t, s, "GET", "/readyz", "", nil, nil)
	if detail, _ := body["detail"].(string); status != http.StatusServiceUnavailable ||
		!strings.Contains(detail, "disk is full") || !strings.Contains(detail, "no space left on device") {
		t.Fatalf("/readyz while the disk is full: %d %v, want 503 naming the full disk", status, body)
	}
	if !strings.Contains(logs.String(), "JetStream's disk is full") {
		t.Fatalf("no error about the full disk in the log:\n%s", logs.String())
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "/readyz ready once the disk has room", func() (bool, string) {
		status, _, body := call(t, s, "GET", "/readyz", "", nil, nil)
		return status == http.StatusOK, fmt.Sprint(status, body)
	})
	if !strings.Contains(logs.String(), "its streams were reopened from disk") {
		t.Errorf("no word of the recovery in the log:\n%s", logs.String())
	}
	if n := streamMsgs(t, s); n < uint64(accepted) {
		t.Fatalf("after the recovery the stream holds %d events, %d were answered 202", n, accepted)
	}
	if status, answer := post(t, s, "application/cloudevents+json", refused, nil); status != http.StatusAccepted {
		t.Fatalf("the refused event re-sent after the recovery: %d %v, want 202", status, answer)
	}
	deleted, _ := json.Marshal(auditEvent(t, "delete-after-recovery", "DeleteCluster", 0))
	if status, answer := post(t, s, "application/cloudevents+json", deleted, nil); status != http.StatusAccepted {
		t.Fatalf("post after the recovery: %d %v, want 202", status, answer)
	}
	waitFor(t, "the event after the recovery delivered", func() (bool, string) {
		_, ok := hook.byID("delete-after-recovery")
		return ok, fmt.Sprint(hook.ids())
	})
}
