package ruleset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/rules"
)

// Apply installs a rule set in the router; dispatch.Router.SetRules is the
// real one. On error the router must keep its previous set.
type Apply func(ctx context.Context, set *rules.Set) error

// Manager owns the rule sources and the running set built from them. Its
// methods are safe for concurrent use.
type Manager struct {
	opts    options
	metrics *metrics

	mu      sync.Mutex // guards everything below, and serializes rebuilds
	files   map[string]*source
	api     map[string]*source
	touched map[string]bool // source ids changed since the last rebuild
	removed []*source       // sources removed since the last rebuild
	paths   listing         // the last file listing
	loaded  bool            // LoadFiles succeeded
	started bool
	apply   Apply
	retry   bool // the last Apply failed: rebuild at the next tick
	kv      jetstream.KeyValue
	cancel  context.CancelFunc // ends what Start started

	view atomic.Pointer[view]

	wg       sync.WaitGroup
	stopOnce sync.Once
}

// ErrStarted is returned by a second Start.
var ErrStarted = errors.New("rule manager already started")

var _ api.RuleStore = (*Manager)(nil)

// New returns a Manager. It does nothing until LoadFiles or Start.
func New(opts ...Option) *Manager {
	o := buildOptions(opts)
	m := &Manager{opts: o, metrics: newMetrics(o.reg), files: map[string]*source{},
		api: map[string]*source{}, touched: map[string]bool{}}
	m.view.Store(emptyView())
	return m
}

// LoadFiles reads and validates every rule file, without applying
// anything. It fails with rules.Errors listing every problem (a path that
// does not exist, a file that does not parse or fails the check, a rule
// name two files define) since at start there is no last good version to
// keep running. Start calls it when it has not been called.
func (m *Manager) LoadFiles() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.paths = m.scanFiles(m.opts.now())
	errs := append(rules.Errors(nil), m.pathErrors()...)
	for _, p := range m.paths.missing {
		errs = append(errs, &rules.Error{Pos: rules.Position{File: p}, Msg: "rule path: no such file or directory"})
	}
	m.accept()
	for _, s := range m.sources() {
		errs = append(errs, s.problems...)
	}
	if len(errs) > 0 {
		return sorted(errs)
	}
	m.loaded = true
	return nil
}

// Start loads the files (unless LoadFiles did), then, when js is not nil,
// creates the KV bucket of API rules if needed and reads it, builds the
// running set and installs it with apply; an error from any step is
// returned and nothing keeps running. Afterwards it polls the files and
// watches the bucket until Stop. With js nil there are no API rules and
// Put and Delete fail with api.ErrRuleStoreUnavailable. A Manager starts
// once: a second Start returns ErrStarted.
func (m *Manager) Start(ctx context.Context, js jetstream.JetStream, apply Apply) error {
	runCtx, err := m.begin(ctx)
	if err != nil {
		return err
	}
	var w jetstream.KeyWatcher
	if js != nil {
		if w, err = m.openKV(ctx, runCtx, js); err != nil {
			m.Stop()
			return err
		}
	}
	m.mu.Lock()
	m.apply = apply
	err = m.rebuild(ctx, "start", true)
	m.mu.Unlock()
	if err != nil {
		if w != nil {
			stopWatcher(w)
		}
		m.Stop()
		return fmt.Errorf("install rules: %w", err)
	}
	if w != nil {
		m.wg.Go(func() { m.watch(runCtx, w) })
	}
	if m.opts.interval > 0 && len(m.opts.paths) > 0 {
		m.wg.Go(func() { m.poll(runCtx) })
	}
	return nil
}

// begin marks the Manager started, loads the files unless LoadFiles did,
// and returns the context its goroutines run in until Stop.
func (m *Manager) begin(ctx context.Context) (context.Context, error) {
	m.mu.Lock()
	started, loaded := m.started, m.loaded
	m.started = true
	m.mu.Unlock()
	if started {
		return nil, ErrStarted
	}
	if !loaded {
		if err := m.LoadFiles(); err != nil {
			return nil, err
		}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.mu.Lock()
	m.cancel = cancel
	m.mu.Unlock()
	return runCtx, nil
}

// Stop ends polling and watching and waits for them. The running set stays
// installed. Safe to call twice, and before Start.
func (m *Manager) Stop() {
	m.stopOnce.Do(func() {
		m.mu.Lock()
		cancel := m.cancel
		m.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		m.wg.Wait()
	})
}

// poll checks the files every interval until ctx ends.
func (m *Manager) poll(ctx context.Context) {
	t := time.NewTicker(m.opts.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.pollOnce(ctx)
		}
	}
}

func (m *Manager) pollOnce(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	before, now := m.paths, m.opts.now()
	m.paths = m.scanFiles(now)
	m.settleDue(now)
	m.reportPaths(before)
	if len(m.touched) > 0 || m.retry {
		_ = m.rebuild(ctx, "files", false)
	}
}

// rebuild accepts what changed, installs the resulting set when the
// running rules changed (or always, with force), then reports and
// publishes the new state. The caller holds m.mu. When Apply fails, every
// source goes back to the version it ran before, so the state matches what
// the router runs, and the next tick tries again.
func (m *Manager) rebuild(ctx context.Context, trigger string, force bool) error {
	before := m.runningVersions()
	changed := m.accept() || len(m.removed) > 0
	var err error
	if changed || force || m.retry {
		err = m.install(ctx)
		m.retry = err != nil
		if err != nil {
			m.restore(before, err)
		}
	}
	m.report(trigger, err)
	m.touched, m.removed = map[string]bool{}, nil
	m.publish()
	return err
}

func (m *Manager) install(ctx context.Context) error {
	set, err := rules.Compile(m.runningRules())
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if m.apply == nil {
		return errors.New("no router to install rules in")
	}
	return m.apply(ctx, set)
}

// restore puts every source back on the version it ran before a failed
// install; the versions that were not installed become its problem.
func (m *Manager) restore(before map[*source]*version, err error) {
	for s, v := range before {
		if s.running == v {
			continue
		}
		s.running = v
		s.problems = rules.Errors{{Pos: rules.Position{File: s.label()}, Msg: fmt.Sprintf("not installed: %v", err)}}
	}
}

func (m *Manager) runningVersions() map[*source]*version {
	out := map[*source]*version{}
	for _, s := range m.sources() {
		out[s] = s.running
	}
	return out
}

// pathErrors are the listing's problems, in path order.
func (m *Manager) pathErrors() rules.Errors {
	var errs rules.Errors
	for _, p := range m.opts.paths {
		if e, ok := m.paths.errs[p]; ok {
			errs = append(errs, e)
		}
	}
	return errs
}

// sorted orders errors by file, line and column, keeping the order of
// errors at one position.
func sorted(errs rules.Errors) rules.Errors {
	slices.SortStableFunc(errs, func(a, b *rules.Error) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return errs
}

// asErrors flattens an error from the rules package into its list.
func asErrors(err error) rules.Errors {
	var es rules.Errors
	if errors.As(err, &es) {
		return es
	}
	return rules.Errors{{Msg: err.Error()}}
}
