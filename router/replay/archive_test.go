package replay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/cts"
	"github.com/auditbus/auditbus/router/replay"
	"github.com/auditbus/auditbus/rules"
)

// TestArchiveWideRange: a range from year 1 to 9999 replays from the
// archive what the days of its events do (the day directories the
// archive has are listed, not the range's millions of days).
func TestArchiveWideRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 16))
	f := newFixture(t, randomRules(rng, 6))
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	f.publish(t, ctsEvents(t, rng, 200, start))
	f.archive(t, "json")
	narrow := f.run(t, replay.Request{From: start, To: start.Add(time.Minute), Tracker: "system", Sample: replay.MaxSample})
	wide := f.run(t, replay.Request{From: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), To: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		Tracker: "system", Sample: replay.MaxSample})
	if narrow.Progress.InRange != 200 || wide.Progress != narrow.Progress || !maps.EqualFunc(matchesOf(wide.Report), matchesOf(narrow.Report), maps.Equal) {
		t.Errorf("wide range %+v, the events' minute %+v", wide.Progress, narrow.Progress)
	}
}

// cancelling is trackers that end the request's context once they have
// answered, as a client hanging up while the archive is listed does.
type cancelling struct {
	replay.Trackers
	cancel context.CancelFunc
}

func (c cancelling) List(ctx context.Context, project string) ([]cts.Tracker, error) {
	defer c.cancel()
	return c.Trackers.List(ctx, project)
}

// TestArchiveListingHonoursContext: a request whose context ends while
// the archive is listed starts nothing and answers the context's error.
func TestArchiveListingHonoursContext(t *testing.T) {
	f := newFixture(t, "name: r\npattern: {source: [{prefix: HC.}]}\ntargets: [{id: t, log: {}}]\n")
	start := time.Now().Add(-10 * time.Minute)
	f.publish(t, ctsEvents(t, rand.New(rand.NewPCG(2, 2)), 5, start))
	f.archive(t, "json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := replay.New(replay.Config{JS: f.srv.JS, LiveRules: func() *rules.Set { return f.live },
		Trackers: cancelling{f.trackers, cancel}, BucketDir: f.buckets.Dir, Log: zerolog.Nop()})
	defer m.Stop()
	st, err := m.Start(ctx, replay.Request{From: start, To: time.Now(), Tracker: "system"})
	if !errors.Is(err, context.Canceled) || len(m.List()) != 0 {
		t.Errorf("start: %+v, %v; want context.Canceled and no replay", st, err)
	}
}

// archiveFiles are the JSON trace files under dir.
func archiveFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) < 2 {
		t.Fatalf("archive files %v: %v", files, err)
	}
	return files
}

// TestArchiveRefusedTraces: archived traces that make no event are
// skipped, each a failure with its position, and the others replayed;
// a file that does not parse fails the replay, naming it.
func TestArchiveRefusedTraces(t *testing.T) {
	f := newFixture(t, "name: r\npattern: {source: [{prefix: HC.}]}\ntargets: [{id: t, log: {}}]\n")
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	f.publish(t, ctsEvents(t, rand.New(rand.NewPCG(3, 3)), 300, start))
	f.archive(t, "json")
	files := archiveFiles(t, f.buckets.Dir("logs"))
	var traces []json.RawMessage
	raw, err := os.ReadFile(files[0])
	if err == nil {
		err = json.Unmarshal(raw, &traces)
	}
	if err != nil {
		t.Fatal(err)
	}
	at := start.Add(30 * time.Second).UnixMilli()
	traces = append(traces,
		json.RawMessage(fmt.Sprintf(`{"trace_id":"bad-service","trace_name":"x","service_type":"V P C","time":%d}`, at)),
		json.RawMessage(`{"trace_id":"bad-time","time":"soon"}`))
	raw, _ = json.Marshal(traces)
	if err := os.WriteFile(files[0], raw, 0o600); err != nil {
		t.Fatal(err)
	}
	req := replay.Request{From: start, To: start.Add(time.Minute), Tracker: "system"}
	st := f.run(t, req)
	pr, fs := st.Progress, st.Report.Failures
	if pr.InRange != 300 || pr.Matched != 300 || pr.Skipped != 2 || len(fs) != 2 {
		t.Fatalf("progress %+v, failures %+v; want 300 replayed, 2 skipped", pr, fs)
	}
	rel, _ := filepath.Rel(filepath.Join(f.buckets.Dir("logs"), "CloudTraces"), files[0])
	for i, want := range []struct{ id, msg string }{{"bad-service", "service_type"}, {"bad-time", "cannot unmarshal string"}} {
		pos := fmt.Sprintf("%s#%d", rel, len(traces)-2+i)
		if fs[i].ID != want.id || fs[i].Position != pos || fs[i].Rule != "" || !strings.Contains(fs[i].Error, want.msg) {
			t.Errorf("failure %d: %+v, want %s at %s: %q", i, fs[i], want.id, pos, want.msg)
		}
	}
	if err := os.WriteFile(files[1], []byte(`[{"time":1},`), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err = f.m.Start(context.Background(), req); err == nil {
		st, err = f.m.Wait(context.Background(), st.ID)
	}
	if err != nil || st.State != replay.StateFailed || !strings.Contains(st.Error, "replay: archive file ") || strings.Contains(st.Error, f.buckets.Dir("logs")) {
		t.Errorf("unparsable file: %s %q, %v; want failed naming the file, not the bucket directory", st.State, st.Error, err)
	}
}
