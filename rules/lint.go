package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity ranks a Warning.
type Severity int

const (
	// SeverityWarning marks part of a rule that can never match, or a
	// condition that cannot work as written: almost always a mistake.
	SeverityWarning Severity = iota
	// SeverityInfo is worth knowing but not a mistake, such as a rule
	// that is disabled.
	SeverityInfo
)

// String is the label Warning.String prints: "warning" or "info".
func (s Severity) String() string {
	if s == SeverityInfo {
		return "info"
	}
	return "warning"
}

// Warning is one lintFinding of Lint, located like an Error so that editors
// can jump to it.
type Warning struct {
	Pos      Position
	Rule     string
	Severity Severity
	Msg      string
}

// String renders the warning as `file:line:col: rule "name": warning: msg`
// (or `info:` for SeverityInfo).
func (w Warning) String() string {
	return fmt.Sprintf("%s: rule %q: %s: %s", w.Pos, w.Rule, w.Severity, w.Msg)
}

// CompareWarnings orders warnings by file, line and column, for listing
// the warnings of many rules together.
func CompareWarnings(a, b Warning) int {
	return cmp.Or(
		cmp.Compare(a.Pos.File, b.Pos.File),
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pos.Col, b.Pos.Col),
	)
}

// lintBudget bounds the search through combinations of $or alternatives;
// once it is spent, Lint assumes a match is possible rather than take
// exponential time on a pathological pattern.
const lintBudget = 10000

// Lint reports what is statically wrong with a rule that loads:
//
//   - pattern clauses, $or alternatives and whole rules that can never
//     match an event auditbus accepts (attributes are single values of
//     known types, specversion is always "1.0", id, source and type are
//     always present, and a field that {exists: false} requires to be
//     absent has no leaf value);
//   - matchers of an attribute that can never match, such as a number for
//     the string attribute subject;
//   - a condition that is always false, or that does not type-check when
//     subject, time, datacontenttype and dataschema are strings;
//   - at SeverityInfo, that the rule is disabled.
//
// A warning is only given when it holds for every event under the
// semantics of the package doc. An array in data matches a leaf if any
// element does, so two leaves on one data field are never in conflict
// (["a", 5] satisfies both "a" and a numeric range); only exists: false
// can contradict another leaf there. Warnings come sorted by position;
// a rule without findings gives nil. Lint does not change the rule.
func Lint(r *Rule) []Warning {
	l := &linter{r: r, budget: lintBudget}
	if !r.Enabled {
		l.add(r.Pos, SeverityInfo, "rule is disabled (enabled: false): it is validated but never matches")
	}
	if r.pattern != nil {
		l.pattern(r.pattern, nil, nil, "rule")
		l.deadMatchers(r.pattern)
	}
	l.condition()
	slices.SortStableFunc(l.out, CompareWarnings)
	return l.out
}

type linter struct {
	r      *Rule
	out    []Warning
	budget int
}

func (l *linter) add(pos Position, sev Severity, format string, args ...any) {
	pos.File = l.r.Pos.File
	l.out = append(l.out, Warning{Pos: pos, Rule: l.r.Name, Severity: sev, Msg: fmt.Sprintf(format, args...)})
}

func (l *linter) warn(pos Position, format string, args ...any) {
	l.add(pos, SeverityWarning, format, args...)
}

// pattern checks p under ctx, the leaves its ancestors require, and
// pending, the $or clauses of its ancestors that must hold alongside it.
// It reports each part that can never match and says whether p can.
// role names p in messages: "rule" or "$or alternative".
func (l *linter) pattern(p *pattern, ctx []*leaf, pending []clause, role string) bool {
	leaves, ors := splitClauses(p)
	conj := lintConcat(ctx, leaves)
	if fs := contradictions(conj, len(ctx), false); len(fs) > 0 {
		for _, f := range fs {
			l.warn(f.pos, "%s can never match: %s", role, f.msg)
		}
		return false
	}
	// An $or that is impossible on its own is reported as such first;
	// otherwise every alternative of its siblings would be blamed for it.
	for _, o := range ors {
		if !l.satisfiable(conj, []clause{o}) {
			for _, alt := range o.or {
				l.pattern(alt, conj, nil, "$or alternative")
			}
			l.warn(o.pos.position(), "%s can never match: none of the alternatives of this $or can", role)
			return false
		}
	}
	for i, o := range ors {
		others := lintConcat(pending, ors[:i], ors[i+1:])
		alive := false
		for _, alt := range o.or {
			alive = l.pattern(alt, conj, others, "$or alternative") || alive
		}
		if !alive {
			l.warn(o.pos.position(), "%s can never match: none of the alternatives of this $or can hold together with the other $or clauses", role)
			return false
		}
	}
	if len(ors) == 0 && !l.satisfiable(conj, pending) {
		l.warn(p.pos.position(), "%s can never match: %s", role, conflictWith(conj, pending))
		return false
	}
	return true
}

