package replay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/auditbus/auditbus/router/dispatch"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// States of a replay.
const (
	StateRunning   = "running"
	StateDone      = "done"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// Bounds of a Manager.
const (
	DefaultMaxRunning = 4   // replays running at once; more are refused (ErrBusy)
	keepFinished      = 100 // finished replays kept for GET, newest
)

// Config is what a Manager needs; zero fields other than JS and
// LiveRules mean "none".
type Config struct {
	JS        jetstream.JetStream
	LiveRules func() *rules.Set // the router's running rules
	// TargetState is the live router's state of a target, so that a
	// replay does not deliver where the router holds deliveries (a
	// disabled target, one awaiting consent); nil: none is held.
	TargetState func(bus, rule, target string) dispatch.TargetState
	Trackers    Trackers                   // nil: no archive replays
	BucketDir   func(bucket string) string // a declared bucket's directory, "" if none
	Deps        sinks.Deps                 // what the replay's own sinks use
	MaxRunning  int                        // default DefaultMaxRunning
	Log         zerolog.Logger
}

// Status is a replay as the API shows it.
type Status struct {
	ID       string    `json:"id"`
	State    string    `json:"state"`
	Error    string    `json:"error,omitempty"`
	Bus      string    `json:"bus"`
	Mode     string    `json:"mode"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Source   string    `json:"source"` // "stream", or "tracker:<project_id>/<name>"
	Draft    bool      `json:"draft"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished,omitzero"`
	Warnings []string  `json:"warnings,omitempty"`
	Progress Progress  `json:"progress"`
	Report   *Report   `json:"report,omitempty"` // Get only
}

// FromArchive reports whether the replay reads a tracker's archive, which
// holds the events of every bus (whatever the replay's Bus).
func (s Status) FromArchive() bool { return strings.HasPrefix(s.Source, sourceTracker) }

// sourceTracker begins an archive replay's Source.
const sourceTracker = "tracker:"

// Manager runs replays in this process and keeps their records in memory.
type Manager struct {
	cfg Config

	mu     sync.Mutex
	runs   map[string]*run
	order  []string // ids, oldest first
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// run is one replay.
type run struct {
	status Status // guarded by Manager.mu once started
	tally  *tally
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Manager; Stop ends its replays.
func New(cfg Config) *Manager {
	if cfg.MaxRunning <= 0 {
		cfg.MaxRunning = DefaultMaxRunning
	}
	m := &Manager{cfg: cfg, runs: map[string]*run{}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Start checks req, opens its source (so a bad range, an unknown bus or
// tracker is answered at once: ErrInvalid, ErrUnknownBus,
// ErrUnknownTracker, ErrRangeGone) and runs the replay in the
// background. ErrBusy: MaxRunning replays are running.
func (m *Manager) Start(ctx context.Context, req Request) (Status, error) {
	if err := req.normalize(); err != nil {
		return Status{}, err
	}
	live := m.cfg.LiveRules()
	set := live
	if req.Draft != nil {
		var err error
		if set, err = rules.Compile(req.Draft); err != nil {
			return Status{}, fmt.Errorf("%w: draft rules: %w", ErrInvalid, err)
		}
	}
	if err := m.checkBus(ctx, &req, live); err != nil {
		return Status{}, err
	}
	src, label, warnings, err := m.open(ctx, &req)
	if err != nil {
		return Status{}, err
	}
	var diffWith *rules.Set
	if req.Draft != nil && req.Mode == ModeWhatIf {
		diffWith = live
	}
	r := &run{tally: newTally(req.Sample), done: make(chan struct{}), status: Status{
		ID: newID(), State: StateRunning, Bus: req.Bus, Mode: req.Mode, From: req.From, To: req.To, Source: label,
		Draft: req.Draft != nil, Created: time.Now().UTC(), Warnings: warnings}}
	if err := m.admit(r); err != nil {
		return Status{}, err
	}
	runCtx, cancel := context.WithCancel(m.ctx)
	r.cancel = cancel
	mt := newMatcher(req.Bus, set, diffWith)
	m.wg.Go(func() { m.exec(runCtx, r, &req, src, mt) })
	return m.view(r, false), nil
}

// checkBus refuses a bus that has neither live rules nor stored events.
func (m *Manager) checkBus(ctx context.Context, req *Request, live *rules.Set) error {
	for _, r := range live.Rules() {
		if r.Bus == req.Bus {
			return nil
		}
	}
	ok, err := busHasEvents(ctx, m.cfg.JS, req.Bus)
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("%w: bus %q has no live rules and no stored events", ErrUnknownBus, req.Bus)
}

// open returns the request's source and how a Status names it.
func (m *Manager) open(ctx context.Context, req *Request) (source, string, []string, error) {
	if req.Tracker == "" {
		src, warnings, err := openStream(ctx, m.cfg.JS, req)
		return src, "stream", warnings, err
	}
	if m.cfg.Trackers == nil {
		return nil, "", nil, fmt.Errorf("%w: this server keeps no trackers", ErrUnknownTracker)
	}
	t, err := findTracker(ctx, m.cfg.Trackers, req)
	if err != nil {
		return nil, "", nil, err
	}
	dir := ""
	if m.cfg.BucketDir != nil {
		dir = m.cfg.BucketDir(t.ObsInfo.BucketName)
	}
	src, warnings, err := openArchive(ctx, t, dir, req)
	return src, sourceTracker + t.ProjectID + "/" + t.TrackerName, warnings, err
}

// admit records r unless MaxRunning replays run, dropping the oldest
// finished records beyond keepFinished.
func (m *Manager) admit(r *run) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	running := 0
	for _, x := range m.runs {
		if x.status.State == StateRunning {
			running++
		}
	}
	if running >= m.cfg.MaxRunning {
		return fmt.Errorf("%w: %d are running, the most this server runs at once; wait for one to end or cancel one", ErrBusy, running)
	}
	m.runs[r.status.ID] = r
	m.order = append(m.order, r.status.ID)
	for len(m.order)-(running+1) > keepFinished {
		i := slices.IndexFunc(m.order, func(id string) bool { return m.runs[id].status.State != StateRunning })
		delete(m.runs, m.order[i])
		m.order = slices.Delete(m.order, i, i+1)
	}
	return nil
}

// exec reads the source to its end, matching each event in the range
// and, in deliver mode, delivering its matches.
func (m *Manager) exec(ctx context.Context, r *run, req *Request, src source, mt *matcher) {
	defer close(r.done)
	var d *deliverer
	if req.Mode == ModeDeliver {
		deps := m.cfg.Deps
		deps.Log = m.cfg.Log
		d = newDeliverer(ctx, r.status.ID, req, deps, m.cfg.TargetState, r.tally)
	}
	err := src.read(ctx, func(it item) error {
		r.tally.at(it.position)
		if it.refused != nil {
			r.tally.refuse(*it.refused)
			return nil
		}
		if !req.inRange(it.at) {
			return nil
		}
		r.tally.inRange.Add(1)
		matches, matched, err := mt.match(it.data)
		if err != nil {
			r.tally.skipped.Add(1)
			return nil
		}
		if len(matches) == 0 {
			return nil
		}
		ev := header(it.data, it.position)
		ev.Matches = matches
		r.tally.add(ev, mt.live != nil)
		if d != nil && len(matched) > 0 {
			return d.submit(ctx, it.data, matched)
		}
		return nil
	})
	if d != nil {
		d.close()
	}
	m.finish(r, ctx, err)
}

func (m *Manager) finish(r *run, ctx context.Context, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.status.Finished = time.Now().UTC()
	switch {
	case ctx.Err() != nil:
		r.status.State = StateCancelled
	case err != nil:
		r.status.State, r.status.Error = StateFailed, err.Error()
		m.cfg.Log.Warn().Err(err).Str("replay", r.status.ID).Msg("replay failed")
	default:
		r.status.State = StateDone
		if r.tally.inRange.Load() == 0 {
			r.status.Warnings = append(r.status.Warnings, fmt.Sprintf("the %s holds no event of the range", sourceName(r.status.Source)))
		}
	}
	m.cfg.Log.Info().Str("replay", r.status.ID).Str("state", r.status.State).Int64("read", r.tally.read.Load()).
		Int64("matched", r.tally.matched.Load()).Int64("delivered", r.tally.delivered.Load()).Int64("failed", r.tally.failed.Load()).Msg("replay ended")
}

// view is r's status now, with its report when full.
func (m *Manager) view(r *run, full bool) Status {
	m.mu.Lock()
	st := r.status
	m.mu.Unlock()
	st.Warnings = slices.Clone(st.Warnings)
	st.Progress = r.tally.progress()
	if full {
		rep := r.tally.snapshot()
		st.Report = &rep
	}
	return st
}

// Get is one replay with its report; ErrNotFound if this process does
// not know it (never started here, dropped, or started before a restart).
func (m *Manager) Get(id string) (Status, error) {
	m.mu.Lock()
	r := m.runs[id]
	m.mu.Unlock()
	if r == nil {
		return Status{}, fmt.Errorf("%w %q on this server (replays live in the process that accepted them, until it stops)", ErrNotFound, id)
	}
	return m.view(r, true), nil
}

// List is every replay this process knows, oldest first, without reports.
func (m *Manager) List() []Status {
	m.mu.Lock()
	runs := make([]*run, len(m.order))
	for i, id := range m.order {
		runs[i] = m.runs[id]
	}
	m.mu.Unlock()
	out := make([]Status, len(runs))
	for i, r := range runs {
		out[i] = m.view(r, false)
	}
	return out
}

// Cancel stops a replay and waits until it stopped: no delivery of it
// starts after Cancel returns. Cancelling a finished replay changes
// nothing.
func (m *Manager) Cancel(ctx context.Context, id string) (Status, error) {
	m.mu.Lock()
	r := m.runs[id]
	m.mu.Unlock()
	if r == nil {
		return Status{}, fmt.Errorf("%w %q on this server", ErrNotFound, id)
	}
	r.cancel()
	select {
	case <-r.done:
	case <-ctx.Done():
		return Status{}, ctx.Err()
	}
	return m.view(r, true), nil
}

// Wait blocks until the replay ended, then returns its status.
func (m *Manager) Wait(ctx context.Context, id string) (Status, error) {
	m.mu.Lock()
	r := m.runs[id]
	m.mu.Unlock()
	if r == nil {
		return Status{}, fmt.Errorf("%w %q on this server", ErrNotFound, id)
	}
	select {
	case <-r.done:
		return m.view(r, true), nil
	case <-ctx.Done():
		return Status{}, ctx.Err()
	}
}

// Stop cancels every replay and waits for them to stop.
func (m *Manager) Stop() {
	m.cancel()
	m.wg.Wait()
}

// sourceName is a Status's source in words.
func sourceName(source string) string {
	if source == "stream" {
		return "events stream (of this bus)"
	}
	return "archive of " + strings.TrimPrefix(source, sourceTracker)
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "rp-" + hex.EncodeToString(b)
}
