package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/index"
)

// TestIndexCrashWithRealProcesses kills `auditbus serve` with SIGKILL
// while events arrive and the audit index follows them, then starts it
// again on the same data dir: every event the API accepted is indexed,
// and none twice.
func TestIndexCrashWithRealProcesses(t *testing.T) {
	// The docs check's binary (built once per test run, without -race:
	// this is about what survives a kill, not about races).
	bin := filepath.Join(builtBinaryDir(t), "auditbus")
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte("name: none\npattern:\n  type: [never]\ntargets:\n  - id: log\n    log: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first, addr := serveProcess(t, bin, dir, rules)
	accepted := map[string]bool{}
	done := make(chan struct{})
	batches := postBatches(addr, "ix-crash-", 100, done)
	for ids := range batches {
		for _, id := range ids {
			accepted[id] = true
		}
		if len(accepted) == 3000 {
			if err := first.Process.Kill(); err != nil { // SIGKILL: no shutdown code runs
				t.Fatal(err)
			}
			close(done)
		}
	}
	_ = first.Wait()
	store, _, err := router.OpenIndex(context.Background(), router.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	atKill, err := store.Count(context.Background(), index.Query{})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %d of %d accepted events indexed", atKill, len(accepted))
	if atKill >= int64(len(accepted)) {
		t.Fatal("the index had caught up before the kill; the test proves nothing")
	}

	_, addr = serveProcess(t, bin, dir, rules)
	var seen map[string]int
	waitUntil(t, "every accepted event indexed", func() bool {
		seen = indexedIDs(t, addr)
		for id := range accepted {
			if seen[id] == 0 {
				return false
			}
		}
		return true
	})
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s indexed %d times", id, n)
		}
	}
}

// indexedIDs pages through GET /v1/audit-events and counts each event id.
func indexedIDs(t *testing.T, addr string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	next := ""
	for {
		resp, err := http.Get("http://" + addr + "/v1/audit-events?limit=200&next=" + next)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Events []struct {
				Event struct {
					ID string `json:"id"`
				} `json:"event"`
			} `json:"events"`
			Next string `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			seen[e.Event.ID]++
		}
		if page.Next == "" {
			return seen
		}
		next = page.Next
	}
}
