package rules

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Set is an immutable, compiled group of rules. It is safe for concurrent
// use; reloading builds a new Set rather than changing one.
type Set struct {
	rules []*Rule
	byBus map[string]*busIndex // enabled rules only
}

// Compile builds a Set. Rules keep their own compiled programs; Compile
// only checks that (bus, name) is unique, reporting the later definition.
func Compile(rules []*Rule) (*Set, error) {
	s := &Set{byBus: map[string]*busIndex{}}
	seen := map[[2]string]*Rule{}
	var errs Errors
	for _, r := range rules {
		key := [2]string{r.Bus, r.Name}
		if first, ok := seen[key]; ok {
			errs = append(errs, &Error{Pos: r.Pos, Rule: r.Name,
				Msg: fmt.Sprintf("duplicate rule name on bus %q (first defined at %s)", r.Bus, first.Pos)})
			continue
		}
		seen[key] = r
		s.rules = append(s.rules, r)
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	slices.SortFunc(s.rules, func(a, b *Rule) int {
		return cmp.Or(cmp.Compare(a.Bus, b.Bus), cmp.Compare(a.Name, b.Name))
	})
	enabled := map[string][]*Rule{}
	for _, r := range s.rules {
		if r.Enabled {
			enabled[r.Bus] = append(enabled[r.Bus], r)
		}
	}
	for bus, rs := range enabled {
		s.byBus[bus] = newBusIndex(rs)
	}
	return s, nil
}

// Rules returns the rules sorted by bus, then name. The slice is a copy.
func (s *Set) Rules() []*Rule { return slices.Clone(s.rules) }

// Len is the number of rules, enabled or not.
func (s *Set) Len() int { return len(s.rules) }

// Result is what matching one event found.
type Result struct {
	// Rules are the enabled rules of the bus that the event satisfies, in
	// name order.
	Rules []*Rule
	// Errors holds a *MatchError for each rule whose condition failed at
	// run time (a missing field, a wrong type); such a rule does not match.
	Errors []error
}

// ErrNotEvent is returned by Set.Match for input that is not a JSON object.
var ErrNotEvent = errors.New("not a structured CloudEvent (JSON object)")

// Match returns the enabled rules of bus that event satisfies. event is a
// CloudEvent in structured JSON form, as stored on the bus. The error is
// ErrNotEvent (wrapped) when event is not a JSON object; runtime errors of
// single rules are in the Result, never a reason to stop matching others.
func (s *Set) Match(bus string, event []byte) (Result, error) {
	var res Result
	x := s.byBus[bus]
	if x == nil {
		return res, nil
	}
	err := x.match(event, &res)
	return res, err
}
