package rules

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/expr-lang/expr/vm"
)

// Set is an immutable, compiled group of rules. It is safe for concurrent
// use; reloading builds a new Set rather than changing one.
type Set struct {
	rules []*Rule
	byBus map[string][]*Rule // enabled rules only
}

// Compile builds a Set. Rules keep their own compiled programs; Compile
// only checks that (bus, name) is unique, reporting the later definition.
func Compile(rules []*Rule) (*Set, error) {
	s := &Set{byBus: map[string][]*Rule{}}
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
	for _, r := range s.rules {
		if r.Enabled {
			s.byBus[r.Bus] = append(s.byBus[r.Bus], r)
		}
	}
	return s, nil
}

// Rules returns the rules sorted by bus, then name. The slice is a copy.
func (s *Set) Rules() []*Rule { return slices.Clone(s.rules) }

// Len is the number of rules, enabled or not.
func (s *Set) Len() int { return len(s.rules) }

// Match returns the enabled rules of bus that env satisfies. A rule whose
// program fails at run time does not match; its error is returned so the
// caller can count and log it without dropping the other matches.
func (s *Set) Match(bus string, env Env) (matched []*Rule, errs []error) {
	machine := vms.Get().(*vm.VM)
	defer vms.Put(machine)
	for _, r := range s.byBus[bus] {
		ok, err := r.match(machine, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			matched = append(matched, r)
		}
	}
	return matched, errs
}
