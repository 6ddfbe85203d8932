package main

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchiveCrashWithRealProcesses kills `auditbus serve` with SIGKILL
// while events arrive and the management tracker transfers them to its
// bucket, then starts it again on the same data dir and bucket: every
// event the API accepted is in the archive exactly once, and gzip -t and
// zcat read every file.
func TestArchiveCrashWithRealProcesses(t *testing.T) {
	bin := filepath.Join(builtBinaryDir(t), "auditbus")
	dir, bucket := t.TempDir(), t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte("name: none\npattern:\n  type: [never]\ntargets:\n  - id: log\n    log: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A writer that looks for new events every 300 ms is behind right
	// after a batch is accepted most of the time, so kills mostly find a
	// range unwritten or being written.
	flags := []string{"--bucket", "logs=" + bucket, "--archive-interval", "300ms", "--index-off"}
	first, addr := serveProcess(t, bin, dir, rules, flags...)
	body := `{"tracker_type":"system","tracker_name":"system","obs_info":{"bucket_name":"logs","file_prefix_name":"crash","compress_type":"gzip"}}`
	resp, err := http.Post("http://"+addr+"/v3/p1/tracker", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create tracker: %d %s", resp.StatusCode, answer)
	}
	accepted := map[string]bool{}
	// Kill rounds until one kill found the archive behind (a range
	// claimed or being written): between the check and the kill the
	// writer may catch up.
	behind := 0
	for round := 0; behind == 0 || round < 3; round++ {
		if round == 10 {
			t.Fatal("the archive had caught up at each of 10 kills; the test proves nothing")
		}
		if round > 0 {
			first, addr = serveProcess(t, bin, dir, rules, flags...)
		}
		postUntilKilled(t, first, addr, bucket, fmt.Sprintf("ar-crash-%d-", round), accepted)
		atKill, _ := archivedIDs(t, bucket)
		t.Logf("round %d: killed with %d of %d accepted events archived", round, len(atKill), len(accepted))
		if len(atKill) < len(accepted) {
			behind++
		}
	}

	serveProcess(t, bin, dir, rules, flags...)
	var seen map[string]int
	var files []string
	waitUntil(t, "every accepted event archived", func() bool {
		seen, files = archivedIDs(t, bucket)
		return len(seen) >= len(accepted)
	})
	for id := range accepted {
		if seen[id] != 1 {
			t.Errorf("event %s archived %d times, want once", id, seen[id])
		}
	}
	// A batch stored as the process died was never answered 202: its
	// events may be archived too, once each, like any other.
	for id, n := range seen {
		if n != 1 || !strings.HasPrefix(id, "ar-crash-") {
			t.Errorf("archive holds %s %d times", id, n)
		}
	}
	for _, f := range files {
		if out, err := exec.Command("gzip", "-t", f).CombinedOutput(); err != nil {
			t.Errorf("gzip -t %s: %v %s", f, err, out)
		}
		if out, err := exec.Command("zcat", f).Output(); err != nil || !json.Valid(out) {
			t.Errorf("zcat %s: %v, valid JSON %v", f, err, json.Valid(out))
		}
	}
}

// maxBeforeKill bounds the events a round posts before its kill.
const maxBeforeKill = 10_000

// postUntilKilled posts events until the bucket holds some of them but
// not all (or maxBeforeKill were accepted), then kills the server with
// SIGKILL (no shutdown code runs).
func postUntilKilled(t *testing.T, proc *exec.Cmd, addr, bucket, prefix string, accepted map[string]bool) {
	t.Helper()
	done, killed := make(chan struct{}), false
	batches := postBatches(addr, prefix, 500, done)
	n := 0
	for ids := range batches {
		for _, id := range ids {
			accepted[id] = true
		}
		n += len(ids)
		// Past maxBeforeKill the kill comes anyway (the round then found
		// the archive caught up), so a writer that keeps up cannot keep
		// the test posting for ever.
		if got, _ := archivedIDs(t, bucket); n >= 2000 && (len(got) < len(accepted) || n >= maxBeforeKill) && !killed {
			if err := proc.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			close(done)
			killed = true
		}
	}
	_ = proc.Wait()
}

// archivedIDs reads the trace files under bucket (not the temporary
// ones): each trace id's count, and the files.
func archivedIDs(t *testing.T, bucket string) (map[string]int, []string) {
	t.Helper()
	ids := map[string]int{}
	var files []string
	err := filepath.WalkDir(bucket, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		files = append(files, p)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		var traces []struct {
			ID string `json:"trace_id"`
		}
		if err := json.NewDecoder(zr).Decode(&traces); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, tr := range traces {
			ids[tr.ID]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, files
}
