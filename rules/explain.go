package rules

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Explanation tells why a rule did or did not match one event: every
// pattern clause with the values its path found, and the condition.
type Explanation struct {
	// Rule and Bus name the rule.
	Rule string `json:"rule"`
	Bus  string `json:"bus"`
	// Enabled is false for a disabled rule, which never matches; its
	// clauses are still evaluated so that authors see what it would do.
	Enabled bool `json:"enabled"`
	// Matched is what Rule.Match answers for the same env (false on a
	// runtime error), and always false for a disabled rule.
	Matched bool `json:"matched"`
	// Clauses are the pattern's top-level clauses, ANDed, in the order the
	// author wrote them; nested mappings are flattened into their leaves,
	// except groups over several objects (see ClauseResult.Group).
	// An empty pattern has none and matches every event.
	Clauses []ClauseResult `json:"clauses"`
	// Condition is nil when the rule has no condition.
	Condition *ConditionResult `json:"condition,omitempty"`
	// Error is set only for a rule that was not built by ParseFile or Load,
	// and so has nothing to explain.
	Error string `json:"error,omitempty"`
}

// ClauseResult is one pattern clause evaluated on an event. A leaf clause
// has Path, Values or Missing, and Wants; an $or clause has Or instead.
type ClauseResult struct {
	// Path is the field as the author wrote it, dot-joined
	// ("data.userIdentity.type"); a key that holds a dot or is empty is
	// written as a JSON string in brackets (data["a.b"]).
	Path string `json:"path,omitempty"`
	// Values are the JSON values the path reaches, with arrays met along
	// the path expanded: every candidate the matchers were tried on.
	Values []any `json:"values,omitempty"`
	// Missing is true when the path reaches no value at all (an absent
	// field, an empty array). A JSON null is a value, not missing.
	Missing bool `json:"missing,omitempty"`
	// Wants is the leaf's matcher list in EventBridge JSON syntax, for
	// example ["DeleteCluster", {"prefix": "Del"}]. Numbers are written as
	// numbers and cidr blocks masked, as the rule compiled them.
	Wants json.RawMessage `json:"wants,omitempty"`
	// Or holds the alternatives of an $or clause; the clause passes when
	// any alternative does.
	Or []Alternative `json:"or,omitempty"`
	// Group holds the clauses of an object pattern with several fields
	// (Path is its key) when the path reaches several objects (an array
	// of objects): the clauses must all pass on one of them. Each clause
	// is shown evaluated over every object, so a group can fail although
	// each of its clauses passes; Objects is how many objects the path
	// reaches, Passing how many satisfy every clause. Where the path
	// reaches one object or none, the clauses are listed in place of the
	// group, as plain clauses.
	Group   []ClauseResult `json:"group,omitempty"`
	Objects int            `json:"objects,omitempty"`
	Passing int            `json:"passing,omitempty"`
	// Pass is the clause's result, computed by the same expr code the
	// rule's program runs for this clause.
	Pass bool `json:"pass"`
	// Error is the clause's runtime error, if any; it counts as a failure.
	Error string `json:"error,omitempty"`
}

// Alternative is one branch of an $or clause: clauses that are ANDed.
type Alternative struct {
	Clauses []ClauseResult `json:"clauses"`
	Pass    bool           `json:"pass"`
}

// ConditionResult is the rule's expr condition evaluated on an event.
type ConditionResult struct {
	// Expr is the condition as written.
	Expr string `json:"expr"`
	// Evaluated is false when the pattern failed: the rule's program
	// stops there and never runs the condition, so neither does Explain.
	Evaluated bool `json:"evaluated"`
	Pass      bool `json:"pass"`
	// Error is the runtime error, if any (a field of a missing object, a
	// wrong type); a runtime error is a non-match.
	Error string `json:"error,omitempty"`
}

