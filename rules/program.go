package rules

import (
	"errors"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// compile builds the rule's expr source and programs. The condition is
// compiled alone first so that its errors point into the YAML file; the
// combined source is then compiled once for matching.
func (rp *ruleParser) compile() {
	defer rp.compileInputs()
	r := rp.r
	cond := r.Condition
	if strings.TrimSpace(cond) == "" {
		cond = ""
	} else {
		prog, err := expr.Compile(cond, append(exprOptions(), expr.AsBool())...)
		if err != nil {
			rp.exprError(rp.condNode, "condition", err)
			return
		}
		r.cond = prog
	}
	r.source = joinSource(r.pattern.source(), cond)
	prog, err := expr.Compile(r.source, append(exprOptions(), expr.AsBool())...)
	if err != nil {
		rp.add(r.Pos, r.Name, "compile pattern: %v", err)
		return
	}
	r.program = prog
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
