package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
)

// The condition half of Lint: expr programs that type-check only because
// the attributes were left untyped, and conditions that are false for
// every event.

// lintTypedAttributes declares the context attributes whose type is fixed, so
// that the condition type check catches e.g. `subject > 5`. Extensions
// stay undeclared: their type varies from event to event.
var lintTypedAttributes = map[string]any{
	"specversion": "", "id": "", "source": "", "type": "",
	"subject": "", "datacontenttype": "", "dataschema": "", "time": "",
}

func (l *linter) condition() {
	cond := l.r.Condition
	if strings.TrimSpace(cond) == "" {
		return
	}
	// Env resets expr's strictness, so undefined variables are allowed
	// again after it.
	opts := append(exprOptions(), expr.Env(lintTypedAttributes), expr.AllowUndefinedVariables(), expr.AsBool())
	prog, err := expr.Compile(cond, opts...)
	if err != nil {
		msg := err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			msg = fmt.Sprintf("%s (condition %d:%d)", fe.Message, fe.Line, fe.Column+1)
		}
		l.warn(l.r.condPos, "condition does not type-check with the CloudEvents attribute types "+
			"(subject, time, datacontenttype and dataschema are strings): %s", msg)
		return
	}
	if v, known := lintConstBool(prog.Node()); known && !v {
		l.warn(l.r.condPos, "condition is always false, so the rule can never match")
	}
}

// lintConstBool evaluates what of a boolean expression is known without an
// event: constant sub-expressions, and && / || / ! / ?: over them.
func lintConstBool(n ast.Node) (value, known bool) {
	switch n := n.(type) {
	case *ast.BoolNode:
		return n.Value, true
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			v, k := lintConstBool(n.Node)
			return !v, k
		}
	case *ast.BinaryNode:
		if n.Operator == "&&" || n.Operator == "and" || n.Operator == "||" || n.Operator == "or" {
			and := n.Operator == "&&" || n.Operator == "and"
			lv, lk := lintConstBool(n.Left)
			rv, rk := lintConstBool(n.Right)
			// The absorbing value (false for &&, true for ||) decides alone.
			if (lk && lv != and) || (rk && rv != and) {
				return !and, true
			}
			return and, lk && rk
		}
	case *ast.ConditionalNode:
		if c, ok := lintConstBool(n.Cond); ok {
			if c {
				return lintConstBool(n.Exp1)
			}
			return lintConstBool(n.Exp2)
		}
		a, ak := lintConstBool(n.Exp1)
		b, bk := lintConstBool(n.Exp2)
		return a, ak && bk && a == b
	}
	return lintEvalConstant(n)
}

// lintEvalConstant runs an expression that reads nothing from the event and
// calls nothing (now() is not constant).
func lintEvalConstant(n ast.Node) (value, known bool) {
	c := &lintConstChecker{constant: true}
	ast.Walk(&n, c)
	if !c.constant {
		return false, false
	}
	prog, err := expr.Compile(n.String(), exprOptions()...)
	if err != nil {
		return false, false
	}
	out, err := expr.Run(prog, Env{})
	v, ok := out.(bool)
	return v, err == nil && ok
}

type lintConstChecker struct{ constant bool }

func (c *lintConstChecker) Visit(n *ast.Node) {
	switch (*n).(type) {
	case *ast.IdentifierNode, *ast.PointerNode, *ast.CallNode, *ast.BuiltinNode, *ast.VariableDeclaratorNode:
		c.constant = false
	}
}
