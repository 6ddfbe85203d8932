package rules

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// condNeeds is what a condition reads of the environment, so that a rule
// whose pattern matched can run its condition on those parts alone instead
// of on the fully decoded event.
type condNeeds struct {
	attrs []string // top-level names: attributes, extensions (and, harmlessly, let variables and builtins)
	data  []string // keys of data read as data.K or data["K"]
	whole bool     // data or $env used as a whole: decode everything
}

// needsOf walks a compiled condition. data is "read by key" only when
// every use of it is a member access with a constant name.
func needsOf(prog *vm.Program) condNeeds {
	v := &needsVisitor{covered: map[*ast.IdentifierNode]bool{}}
	root := prog.Node()
	ast.Walk(&root, v)
	var n condNeeds
	seenAttr, seenData := map[string]bool{}, map[string]bool{}
	for _, id := range v.idents {
		switch {
		case id.Value == "$env":
			n.whole = true
		case id.Value == "data" && !v.covered[id]:
			n.whole = true
		case id.Value != "data" && !seenAttr[id.Value]:
			seenAttr[id.Value] = true
			n.attrs = append(n.attrs, id.Value)
		}
	}
	for _, k := range v.keys {
		if !seenData[k] {
			seenData[k] = true
			n.data = append(n.data, k)
		}
	}
	return n
}

type needsVisitor struct {
	idents  []*ast.IdentifierNode
	covered map[*ast.IdentifierNode]bool // data identifiers under a constant member access
	keys    []string
}

func (v *needsVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		v.idents = append(v.idents, n)
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		prop, constant := n.Property.(*ast.StringNode)
		if ok && constant && id.Value == "data" && !n.Method {
			v.covered[id] = true
			v.keys = append(v.keys, prop.Value)
		}
	}
}
