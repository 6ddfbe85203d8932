package ruleset

import "github.com/auditbus/auditbus/rules"

// A rule whose removal from a file waits for the settle time (settle.go)
// runs only as a precaution: the file no longer defines it. So it must not
// make another source that now defines the name broken, which is what a
// rule moved from one file to another, or from a file to the API, looks
// like. Such a claim is weak: conflicts ignore it, the other source runs
// the rule at once, and yield then drops the name from the pending
// removal, which keeps waiting only for the rules nobody else defines.

// pendingNames are the rules s runs only because their removal waits for
// the settle time: all its rules when the file is gone, else those its
// held version lacks.
func pendingNames(s *source) map[ruleKey]bool {
	out := map[ruleKey]bool{}
	if s.api || s.running == nil {
		return out
	}
	switch {
	case !s.goneSince.IsZero():
		for _, r := range s.running.rules {
			out[keyOf(r)] = true
		}
	case s.held != nil:
		keep := map[ruleKey]bool{}
		for _, r := range s.held.rules {
			keep[keyOf(r)] = true
		}
		for _, r := range s.running.rules {
			if !keep[keyOf(r)] {
				out[keyOf(r)] = true
			}
		}
	}
	return out
}

// yield removes from each source's running version the pending names that
// another source runs, and reports whether it did. A held version whose
// every lost rule went elsewhere becomes the source's latest version, to be
// accepted like any edit; a gone file left without rules is removed. The
// caller holds m.mu.
func (m *Manager) yield(all []*source) bool {
	pending := map[*source]map[ruleKey]bool{}
	anyPending := false
	for _, s := range all {
		pending[s] = pendingNames(s)
		anyPending = anyPending || len(pending[s]) > 0
	}
	// Only a pending name is ever yielded; without one, there is no need
	// for owner, a map of every running rule.
	if !anyPending {
		return false
	}
	owner := map[ruleKey]*source{} // who runs a name for good
	for _, s := range all {
		for _, r := range versionRules(s.running) {
			if !pending[s][keyOf(r)] {
				owner[keyOf(r)] = s
			}
		}
	}
	yielded := false
	for _, s := range all {
		var keep []*rules.Rule
		var moved []string
		for _, r := range versionRules(s.running) {
			if o := owner[keyOf(r)]; pending[s][keyOf(r)] && o != nil && o != s {
				moved = append(moved, r.Bus+"/"+r.Name)
				continue
			}
			keep = append(keep, r)
		}
		if len(moved) == 0 {
			continue
		}
		yielded = true
		m.opts.log.Info().Str("source", s.label()).Strs("rules", moved).
			Msg("rules moved to another source: their pending removal here is dropped")
		m.drop(s, keep)
	}
	return yielded
}

// drop makes s run only keep, its rules less those another source took.
// The version matches no file content, so it has no fingerprint.
func (m *Manager) drop(s *source, keep []*rules.Rule) {
	s.running = &version{rules: keep}
	s.want = s.running
	switch {
	case s.held != nil && len(lostRules(s.running, s.held)) == 0:
		s.want, s.held = s.held, nil // nothing left to wait for
	case !s.goneSince.IsZero() && len(keep) == 0:
		delete(m.files, s.id)
		m.touched[s.id] = true
		m.removed = append(m.removed, s)
	}
}