// Explain evaluates r on env clause by clause. It never fails: runtime
// errors are reported in the Explanation and count as non-matches.
//
// The answer is the reference one, not a re-implementation: each clause
// runs the expr text it contributes to the rule's program (Rule.Expr), and
// values come from the same at() path collection, so Matched equals
// Rule.Match for every enabled rule. The per-clause programs are compiled
// on the first call for a rule and cached; Explain is safe for concurrent
// use.
func (r *Rule) Explain(env Env) *Explanation {
	x := &Explanation{Rule: r.Name, Bus: r.Bus, Enabled: r.Enabled, Clauses: []ClauseResult{}}
	if !r.compiled {
		x.Error = fmt.Sprintf("rule %q: not compiled", r.Name)
		return x
	}
	ex := r.explainer()
	machine := vms.Get().(*vm.VM)
	defer vms.Put(machine)
	pass := true
	for _, c := range ex.clauses {
		res := c.run(machine, env)
		pass = pass && res.Pass
		x.Clauses = res.appendTo(x.Clauses)
	}
	if ex.cond != nil {
		x.Condition = ex.cond.run(machine, env, pass)
		pass = pass && x.Condition.Pass
	}
	x.Matched = r.Enabled && pass
	return x
}

// explainer holds a rule's per-clause programs.
type explainer struct {
	clauses []clauseProgram
	cond    *condProgram
}

// boolProgram is expr text compiled as the rule's program is. err is a
// compile error, which the parts of a compiled rule never have.
type boolProgram struct {
	prog *vm.Program
	err  error
}

type clauseProgram struct {
	boolProgram
	path  []string     // leaf and group
	wants string       // leaf only; copied into each result
	alts  []altProgram // $or only
	group *groupProgram
}

// groupProgram counts a group's objects and those that pass.
type groupProgram struct {
	clauses         []clauseProgram
	objects, passes *vm.Program
}

type altProgram struct {
	boolProgram
	clauses []clauseProgram
}

type condProgram struct {
	boolProgram
	text string
}

// explainer returns the rule's per-clause programs, compiled on first use:
// most rules are never explained.
func (r *Rule) explainer() *explainer {
	if r.base != nil {
		return r.base.explainer()
	}
	r.explainOnce.Do(func() { r.explain = newExplainer(r.pattern, r.Condition) })
	return r.explain
}

func newExplainer(p *pattern, condition string) *explainer {
	ex := &explainer{clauses: clausePrograms(p)}
	if strings.TrimSpace(condition) != "" {
		ex.cond = &condProgram{boolProgram: compileBool(condition), text: condition}
	}
	return ex
}

func clausePrograms(p *pattern) []clauseProgram {
	if p == nil {
		return nil
	}
	out := make([]clauseProgram, len(p.clauses))
	for i, c := range p.clauses {
		cp := &out[i]
		cp.boolProgram = compileBool(c.source())
		if c.leaf != nil {
			cp.path = c.leaf.path
			cp.wants = wantsJSON(c.leaf.matchers)
			continue
		}
		if g := c.group; g != nil {
			cp.path = g.path
			objects, passes := g.countSources()
			cp.group = &groupProgram{clauses: clausePrograms(g.pat),
				objects: compileAny(objects), passes: compileAny(passes)}
			continue
		}
		for _, alt := range c.or {
			cp.alts = append(cp.alts, altProgram{boolProgram: compileBool(alt.source()), clauses: clausePrograms(alt)})
		}
	}
	return out
}

// compileBool compiles source exactly as the rule's program is compiled.
func compileBool(source string) boolProgram {
	prog, err := expr.Compile(source, append(exprOptions(), expr.AsBool())...)
	return boolProgram{prog, err}
}

// compileAny compiles text the pattern code generated, which always
// compiles (as the rule's program did).
func compileAny(source string) *vm.Program {
	prog, _ := expr.Compile(source, exprOptions()...)
	return prog
}

func runCount(machine *vm.VM, prog *vm.Program, env Env) int {
	if prog == nil {
		return 0
	}
	out, _ := machine.Run(prog, env)
	n, _ := out.(int)
	return n
}

// run runs the program as Rule.match does: a non-bool result is false.
func (b boolProgram) run(machine *vm.VM, env Env) (bool, error) {
	if b.err != nil {
		return false, fmt.Errorf("explain: compile: %w", b.err)
	}
	out, err := machine.Run(b.prog, env)
	if err != nil {
		return false, err
	}
	ok, _ := out.(bool)
	return ok, nil
}

