package rules

import "github.com/expr-lang/expr/vm"

// WithTargets returns a copy of r that sends to targets instead of r's
// own, sharing r's compiled pattern and condition (nothing is compiled
// again). inputOf maps the id of each new target to the id of r's target
// whose input expression it uses; a target it does not name has none.
// Routers use it to run one rule target as several (a topic's
// subscriptions) while the rule as written stays what the API lists.
// r must have been built by ParseFile.
func (r *Rule) WithTargets(targets []Target, inputOf map[string]string) *Rule {
	base := r
	for base.base != nil {
		base = base.base
	}
	d := &Rule{Name: r.Name, Description: r.Description, Bus: r.Bus, Enabled: r.Enabled, Condition: r.Condition,
		Targets: targets, Pos: r.Pos, condPos: r.condPos, pattern: r.pattern, compiled: r.compiled, cond: r.cond,
		base: base}
	for id, from := range inputOf {
		if prog, ok := r.inputs[from]; ok {
			if d.inputs == nil {
				d.inputs = map[string]*vm.Program{}
			}
			d.inputs[id] = prog
		}
	}
	return d
}
