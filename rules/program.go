package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// compile builds the rule's condition program. The condition is compiled
// alone so that its errors point into the YAML file, and because the
// matcher runs it after checking the pattern natively.
//
// The program of pattern and condition together (the reference semantics,
// which only Rule.Match and Explain run) is compiled on first use instead:
// it is most of what a rule would otherwise cost to load and to keep. That
// cannot turn a load error into a later one: the joined text of a pattern
// and a condition that compiles alone fails only on expr's node budget, and
// a rule whose text stays within it (see nodeBound) is not compiled here.
func (rp *ruleParser) compile() {
	defer rp.compileInputs()
	r := rp.r
	if strings.TrimSpace(r.Condition) != "" {
		prog, err := rp.compileCondition(r.Condition)
		if err != nil {
			rp.exprError(rp.condNode, "condition", err)
			return
		}
		r.cond = prog
	}
	r.compiled = true
	if r.pattern.nodeBound()+condNodeBound(r.Condition)+1 <= int(conf.DefaultMaxNodes) {
		return
	}
	prog, err := expr.Compile(r.Expr(), append(exprOptions(), expr.AsBool())...)
	if err != nil {
		rp.add(r.Pos, r.Name, "compile pattern: %v", err)
		return
	}
	r.programOnce.Do(func() { r.program = prog })
}

// compileCondition compiles a condition alone, as the matcher runs it. Rules of
// one file with the same condition text share its program (two goroutines
// may both compile it first; either program serves), which is
// immutable and safe to run concurrently: a program costs kilobytes, and
// large rule sets repeat a few conditions many times.
func (rp *ruleParser) compileCondition(cond string) (*vm.Program, error) {
	if prog := rp.conds.get(cond); prog != nil {
		return prog, nil
	}
	prog, err := expr.Compile(cond, append(exprOptions(), expr.AsBool())...)
	if err != nil {
		return nil, err
	}
	rp.conds.put(cond, prog)
	return prog, nil
}

// fullProgram is the program of pattern and condition together, compiled
// the first time it is needed.
func (r *Rule) fullProgram() (*vm.Program, error) {
	if r.base != nil {
		return r.base.fullProgram()
	}
	r.programOnce.Do(func() {
		r.program, r.programErr = expr.Compile(r.Expr(), append(exprOptions(), expr.AsBool())...)
	})
	if r.programErr != nil {
		return nil, fmt.Errorf("rule %q: compile pattern: %w", r.Name, r.programErr)
	}
	return r.program, nil
}

// joinSource ANDs pattern and condition. The condition goes on its own
// lines so that a trailing // comment in it cannot swallow the closing
// parenthesis.
func joinSource(pat, cond string) string {
	switch {
	case cond == "":
		return pat
	case pat == "true":
		return cond
	default:
		return pat + " && (\n" + cond + "\n)"
	}
}

func (rp *ruleParser) compileInputs() {
	r := rp.r
	for i := range r.Targets {
		t := &r.Targets[i]
		if strings.TrimSpace(t.Input) == "" {
			continue
		}
		prog, err := expr.Compile(t.Input, exprOptions()...)
		if err != nil {
			rp.exprError(rp.inputNodes[t.ID], "target "+t.ID+" input", err)
			continue
		}
		if r.inputs == nil {
			r.inputs = map[string]*vm.Program{}
		}
		r.inputs[t.ID] = prog
	}
}

// exprError reports an expr compile error at the file position of the
// offending character: expr counts from 1:0 inside the expression text, and
// the text starts after the scalar's quote, or on the line after a block
// scalar's | or > indicator.
func (rp *ruleParser) exprError(n *yaml.Node, what string, err error) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		rp.fail(n, "%s: %v", what, err)
		return
	}
	pos := rp.pos(n)
	switch {
	case n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle:
		// Block content is indented as a whole; expr sees it without the
		// indentation of its first line.
		pos.Line += fe.Line
		pos.Col = rp.indent(n.Line+1) + fe.Column + 1
	case fe.Line > 1:
		// A multi-line flow scalar is folded by YAML, so only the line is
		// meaningful; point at the start of it.
		pos.Line += fe.Line - 1
		pos.Col = rp.indent(pos.Line) + 1
	case n.Style == yaml.SingleQuotedStyle || n.Style == yaml.DoubleQuotedStyle:
		pos.Col += fe.Column + 1
	default:
		pos.Col += fe.Column
	}
	rp.add(pos, rp.r.Name, "%s: %s", what, fe.Message)
}

// indent returns the number of leading spaces of a 1-based source line.
func (rp *ruleParser) indent(line int) int {
	lines := strings.Split(string(rp.src), "\n")
	if line < 1 || line > len(lines) {
		return 0
	}
	l := lines[line-1]
	return len(l) - len(strings.TrimLeft(l, " "))
}