func (c *clauseProgram) run(machine *vm.VM, env Env) ClauseResult {
	var res ClauseResult
	var err error
	if res.Pass, err = c.boolProgram.run(machine, env); err != nil {
		res.Error = err.Error()
	}
	if g := c.group; g != nil {
		res.Path = pathText(c.path)
		for i := range g.clauses {
			res.Group = g.clauses[i].run(machine, env).appendTo(res.Group)
		}
		res.Objects, res.Passing = runCount(machine, g.objects, env), runCount(machine, g.passes, env)
		return res
	}
	if c.alts != nil {
		res.Or = make([]Alternative, len(c.alts))
		for i, alt := range c.alts {
			res.Or[i] = alt.run(machine, env)
		}
		return res
	}
	res.Path = pathText(c.path)
	res.Wants = json.RawMessage(c.wants)
	if res.Values = valuesAt(env, c.path); len(res.Values) == 0 {
		res.Values, res.Missing = nil, true
	}
	return res
}

// appendTo adds res to a clause list; a group that reached at most one
// object is added as its clauses: on one object, holding together is
// holding at all, and the explanation reads as the fields written.
func (res ClauseResult) appendTo(out []ClauseResult) []ClauseResult {
	if res.Group != nil && res.Objects <= 1 {
		return append(out, res.Group...)
	}
	return append(out, res)
}

func (a *altProgram) run(machine *vm.VM, env Env) Alternative {
	alt := Alternative{Clauses: []ClauseResult{}}
	for i := range a.clauses {
		alt.Clauses = a.clauses[i].run(machine, env).appendTo(alt.Clauses)
	}
	// An alternative's program cannot fail where its clauses did not, so
	// its error would only repeat theirs.
	alt.Pass, _ = a.boolProgram.run(machine, env)
	return alt
}

// run evaluates the condition alone, and only when the pattern passed,
// because the rule's program short-circuits on the pattern.
func (c *condProgram) run(machine *vm.VM, env Env, patternPassed bool) *ConditionResult {
	res := &ConditionResult{Expr: c.text}
	if !patternPassed {
		return res
	}
	res.Evaluated = true
	var err error
	if res.Pass, err = c.boolProgram.run(machine, env); err != nil {
		res.Error = err.Error()
	}
	return res
}

// valuesAt collects the values of path with the at() helper the compiled
// clauses call, so the values shown are the ones the matchers saw.
func valuesAt(env Env, path []string) []any {
	params := make([]any, 1, len(path)+1)
	params[0] = env
	for _, k := range path {
		params = append(params, k)
	}
	v, _ := at(params...) // at never fails
	return v.([]any)
}

// pathText dot-joins path, bracketing keys that would make it ambiguous.
func pathText(path []string) string {
	var b strings.Builder
	for i, k := range path {
		if k == "" || strings.ContainsAny(k, ".[] \t\n\"") {
			b.WriteString("[" + jsonText(k) + "]")
			continue
		}
		if i > 0 {
			b.WriteString(".")
		}
		b.WriteString(k)
	}
	return b.String()
}

// wantsJSON renders matchers in EventBridge pattern syntax, with a space
// after commas and colons so the text reads as the author wrote it.
func wantsJSON(ms []matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.eventBridge()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (m matcher) eventBridge() string {
	var s string
	switch m.op {
	case opExact: // one value, or anything-but's list
		if s = jsonText(m.values[0]); len(m.values) > 1 {
			s = ebList(m.values)
		}
	case opExists:
		s = ebObject("exists", jsonText(m.exists))
	case opNumeric:
		var args []any
		for _, b := range m.bounds {
			args = append(args, b.op, b.value)
		}
		s = ebObject("numeric", ebList(args))
	case opCIDR:
		s = ebObject("cidr", jsonText(m.text))
	case opPrefixFold:
		s = ebObject("prefix", ebObject("equals-ignore-case", jsonText(m.text)))
	case opSuffixFold:
		s = ebObject("suffix", ebObject("equals-ignore-case", jsonText(m.text)))
	default:
		arg := jsonText(m.text)
		if len(m.texts) > 1 {
			arg = ebList(anyList(m.texts))
		}
		for name, op := range stringOps {
			if op == m.op {
				s = ebObject(name, arg)
			}
		}
	}
	if m.but {
		return ebObject("anything-but", s)
	}
	return s
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func ebObject(key, value string) string { return "{" + jsonText(key) + ": " + value + "}" }

func ebList(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = jsonText(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// jsonText is compact JSON without HTML escaping, so "<=" stays readable.
// Values come from JSON or from the pattern, so encoding cannot fail.
func jsonText(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return strings.TrimSuffix(b.String(), "\n")
}
