package replay_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditbus/auditbus/router/replay"
)

// hook is a test webhook that records the replay mark of each request;
// with block, it holds every request until the client gives up or the
// test ends.
type hook struct {
	*httptest.Server
	mu      sync.Mutex
	marks   []string
	bodies  []string
	arrived chan struct{}
}

func newHook(t *testing.T, block bool) *hook {
	h := &hook{arrived: make(chan struct{}, 100000)}
	release := make(chan struct{})
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.marks = append(h.marks, r.Header.Get("Ce-"+replay.Extension))
		h.bodies = append(h.bodies, string(body))
		h.mu.Unlock()
		h.arrived <- struct{}{}
		if block {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	t.Cleanup(func() { close(release) }) // before Close
	return h
}

func (h *hook) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.marks...)
}

func hookRule(url string) string {
	return fmt.Sprintf("name: all\npattern: {source: [{prefix: HC.}]}\ntargets:\n  - id: hook\n    webhook: {url: %q}\n", url)
}

// TestDeliverMarks: a deliver replay through a draft sends every event
// of the range to the webhook once, each carrying the replay's id in the
// replayed extension.
func TestDeliverMarks(t *testing.T) {
	h := newHook(t, false)
	f := newFixture(t, "")
	start := time.Now().Add(-5 * time.Minute)
	evs := ctsEvents(t, rand.New(rand.NewPCG(3, 3)), 50, start)
	f.publish(t, evs)
	st := f.run(t, replay.Request{From: start, To: time.Now(), Mode: replay.ModeDeliver, Draft: parse(t, hookRule(h.URL))})
	marks := h.seen()
	if len(marks) != len(evs) || st.Progress.Delivered != int64(len(evs)) || st.Progress.Failed != 0 {
		t.Fatalf("webhook got %d, progress %+v; want %d delivered", len(marks), st.Progress, len(evs))
	}
	for _, m := range marks {
		if m != st.ID {
			t.Fatalf("a delivery marked %q, want %q", m, st.ID)
		}
	}
	if c := st.Report.Targets; len(c) != 1 || c[0].Delivered != int64(len(evs)) {
		t.Errorf("targets %+v", c)
	}
}

// TestCancelStopsPromptly: cancelling a replay whose target holds every
// request returns once the replay stopped, with the held requests
// abandoned (not counted as failures), the rest of the range unread,
// and no request after.
func TestCancelStopsPromptly(t *testing.T) {
	h := newHook(t, true)
	f := newFixture(t, "")
	start := time.Now().Add(-5 * time.Minute)
	f.publish(t, ctsEvents(t, rand.New(rand.NewPCG(4, 4)), 2000, start))
	st, err := f.m.Start(context.Background(), replay.Request{From: start, To: time.Now(), Mode: replay.ModeDeliver,
		Concurrency: 2, Draft: parse(t, hookRule(h.URL))})
	if err != nil {
		t.Fatal(err)
	}
	<-h.arrived
	<-h.arrived // both workers hold a request
	st, err = f.m.Cancel(context.Background(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	pr := st.Progress
	if st.State != replay.StateCancelled || pr.Delivered != 0 || pr.Failed != 0 || pr.Read >= 2000 {
		t.Errorf("after cancel: %s %+v", st.State, pr)
	}
	if n := len(h.seen()); n != 2 {
		t.Errorf("webhook got %d requests, want the 2 in flight at the cancel", n)
	}
	if again, _ := f.m.Get(st.ID); again.State != replay.StateCancelled || again.Progress != pr {
		t.Errorf("later: %s %+v", again.State, again.Progress)
	}
}

// TestInputSeesNoMark: a replayed target's input expression sees the
// event as the live router delivers it, without the replayed mark, while
// the delivery itself carries the mark.
func TestInputSeesNoMark(t *testing.T) {
	h := newHook(t, false)
	f := newFixture(t, "")
	start := time.Now().Add(-5 * time.Minute)
	evs := ctsEvents(t, rand.New(rand.NewPCG(5, 5)), 3, start)
	f.publish(t, evs)
	draft := fmt.Sprintf("name: all\npattern: {source: [{prefix: HC.}]}\ntargets:\n  - id: hook\n    webhook: {url: %q}\n    input: '{\"mark\": replayed ?? \"none\"}'\n", h.URL)
	st := f.run(t, replay.Request{From: start, To: time.Now(), Mode: replay.ModeDeliver, Draft: parse(t, draft)})
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bodies) != len(evs) || st.Progress.Delivered != int64(len(evs)) {
		t.Fatalf("webhook got %d, progress %+v; want %d delivered", len(h.bodies), st.Progress, len(evs))
	}
	for i, b := range h.bodies {
		if strings.TrimSpace(b) != `{"mark":"none"}` || h.marks[i] != st.ID {
			t.Errorf("delivery %d: body %s, mark %q; want {\"mark\":\"none\"} marked %s", i, b, h.marks[i], st.ID)
		}
	}
}
