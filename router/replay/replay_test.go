package replay_test

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router/replay"
	"github.com/auditbus/auditbus/rules"
)

type pair struct{ rule, target string }

// matchesOf is a report's sample as event id to rule target to By.
func matchesOf(r *replay.Report) map[string]map[pair]string {
	out := map[string]map[pair]string{}
	for _, e := range r.Sample {
		m := map[pair]string{}
		for _, x := range e.Matches {
			m[pair{x.Rule, x.Target}] = x.By
		}
		out[e.ID] = m
	}
	return out
}

// engine is what the rule engine says of each event, evaluated rule by
// rule with the reference semantics (Rule.Match over NewEnv): draft and
// live matches merged as the report marks them.
func engine(t *testing.T, draft, live []*rules.Rule, evs []event.Event) map[string]map[pair]string {
	t.Helper()
	out := map[string]map[pair]string{}
	for i := range evs {
		env := rules.NewEnv(&evs[i])
		m := map[pair]string{}
		for _, set := range []struct {
			rs   []*rules.Rule
			mark string
		}{{draft, replay.ByDraft}, {live, replay.ByLive}} {
			for _, r := range set.rs {
				ok, err := r.Match(env)
				if err != nil || !ok {
					continue
				}
				for _, tg := range r.Targets {
					k := pair{r.Name, tg.ID}
					if prev, seen := m[k]; seen && prev != set.mark {
						m[k] = replay.ByBoth
					} else {
						m[k] = set.mark
					}
				}
			}
		}
		if len(m) > 0 {
			out[evs[i].ID()] = m
		}
	}
	return out
}

// TestWhatIfDraftAgreesWithEngine: a what-if through a random draft rule
// set reports, for every event of the range, the rule targets the rule
// engine matches it to, marked against the live rules, and counts them
// per target.
func TestWhatIfDraftAgreesWithEngine(t *testing.T) {
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 16))
		liveSrc, draftSrc := randomRules(rng, 8), randomRules(rng, 8)
		f := newFixture(t, liveSrc)
		start := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
		evs := ctsEvents(t, rng, 300, start)
		f.publish(t, evs)
		draft := parse(t, draftSrc)
		st := f.run(t, replay.Request{From: start, To: start.Add(time.Minute), Draft: draft, Sample: replay.MaxSample})
		want := engine(t, draft, f.live.Rules(), evs)
		got := matchesOf(st.Report)
		if !maps.EqualFunc(got, want, maps.Equal) {
			for id, w := range want {
				if !maps.Equal(got[id], w) {
					t.Errorf("seed %d: event %s: replay %v, engine %v", seed, id, got[id], w)
				}
			}
			t.Fatalf("seed %d: %d events matched by the replay, %d by the engine\nlive:\n%s\ndraft:\n%s", seed, len(got), len(want), liveSrc, draftSrc)
		}
		counts := map[pair][3]int64{}
		for _, m := range want {
			for k, by := range m {
				c := counts[k]
				c[map[string]int{replay.ByDraft: 0, replay.ByLive: 1, replay.ByBoth: 2}[by]]++
				counts[k] = c
			}
		}
		for _, c := range st.Report.Targets {
			if w := counts[pair{c.Rule, c.Target}]; w != [3]int64{c.DraftOnly, c.LiveOnly, c.Both} || c.Matched != w[0]+w[2] {
				t.Errorf("seed %d: %s/%s counted %+v, engine %v", seed, c.Rule, c.Target, c, w)
			}
		}
		if st.Progress.InRange != int64(len(evs)) || st.Report.Truncated {
			t.Errorf("seed %d: %d of %d events in range, truncated %v", seed, st.Progress.InRange, len(evs), st.Report.Truncated)
		}
	}
}

// TestArchiveEqualsStream: replaying a range from a tracker's archive,
// gzip or JSON, reports what replaying it from the stream does.
func TestArchiveEqualsStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 16))
	f := newFixture(t, randomRules(rng, 10))
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	evs := ctsEvents(t, rng, 400, start)
	f.publish(t, evs)
	draft := parse(t, randomRules(rng, 10))
	// The range cuts the minute of events in two: the edges count.
	req := replay.Request{From: start.Add(15 * time.Second), To: start.Add(45 * time.Second), Draft: draft, Sample: replay.MaxSample}
	fromStream := f.run(t, req)
	if fromStream.Progress.Matched == 0 || fromStream.Progress.InRange == int64(len(evs)) {
		t.Fatalf("stream replay: %+v: the test proves nothing", fromStream.Progress)
	}
	for _, compress := range []string{"gzip", "json"} {
		f.archive(t, compress)
		areq := req
		areq.Tracker = "system"
		fromArchive := f.run(t, areq)
		if got, want := matchesOf(fromArchive.Report), matchesOf(fromStream.Report); !maps.EqualFunc(got, want, maps.Equal) {
			t.Errorf("%s archive: %d events matched, stream %d", compress, len(got), len(want))
		}
		if fromArchive.Progress.InRange != fromStream.Progress.InRange || fromArchive.Progress.Matched != fromStream.Progress.Matched {
			t.Errorf("%s archive progress %+v, stream %+v", compress, fromArchive.Progress, fromStream.Progress)
		}
		if fromArchive.Source != "tracker:p1/system" {
			t.Errorf("source %q", fromArchive.Source)
		}
	}
}

