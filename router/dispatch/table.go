package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// table is one rule set with a connected sink per (rule, target). Tables
// are immutable once built (bindings is never written again) and swapped
// whole; inUse lets the router close
// an old table's sinks only after the last delivery using it is done.
type table struct {
	set      *rules.Set
	bindings map[targetKey]*binding
	byRule   map[*rules.Rule]*ruleEntry // a rule's targets and match counter, for the fan-out
	consent  []*binding                 // the bindings whose target asks for consent, for the steward
	inUse    sync.RWMutex
}

// ruleEntry is what the fan-out needs of a matched rule.
type ruleEntry struct {
	bindings []*binding // in order
	matches  lazyCounter
}

// targetKey names one (rule, target) pair, and so one delivery queue.
type targetKey struct{ bus, rule, target string }

// binding is what a delivery needs of one pair, looked up once, when the
// table is built, rather than on every delivery.
type binding struct {
	key     targetKey
	rule    *rules.Rule
	target  rules.Target
	sink    sinks.Sink
	consent *consent // nil: the target asks for no consent
	input   bool     // the target has an input expression
	confirm bool     // smn confirm: deliveries carry the unsubscribe URL
	latency prometheus.Observer
	lane    *lane // set before the table is installed (syncLanes)
}

// buildTable creates a sink for every target of every rule (disabled rules
// included: they match nothing new, but what is already queued for them is
// still delivered). A sink that fails to build fails the whole table, so a
// half-working rule set is never installed; Connect errors are only
// returned as warnings because a target that is down now may be up when
// its first delivery arrives.
func buildTable(ctx context.Context, set *rules.Set, deps sinks.Deps, m *metrics) (*table, []error, error) {
	t := &table{set: set, bindings: map[targetKey]*binding{}, byRule: map[*rules.Rule]*ruleEntry{}}
	var warnings []error
	for _, r := range set.Rules() {
		e := &ruleEntry{matches: lazyCounter{vec: m.matches, labels: []string{r.Bus, r.Name}}}
		t.byRule[r] = e
		for _, tg := range r.Targets {
			s, err := sinks.New(tg.Kind, &tg.Config, deps)
			if err != nil {
				t.close()
				return nil, nil, fmt.Errorf("rule %q target %q: %w", r.Name, tg.ID, err)
			}
			b := &binding{key: targetKey{r.Bus, r.Name, tg.ID}, rule: r, target: tg, sink: s, consent: newConsent(s),
				input: r.HasInput(tg.ID), latency: m.latency.WithLabelValues(tg.Kind)}
			b.confirm = b.consent != nil && b.consent.mode == sinks.ConsentConfirm
			t.bindings[b.key] = b
			if b.consent != nil {
				t.consent = append(t.consent, b)
			}
			e.bindings = append(e.bindings, b)
			if err := s.Connect(ctx); err != nil {
				warnings = append(warnings, fmt.Errorf("rule %q target %q: connect: %w", r.Name, tg.ID, err))
			}
		}
	}
	return t, warnings, nil
}

// close waits until no delivery uses the table, then closes its sinks.
func (t *table) close() error {
	t.inUse.Lock()
	defer t.inUse.Unlock()
	var errs []error
	for k, b := range t.bindings {
		if err := b.sink.Close(); err != nil {
			errs = append(errs, fmt.Errorf("rule %q target %q: close: %w", k.rule, k.target, err))
		}
	}
	// bindings stays: it is never written after buildTable, so the
	// checks that read a table without holding it (held, the steward)
	// may still read a replaced one.
	return errors.Join(errs...)
}
