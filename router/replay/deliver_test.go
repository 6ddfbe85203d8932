package replay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/router/replay"
	"github.com/auditbus/auditbus/sinks"
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

// The "held" sink kind stands for slow-connecting targets (no real sink
// blocks in Connect): a "slow" one's Connect waits until a "fast" one has
// delivered, and a "fast" one is built only once the slow one is
// connecting, so with one lock over building and connecting sinks the two
// wait for each other. The waits are bounded by a minute, a deadlock's
// bound, not a timing; heldOutcome says whether a delivery ended it.
var (
	heldConnecting = make(chan struct{})
	heldDelivered  = make(chan struct{})
	heldOnce       sync.Once
	heldOutcome    = make(chan bool, 1)
)

type heldSink struct{ slow bool }

func (s heldSink) Connect(ctx context.Context) error {
	if !s.slow {
		return nil
	}
	close(heldConnecting)
	select {
	case <-heldDelivered:
		heldOutcome <- true
	case <-time.After(time.Minute):
		heldOutcome <- false
	case <-ctx.Done():
	}
	return nil
}

func (s heldSink) Deliver(context.Context, *sinks.Delivery) error {
	if !s.slow {
		heldOnce.Do(func() { close(heldDelivered) })
	}
	return nil
}

func (heldSink) Close() error { return nil }

func init() {
	sinks.Register("held", func(n *yaml.Node, _ sinks.Deps) (sinks.Sink, error) {
		var c struct{ Role string }
		if err := n.Decode(&c); err != nil {
			return nil, err
		}
		if c.Role == "fast" {
			select {
			case <-heldConnecting:
			case <-time.After(time.Minute):
				return nil, errors.New("built while the slow sink could not start connecting")
			}
		}
		return heldSink{slow: c.Role == "slow"}, nil
	})
}

// TestSlowConnectHoldsOnlyItsTarget: while one target's sink is still
// connecting, another worker builds another target's sink and delivers
// to it: that delivery is what ends the slow Connect.
func TestSlowConnectHoldsOnlyItsTarget(t *testing.T) {
	f := newFixture(t, "")
	start := time.Now().Add(-5 * time.Minute)
	evs := ctsEvents(t, rand.New(rand.NewPCG(6, 6)), 4, start)
	f.publish(t, evs)
	draft := "name: all\npattern: {source: [{prefix: HC.}]}\ntargets:\n  - id: slow\n    held: {role: slow}\n  - id: fast\n    held: {role: fast}\n"
	st := f.run(t, replay.Request{From: start, To: time.Now(), Mode: replay.ModeDeliver, Concurrency: 2, Draft: parse(t, draft)})
	if released := <-heldOutcome; !released {
		t.Fatal("the slow Connect was not ended by a delivery to the other target: a connecting sink held every worker")
	}
	if st.Progress.Delivered != int64(2*len(evs)) {
		t.Errorf("progress %+v, failures %+v; want %d delivered", st.Progress, st.Report.Failures, 2*len(evs))
	}
}

// TestLongRetryAfterFails: a target asking to retry after longer than
// MaxRetryAfter fails the delivery at once, with the reason, rather than
// holding the replay for as long as it asks.
func TestLongRetryAfterFails(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, "")
	start := time.Now().Add(-5 * time.Minute)
	f.publish(t, ctsEvents(t, rand.New(rand.NewPCG(7, 7)), 1, start))
	st, err := f.m.Start(context.Background(), replay.Request{From: start, To: time.Now(), Mode: replay.ModeDeliver, Draft: parse(t, hookRule(srv.URL))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang's bound, not a timing
	defer cancel()
	if st, err = f.m.Wait(ctx, st.ID); err != nil {
		t.Fatalf("the replay still waits on the target's Retry-After: %v", err)
	}
	fs := st.Report.Failures
	if st.State != replay.StateDone || st.Progress.Failed != 1 || calls.Load() != 1 || len(fs) != 1 ||
		!strings.Contains(fs[0].Error, "the target asks to retry after 1h0m0s, longer than a replay waits, 30s") {
		t.Errorf("state %s, progress %+v, %d calls, failures %+v", st.State, st.Progress, calls.Load(), fs)
	}
}