// TestBadInput: each mistake is refused at Start with its sentinel and a
// message naming what is wrong.
func TestBadInput(t *testing.T) {
	f := newFixture(t, "name: r\npattern: {source: [x]}\ntargets: [{id: t, log: {}}]\n")
	now := time.Now()
	f.publish(t, ctsEvents(t, rand.New(rand.NewPCG(1, 1)), 3, now.Add(-time.Minute)))
	f.ageOut(t, 1)
	from, to := now.Add(-time.Hour), now
	cases := []struct {
		name string
		req  replay.Request
		is   error
		msg  string
	}{
		{"inverted", replay.Request{From: to, To: from}, replay.ErrInvalid, "is not before to"},
		{"no range", replay.Request{}, replay.ErrInvalid, "from and to are required"},
		{"mode", replay.Request{From: from, To: to, Mode: "dry"}, replay.ErrInvalid, `mode "dry": want deliver or what-if`},
		{"concurrency", replay.Request{From: from, To: to, Concurrency: 1000}, replay.ErrInvalid, "concurrency 1000: want 1 to 64"},
		{"draft bus", replay.Request{From: from, To: to, Draft: parse(t, "name: r\nbus: other\npattern: {source: [x]}\ntargets: [{id: t, log: {}}]\n")},
			replay.ErrInvalid, `draft rule "r" (test.yaml:1:1) is on bus "other"; the replay is of bus "default"`},
		{"unknown bus", replay.Request{From: from, To: to, Bus: "nosuch"}, replay.ErrUnknownBus, `bus "nosuch" has no live rules and no stored events`},
		{"unknown tracker", replay.Request{From: from, To: to, Tracker: "nosuch"}, replay.ErrUnknownTracker, `no tracker "nosuch" in any project`},
		{"project without tracker", replay.Request{From: from, To: to, ProjectID: "p1"}, replay.ErrInvalid, "name the tracker too"},
		{"gone", replay.Request{From: now.Add(-72 * time.Hour), To: now.Add(-48 * time.Hour)}, replay.ErrRangeGone,
			"but the oldest event the stream keeps was stored"},
	}
	for _, c := range cases {
		_, err := f.m.Start(context.Background(), c.req)
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want %v containing %q", c.name, err, c.is, c.msg)
		}
	}
	if n := len(f.m.List()); n != 0 {
		t.Errorf("refused requests left %d replays", n)
	}
}

// TestAgedOutStartWarns: a range that begins before the oldest stored
// event runs, and says that its start is gone.
func TestAgedOutStartWarns(t *testing.T) {
	f := newFixture(t, "name: r\npattern: {source: [{prefix: HC.}]}\ntargets: [{id: t, log: {}}]\n")
	now := time.Now()
	f.publish(t, ctsEvents(t, rand.New(rand.NewPCG(1, 1)), 6, now.Add(-time.Minute)))
	f.ageOut(t, 1)
	st := f.run(t, replay.Request{From: now.Add(-48 * time.Hour), To: time.Now()})
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "have aged out of the stream") {
		t.Errorf("warnings %q", st.Warnings)
	}
	if st.Progress.Matched != 5 {
		t.Errorf("matched %d of 5", st.Progress.Matched)
	}
}

// TestEmptyRangeWarns: a range with no event says so.
func TestEmptyRangeWarns(t *testing.T) {
	f := newFixture(t, "name: r\npattern: {source: [{prefix: HC.}]}\ntargets: [{id: t, log: {}}]\n")
	now := time.Now()
	f.publish(t, ctsEvents(t, rand.New(rand.NewPCG(1, 1)), 3, now.Add(-time.Minute)))
	st := f.run(t, replay.Request{From: now.Add(-3 * time.Hour), To: now.Add(-2 * time.Hour)})
	if st.Progress.Read != 3 || len(st.Warnings) != 1 || st.Warnings[0] != "the events stream (of this bus) holds no event of the range" {
		t.Errorf("progress %+v, warnings %q", st.Progress, st.Warnings)
	}
}
