package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// table is one rule set with a connected sink per (rule, target). Tables
// are immutable once built and swapped whole; inUse lets the router close
// an old table's sinks only after the last event matched against it is done.
type table struct {
	set   *rules.Set
	sinks map[targetKey]sinks.Sink
	inUse sync.RWMutex
}

type targetKey struct{ bus, rule, target string }

// buildTable creates a sink for every target of every enabled rule. A sink
// that fails to build fails the whole table, so a half-working rule set is
// never installed; Connect errors are only logged by the caller because a
// target that is down now may be up when its first event arrives.
func buildTable(ctx context.Context, set *rules.Set, deps sinks.Deps) (*table, []error, error) {
	t := &table{set: set, sinks: map[targetKey]sinks.Sink{}}
	var warnings []error
	for _, r := range set.Rules() {
		for _, tg := range r.Targets {
			s, err := sinks.New(tg.Kind, &tg.Config, deps)
			if err != nil {
				t.close()
				return nil, nil, fmt.Errorf("rule %q target %q: %w", r.Name, tg.ID, err)
			}
			t.sinks[targetKey{r.Bus, r.Name, tg.ID}] = s
			if err := s.Connect(ctx); err != nil {
				warnings = append(warnings, fmt.Errorf("rule %q target %q: connect: %w", r.Name, tg.ID, err))
			}
		}
	}
	return t, warnings, nil
}

// close waits until no event uses the table, then closes its sinks.
func (t *table) close() error {
	t.inUse.Lock()
	defer t.inUse.Unlock()
	var errs []error
	for k, s := range t.sinks {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("rule %q target %q: close: %w", k.rule, k.target, err))
		}
	}
	t.sinks = nil
	return errors.Join(errs...)
}
