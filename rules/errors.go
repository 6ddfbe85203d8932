package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Position is a place in a rule file. Line and Col are 1-based, as editors
// count them; a zero Line means the whole file.
type Position struct {
	File      string
	Line, Col int
}

// String is file:line:col, or the file alone for the whole file: a
// position is never printed with a line or column of 0.
func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem found while loading rules, located precisely enough
// for a rule author to jump to it.
type Error struct {
	Pos  Position
	Rule string
	Msg  string
}

func (e *Error) Error() string {
	if e.Rule == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: rule %q: %s", e.Pos, e.Rule, e.Msg)
}

// Errors reports every problem of a load at once, so authors fix a file in
// one pass instead of one error per run.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
		)
	})
}

// orNil keeps callers from receiving a non-nil error interface holding an
// empty list.
func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	es.sort()
	return es
}

// MatchError is a rule whose program failed at run time on one event (a
// condition reading a field of a missing object, a wrong type). The rule
// counts as not matching; Rule lets callers attribute the failure.
type MatchError struct {
	Rule string
	Err  error
}

func (e *MatchError) Error() string { return fmt.Sprintf("rule %q: %v", e.Rule, e.Err) }

func (e *MatchError) Unwrap() error { return e.Err }
