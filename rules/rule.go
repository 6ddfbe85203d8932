package rules

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// Retry bounds redelivery of one target; zero fields mean "use the
// router's default" (185 attempts, 24h, as EventBridge).
type Retry struct {
	MaxAttempts int
	MaxAge      time.Duration
}

// Rate is a target's delivery rate limit: PerSecond on average, with
// bursts of up to Burst (default: PerSecond rounded up, at least 1).
type Rate struct {
	PerSecond float64
	Burst     int
}

// Target is one destination of a rule. Config stays a yaml.Node so each sink
// decodes its own settings and still reports errors with file positions.
type Target struct {
	ID     string
	Kind   string
	Config yaml.Node
	Input  string
	Retry  *Retry
	// Rate limits deliveries to this target; nil means unlimited.
	Rate *Rate
	// Concurrency bounds the deliveries to this target in flight at once;
	// 0 means the router's default.
	Concurrency int
	Pos         Position
}

// Rule is one parsed and compiled rule. Rules built by ParseFile are ready to
// match; they are not meant to be modified afterwards.
type Rule struct {
	Name, Description, Bus string
	Enabled                bool
	Condition              string
	Targets                []Target
	Pos                    Position
	condPos                Position // the condition's scalar, for Lint

	pattern  *pattern
	compiled bool        // built by ParseFile
	cond     *vm.Program // the condition alone, run after the pattern matched
	inputs   map[string]*vm.Program

	// program is pattern and condition together: the reference semantics,
	// compiled on first use (see ruleParser.compile).
	programOnce sync.Once
	program     *vm.Program
	programErr  error

	explainOnce sync.Once
	explain     *explainer

	// base is the rule WithTargets copied, whose lazily compiled program
	// and explainer this one shares; nil for a parsed rule.
	base *Rule
}

// vms recycles expr VMs: expr.Run builds a fresh VM whose stack and scopes
// are reallocated on every call, which dominated matching cost.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

// Expr returns the expr source the rule's pattern and condition compiled to,
// which is what authors need to see when a rule does not match as expected.
// It is rebuilt from the parsed pattern on each call rather than kept.
func (r *Rule) Expr() string {
	if !r.compiled {
		return ""
	}
	cond := r.Condition
	if strings.TrimSpace(cond) == "" {
		cond = ""
	}
	return joinSource(r.pattern.source(), cond)
}

// Match runs the compiled program against env. A runtime error (for example a
// condition reading a field of a missing object) is a non-match.
func (r *Rule) Match(env Env) (bool, error) {
	machine := vms.Get().(*vm.VM)
	defer vms.Put(machine)
	return r.match(machine, env)
}

func (r *Rule) match(machine *vm.VM, env Env) (bool, error) {
	if !r.compiled {
		return false, fmt.Errorf("rule %q: not compiled", r.Name)
	}
	prog, err := r.fullProgram()
	if err != nil {
		return false, err
	}
	out, err := machine.Run(prog, env)
	if err != nil {
		return false, &MatchError{Rule: r.Name, Err: err}
	}
	ok, _ := out.(bool)
	return ok, nil
}

// HasInput reports whether target targetID has an input expression, so
// callers build the environment Input needs only when there is one.
func (r *Rule) HasInput(targetID string) bool {
	_, ok := r.inputs[targetID]
	return ok
}

// Input evaluates the input expression of target targetID, returning (nil,
// nil) when the target has none so callers can fall back to the event itself.
func (r *Rule) Input(targetID string, env Env) (any, error) {
	prog, ok := r.inputs[targetID]
	if !ok {
		if !r.hasTarget(targetID) {
			return nil, fmt.Errorf("rule %q: no target %q", r.Name, targetID)
		}
		return nil, nil
	}
	machine := vms.Get().(*vm.VM)
	defer vms.Put(machine)
	out, err := machine.Run(prog, env)
	if err != nil {
		return nil, fmt.Errorf("rule %q target %q input: %w", r.Name, targetID, err)
	}
	return out, nil
}

func (r *Rule) hasTarget(id string) bool {
	for i := range r.Targets {
		if r.Targets[i].ID == id {
			return true
		}
	}
	return false
}