// satisfiable searches for one alternative of each pending $or that holds
// together with conj, which is known to be free of contradictions.
func (l *linter) satisfiable(conj []*leaf, pending []clause) bool {
	if len(pending) == 0 || l.budget <= 0 {
		return true
	}
	l.budget--
	rest := pending[1:]
	for _, alt := range pending[0].or {
		leaves, ors := splitClauses(alt)
		next := lintConcat(conj, leaves)
		if !contradiction(next, len(conj)) && l.satisfiable(next, lintConcat(rest, ors)) {
			return true
		}
	}
	return false
}

// conflictWith explains why conj fails against pending, naming the $or
// whose every alternative contradicts it when there is one.
func conflictWith(conj []*leaf, pending []clause) string {
	for _, o := range pending {
		all := true
		for _, alt := range o.or {
			leaves, _ := splitClauses(alt)
			all = all && contradiction(lintConcat(conj, leaves), len(conj))
		}
		if all {
			return fmt.Sprintf("it contradicts every alternative of the $or at %s", lintLineCol(o.pos))
		}
	}
	return "no combination with the alternatives of the other $or clauses can match"
}

// splitClauses separates a pattern's leaves, which must all hold, from its $or
// clauses.
// A group's clauses count as the group's siblings: what no single value
// satisfies across the event cannot hold within one object either.
func splitClauses(p *pattern) (leaves []*leaf, ors []clause) {
	for _, c := range p.clauses {
		switch {
		case c.leaf != nil:
			leaves = append(leaves, c.leaf)
		case c.group != nil:
			l, o := splitClauses(c.group.pat)
			leaves, ors = append(leaves, l...), append(ors, o...)
		default:
			ors = append(ors, c)
		}
	}
	return leaves, ors
}

// lintConcat copies, so that sibling branches never share a backing array.
func lintConcat[T any](parts ...[]T) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// lintFinding is one contradiction: where to report it and why.
type lintFinding struct {
	pos Position
	msg string
}

// contradictions lists why the leaves of conj cannot all hold, at most
// once per leaf, considering only reasons that involve a leaf from
// conj[from:]: the ones before are known to be consistent. With first set
// it stops at the first reason, which is all a search needs.
func contradictions(conj []*leaf, from int, first bool) []lintFinding {
	c := &contra{conj: conj, from: from, first: first, reported: map[*leaf]bool{}}
	c.attributeFields()
	if c.done() {
		return c.out
	}
	groups := c.attributeGroups()
	for _, g := range groups {
		c.attributeAlone(g)
	}
	if c.done() {
		return c.out
	}
	c.absentVersusPresent()
	for _, g := range groups {
		if c.done() {
			break
		}
		c.attributeTogether(g)
	}
	return c.out
}

// contradiction is contradictions when only the first reason matters.
func contradiction(conj []*leaf, from int) bool {
	return len(contradictions(conj, from, true)) > 0
}

type contra struct {
	conj     []*leaf
	from     int
	first    bool
	out      []lintFinding
	reported map[*leaf]bool
}

func (c *contra) done() bool { return c.first && len(c.out) > 0 }

func (c *contra) report(lf *leaf, format string, args ...any) {
	c.reported[lf] = true
	c.out = append(c.out, lintFinding{lf.pos.position(), fmt.Sprintf(format, args...)})
}

func (c *contra) attributeFields() {
	for _, lf := range c.conj[c.from:] {
		if attribute, ok := attributeField(lf); ok && requiresPresence(lf) {
			c.report(lf, "%s is a CloudEvents attribute, a single value without fields, so %s is never present",
				attribute, lintPath(lf.path))
		}
	}
}

