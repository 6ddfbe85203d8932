package replay_test

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
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
