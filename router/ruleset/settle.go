package ruleset

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// A rules file being rewritten in place is, for a moment, empty or cut
// short, and a poll that reads it then sees a valid file with fewer rules.
// Applying that would stop rules, and the events they match would reach no
// target. So after start a file's change waits until two polls in a row
// read the same content (readFile), and a version that drops rules the
// file runs, or a file that is gone, waits until it has stayed so for the
// settle time (holdLoss, settleDue); until then the old version runs.

// changingPolls is how many polls in a row must read different content of
// a file before noteChanging says so: more than a slow rewrite takes.
const changingPolls = 5

// noteChanging counts a poll that read a new candidate for s, and logs
// once, when the count reaches changingPolls, that the file is not taken
// because it keeps changing: a file rewritten at least once per poll is
// never applied, and without the log nothing would say why. The caller
// holds m.mu.
func (m *Manager) noteChanging(s *source, now time.Time) {
	if s.changing == 0 {
		s.changingSince = now
	}
	s.changing++
	if s.changing == changingPolls {
		m.opts.log.Warn().Str("source", s.label()).Int("polls", s.changing).Time("changing_since", s.changingSince).
			Msg("rule file keeps changing: a change is applied only once two polls in a row read the same content, so its last applied version keeps running")
	}
}

// holdLoss keeps s's running version while s.want, just parsed, lacks
// rules that it runs: the new version waits in s.held until settleDue
// finds it has lasted the settle time. The caller holds m.mu.
func (m *Manager) holdLoss(s *source, now time.Time) {
	s.held = nil
	lost := lostRules(s.running, s.want)
	if len(lost) == 0 || m.opts.settle <= 0 || !m.loaded {
		return
	}
	s.held, s.heldSince, s.want = s.want, now, s.running
	m.opts.log.Warn().Str("source", s.label()).Strs("rules", lost).Dur("settle", m.opts.settle).Time("removal_at", now.Add(m.opts.settle)).
		Msg("rule file lost rules: they keep running until the file has stayed without them for the settle time")
}

// holdGone keeps a file that is no longer listed (deleted, or gone from
// its directory) until it has stayed gone for the settle time, and reports
// whether it is kept. The caller holds m.mu.
func (m *Manager) holdGone(s *source, now time.Time) bool {
	if m.opts.settle <= 0 || !m.loaded || s.running == nil || len(s.running.rules) == 0 {
		return false
	}
	if s.goneSince.IsZero() {
		s.goneSince = now
		m.touched[s.id] = true // the rebuild publishes the pending removal
		m.opts.log.Warn().Str("source", s.label()).Strs("rules", ruleNames(s.running)).Dur("settle", m.opts.settle).Time("removal_at", now.Add(m.opts.settle)).
			Msg("rule file is gone: its rules keep running until it has stayed gone for the settle time")
	}
	return now.Sub(s.goneSince) < m.opts.settle
}

// settleDue lets the held versions that have lasted the settle time take
// effect. The caller holds m.mu, and runs a rebuild for what it touched.
func (m *Manager) settleDue(now time.Time) {
	for _, s := range m.files {
		if s.held == nil || now.Sub(s.heldSince) < m.opts.settle {
			continue
		}
		m.opts.log.Warn().Str("source", s.label()).Strs("rules", lostRules(s.running, s.held)).
			Msg("rules removed: the file stayed without them for the settle time")
		s.want, s.held = s.held, nil
		m.touched[s.id] = true
	}
}

// pendingRemovals describes every removal waiting for the settle time, for
// Status: "<file>: rules a, b stop running at <time> ...".
func (m *Manager) pendingRemovals() []string {
	var out []string
	for _, s := range m.sources() {
		switch {
		case s.held != nil:
			out = append(out, fmt.Sprintf("%s: rules %s stop running at %s unless the file defines them again",
				s.label(), strings.Join(lostRules(s.running, s.held), ", "), s.heldSince.Add(m.opts.settle).UTC().Format(time.RFC3339)))
		case !s.goneSince.IsZero():
			out = append(out, fmt.Sprintf("%s: file gone; rules %s stop running at %s unless it comes back",
				s.label(), strings.Join(ruleNames(s.running), ", "), s.goneSince.Add(m.opts.settle).UTC().Format(time.RFC3339)))
		}
	}
	return out
}

// lostRules names the rules of from that to lacks, as bus/name, sorted.
func lostRules(from, to *version) []string {
	keep := map[ruleKey]bool{}
	for _, r := range versionRules(to) {
		keep[keyOf(r)] = true
	}
	var lost []string
	for _, r := range versionRules(from) {
		if !keep[keyOf(r)] {
			lost = append(lost, r.Bus+"/"+r.Name)
		}
	}
	slices.Sort(lost)
	return lost
}

// ruleNames names v's rules as bus/name, sorted.
func ruleNames(v *version) []string { return lostRules(v, nil) }