// absentVersusPresent finds a field that {exists: false} requires to be
// absent while another leaf needs it to have a value. A field below it
// is no conflict: exists sees leaf values only, and {a: {b: 1}} has none
// at a.
func (c *contra) absentVersusPresent() {
	for i, absent := range c.conj {
		if !requiresAbsence(absent) || c.reported[absent] {
			continue
		}
		for j, present := range c.conj {
			if (i < c.from && j < c.from) || c.reported[present] || !requiresPresence(present) ||
				!slices.Equal(present.path, absent.path) {
				continue
			}
			at := present
			if j < c.from || (i >= c.from && lintComparePos(absent.pos, present.pos) > 0) {
				at = absent
			}
			c.report(at, "%s must be absent (exists: false at %s) but the clause at %s needs it present",
				lintPath(absent.path), lintLineCol(absent.pos), lintLineCol(present.pos))
			if c.done() || at == absent {
				return
			}
		}
	}
}

// attrGroup is the leaves of conj on one CloudEvents attribute, which
// holds one value of a known kind.
type attrGroup struct {
	name  string
	facts attrFacts
	idx   []int
}

func (c *contra) attributeGroups() []*attrGroup {
	var groups []*attrGroup
	byName := map[string]*attrGroup{}
	for i, lf := range c.conj {
		if len(lf.path) != 1 || lf.path[0] == "data" {
			continue
		}
		g := byName[lf.path[0]]
		if g == nil {
			g = &attrGroup{name: lf.path[0], facts: attributeFacts(lf.path[0])}
			byName[g.name] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	return groups
}

// attributeAlone finds new leaves that rule out every value the attribute
// can have.
func (c *contra) attributeAlone(g *attrGroup) {
	for _, i := range g.idx {
		lf := c.conj[i]
		if i < c.from || g.facts.satisfiable([]*leaf{lf}) {
			continue
		}
		msg := g.facts.whyNot(g.name, lf)
		if !requiresAbsence(lf) {
			msg += ", which this clause does not match"
		}
		c.report(lf, "%s", msg)
		if c.done() {
			return
		}
	}
}

// attributeTogether finds leaves on one attribute that agree on no single
// value although each alone could match, reporting at the newest one.
func (c *contra) attributeTogether(g *attrGroup) {
	var ls []*leaf
	var latest *leaf
	for _, i := range g.idx {
		lf := c.conj[i]
		if c.reported[lf] {
			return
		}
		ls = append(ls, lf)
		if i >= c.from && (latest == nil || lintComparePos(lf.pos, latest.pos) > 0) {
			latest = lf
		}
	}
	if latest == nil || len(ls) < 2 || g.facts.satisfiable(ls) {
		return
	}
	var others []string
	for _, lf := range ls {
		if lf != latest {
			others = append(others, lintLineCol(lf.pos))
		}
	}
	c.report(latest, "%s holds a single value, and no value satisfies both this clause and the %s at %s",
		g.name, lintPlural(len(others), "clause"), strings.Join(others, ", "))
}

// deadMatchers reports matchers of attribute leaves that can never match
// although the rest of their leaf can, e.g. type: ["a", 3].
func (l *linter) deadMatchers(p *pattern) {
	for _, c := range p.clauses {
		for _, alt := range c.or {
			l.deadMatchers(alt)
		}
		if c.group != nil {
			l.deadMatchers(c.group.pat)
		}
		lf := c.leaf
		if lf == nil || len(lf.path) != 1 || lf.path[0] == "data" || len(lf.matchers) < 2 {
			continue
		}
		facts := attributeFacts(lf.path[0])
		if !facts.satisfiable([]*leaf{lf}) {
			continue // the whole leaf is reported
		}
		for _, m := range lf.matchers {
			one := &leaf{path: lf.path, matchers: []matcher{m}}
			if !facts.satisfiable([]*leaf{one}) {
				l.warn(lf.pos.position(), "matcher %s never matches: %s", describeMatcher(m), facts.whyNot(lf.path[0], one))
			}
		}
	}
}

func lintComparePos(a, b partPos) int {
	return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
}

func lintLineCol(p partPos) string { return fmt.Sprintf("%d:%d", p.line, p.col) }

func lintPath(path []string) string { return strings.Join(path, ".") }

func lintPlural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
