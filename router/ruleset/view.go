package ruleset

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/rules"
)

// view is an immutable picture of the rules, published after every
// rebuild, so that reads never wait for a rebuild.
type view struct {
	rules map[ruleKey]api.StoredRule // running rules, then stored API rules that do not run
	order []ruleKey                  // running rules, by bus then name
	// files maps rule names defined by files, running or latest, to where;
	// names whose removal waits for the settle time are left out.
	files  map[ruleKey]rules.Position
	status api.RulesStatus
	done   chan struct{} // closed when a newer view replaces this one
}

func emptyView() *view { return sizedView(0) }

// sizedView is an empty view with room for n rules: at 100,000 rules,
// growing the maps was a tenth of the CPU that loading them took.
func sizedView(n int) *view {
	return &view{rules: make(map[ruleKey]api.StoredRule, n), files: make(map[ruleKey]rules.Position, n),
		order: make([]ruleKey, 0, n), done: make(chan struct{})}
}

// publish replaces the view with the current state. The caller holds m.mu.
func (m *Manager) publish() {
	all := m.sources()
	n := 0
	for _, s := range all {
		n += len(versionRules(s.running))
	}
	v := sizedView(n)
	for _, s := range all {
		if !s.api {
			// A name whose removal only waits for the settle time is not
			// the file's any more: the API may take it (yield.go).
			pending := pendingNames(s)
			for _, ver := range []*version{s.want, s.running} {
				for _, r := range versionRules(ver) {
					if !pending[keyOf(r)] {
						v.files[keyOf(r)] = r.Pos
					}
				}
			}
		}
		for _, r := range versionRules(s.running) {
			v.rules[keyOf(r)] = stored(s, r)
			v.order = append(v.order, keyOf(r))
		}
	}
	for _, s := range all {
		if !s.api || s.running != nil {
			continue
		}
		// Stored but never good: shown unless a running rule has the name.
		if k := apiKey(s.id); v.rules[k].Name == "" {
			v.rules[k] = api.StoredRule{Bus: k.bus, Name: k.name, Origin: api.Origin{Kind: api.OriginAPI},
				Document: s.doc, Revision: s.rev, Errors: errorStrings(s.problems)}
		}
	}
	slices.SortFunc(v.order, func(a, b ruleKey) int { return cmp.Or(cmp.Compare(a.bus, b.bus), cmp.Compare(a.name, b.name)) })
	v.status = api.RulesStatus{Loaded: len(v.order), Errors: m.problems(), PendingRemovals: m.pendingRemovals()}
	close(m.view.Swap(v).done)
}

func versionRules(v *version) []*rules.Rule {
	if v == nil {
		return nil
	}
	return v.rules
}

// stored is running rule r of source s as the API shows it.
func stored(s *source, r *rules.Rule) api.StoredRule {
	st := api.StoredRule{Bus: r.Bus, Name: r.Name, Rule: r, Errors: errorStrings(s.problems)}
	if !s.api {
		st.Origin = api.Origin{Kind: api.OriginFile, File: r.Pos.File, Line: r.Pos.Line}
		return st
	}
	st.Origin = api.Origin{Kind: api.OriginAPI, Revision: s.running.rev}
	st.Document, st.Revision = s.doc, s.rev
	return st
}

func errorStrings(errs rules.Errors) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// apiKey splits a KV key "<bus>.<name>".
func apiKey(key string) ruleKey {
	bus, name, _ := strings.Cut(key, ".")
	return ruleKey{bus, name}
}

// waitFor waits until a published view satisfies ok, at most the write
// wait; it reports whether one did.
func (m *Manager) waitFor(ctx context.Context, ok func(*view) bool) bool {
	ctx, cancel := context.WithTimeout(ctx, m.opts.writeWait)
	defer cancel()
	for {
		v := m.view.Load()
		if ok(v) {
			return true
		}
		select {
		case <-v.done:
		case <-ctx.Done():
			return false
		}
	}
}

// List returns every running rule, sorted by bus, then name.
func (m *Manager) List() []api.StoredRule {
	v := m.view.Load()
	out := make([]api.StoredRule, len(v.order))
	for i, k := range v.order {
		out[i] = v.rules[k]
	}
	return out
}

// Get returns the running rule name of bus, or the stored API rule of that
// name when it does not run.
func (m *Manager) Get(bus, name string) (api.StoredRule, bool) {
	r, ok := m.view.Load().rules[ruleKey{bus, name}]
	return r, ok
}

// Status is the number of running rules and every current problem.
func (m *Manager) Status() api.RulesStatus { return m.view.Load().status }
