package ruleset

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/auditbus/auditbus/rules"
)

// version is one good parse of a source: rules that passed every check.
type version struct {
	rules       []*rules.Rule
	rev         uint64 // KV revision, for API sources
	fingerprint string // content hash, for files
}

// source is one rule file or one KV key. Only the Manager's lock holder
// touches it.
type source struct {
	id    string // file path, or KV key "<bus>.<name>"
	api   bool
	order int // files: position in the listing, so earlier files win ties
	// rootPath is the configured path a file was listed from.
	rootPath string

	fingerprint string // file: content hash or read error
	rev         uint64 // API: latest revision seen
	doc         []byte // API: latest document

	// want is the latest content when it passed validation, nil when it
	// did not (parseErrs says why); running is the version in the running
	// set, nil when none. They differ while the latest version is broken
	// or conflicts with another source.
	want      *version
	parseErrs rules.Errors
	running   *version

	// candidate is a file's changed content (fingerprint) seen by one poll,
	// applied when the next poll reads it again (settle.go); changing
	// counts the polls in a row that read another candidate, since
	// changingSince.
	candidate     string
	changing      int
	changingSince time.Time
	// held is a file's good version that drops rules running ones has,
	// waiting since heldSince for the settle time; goneSince is when a file
	// with running rules was first found gone (zero while it is listed).
	held      *version
	heldSince time.Time
	goneSince time.Time

	// problems are what keeps want from running: parse errors or
	// conflicts. logged is what was last logged of them.
	problems rules.Errors
	logged   string
}

type ruleKey struct{ bus, name string }

func keyOf(r *rules.Rule) ruleKey { return ruleKey{r.Bus, r.Name} }

// claim is the source whose running version defines a rule name. A weak
// claim is one whose removal waits for the settle time (yield.go).
type claim struct {
	src  *source
	rule *rules.Rule
	weak bool
}

// sources returns files in listing order, then API rules by key: the order
// in which changed sources are tried against the others.
func (m *Manager) sources() []*source {
	all := make([]*source, 0, len(m.files)+len(m.api))
	for _, s := range m.files {
		all = append(all, s)
	}
	for _, s := range m.api {
		all = append(all, s)
	}
	slices.SortFunc(all, func(a, b *source) int {
		if a.api != b.api {
			if a.api {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.order, b.order), cmp.Compare(a.id, b.id))
	})
	return all
}

// accept moves each source whose latest good version is not running yet
// into the running set, unless one of its rule names is already run by
// another source: then that source is broken by the conflict and keeps its
// previous version. A source whose latest content is broken keeps its
// running version too. A name another source runs only while its removal
// waits for the settle time is no conflict: the rule moves (yield). It
// reports whether the running set changed.
func (m *Manager) accept() bool {
	changed := m.acceptOnce()
	if m.yield(m.sources()) {
		// A held version freed by yield is tried like any edit.
		m.acceptOnce()
		changed = true
	}
	return changed
}

// acceptOnce is one pass of accept, before yield.
func (m *Manager) acceptOnce() bool {
	all := m.sources()
	if changed, ok := acceptAll(all); ok {
		return changed
	}
	claims := map[ruleKey]claim{}
	for _, s := range all {
		pending := pendingNames(s)
		for _, r := range versionRules(s.running) {
			claims[keyOf(r)] = claim{s, r, pending[keyOf(r)]}
		}
	}
	changed := false
	for _, s := range all {
		switch {
		case s.want == nil:
			s.problems = s.parseErrs
		case s.want == s.running:
			s.problems = nil
		default:
			if s.problems = conflicts(s, claims); s.problems != nil {
				continue
			}
			if s.running != nil {
				for _, r := range s.running.rules {
					delete(claims, keyOf(r))
				}
			}
			for _, r := range s.want.rules {
				claims[keyOf(r)] = claim{s, r, false}
			}
			s.running, changed = s.want, true
		}
	}
	return changed
}

// acceptAll takes every source's latest good version at once when no two
// of them define the same rule (pending removals aside), which lets an edit
// move a rule from one source to another (or swap two names) in one step.
// ok is false when names collide: then sources are tried one by one
// against what runs.
func acceptAll(all []*source) (changed, ok bool) {
	n := 0
	for _, s := range all {
		n += max(len(versionRules(s.want)), len(versionRules(s.running)))
	}
	seen := make(map[ruleKey]bool, n)
	for _, s := range all {
		v := s.want
		if v == nil {
			v = s.running
		}
		pending := pendingNames(s)
		for _, r := range versionRules(v) {
			if pending[keyOf(r)] {
				continue
			}
			if seen[keyOf(r)] {
				return false, false
			}
			seen[keyOf(r)] = true
		}
	}
	for _, s := range all {
		if s.want == nil {
			s.problems = s.parseErrs
			continue
		}
		s.problems = nil
		if s.want != s.running {
			s.running, changed = s.want, true
		}
	}
	return changed, true
}

// conflicts lists the rules of s's latest version whose names another
// source runs, other than as a pending removal.
func conflicts(s *source, claims map[ruleKey]claim) rules.Errors {
	var errs rules.Errors
	for _, r := range s.want.rules {
		c, ok := claims[keyOf(r)]
		if !ok || c.src == s || c.weak {
			continue
		}
		errs = append(errs, &rules.Error{Pos: r.Pos, Rule: r.Name,
			Msg: fmt.Sprintf("duplicate rule name on bus %q (first defined at %s)", r.Bus, where(c))})
	}
	return errs
}

// where names the definition behind a claim for an error message.
func where(c claim) string {
	if c.src.api {
		return fmt.Sprintf("API rule %s, revision %d", c.src.id, c.src.running.rev)
	}
	return c.rule.Pos.String()
}

// runningRules is the running set's rules, in source order.
func (m *Manager) runningRules() []*rules.Rule {
	var all []*rules.Rule
	for _, s := range m.sources() {
		if s.running != nil {
			all = append(all, s.running.rules...)
		}
	}
	return all
}

// parseSource parses one document with opts and applies the Manager's
// check to every rule, returning the version or every problem.
func (m *Manager) parseSource(name string, src []byte, opts []rules.Option) (*version, rules.Errors) {
	parsed, err := rules.ParseFile(name, src, opts...)
	if err != nil {
		return nil, asErrors(err)
	}
	var errs rules.Errors
	for _, r := range parsed {
		errs = append(errs, m.opts.check(r)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &version{rules: parsed}, nil
}
