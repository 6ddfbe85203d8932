package rules

// The functions below bound, from above, how many AST nodes expr's parser
// makes of the text compile.go renders for a pattern, without rendering
// it. ruleParser.compile uses the bound to know that a rule's joined
// program stays within expr's node budget, so it can leave compiling that
// program for when it is first needed. Each constant covers the nodes of
// the fixed text around what it counts, with room to spare;
// TestNodeBound holds them to expr's own count.

// nodeBound bounds the nodes of p.source().
func (p *pattern) nodeBound() int {
	if p == nil {
		return 1
	}
	n := 1
	for _, c := range p.clauses {
		n += 2 + c.nodeBound()
	}
	return n
}

func (c clause) nodeBound() int {
	switch {
	case c.leaf != nil:
		return c.leaf.nodeBound()
	case c.group != nil:
		// any(objs(ctx, path...), let _gN = #; inner)
		return 16 + 2*len(c.group.path) + c.group.pat.nodeBound()
	}
	n := 2
	for _, alt := range c.or {
		n += 2 + alt.nodeBound()
	}
	return n
}

// nodeBound counts the at() call once per matcher, as leaf.source may
// repeat it for anything-but and exists.
func (l *leaf) nodeBound() int {
	n := 8
	for _, m := range l.matchers {
		n += 12 + 2*len(l.path) + m.nodeBound()
	}
	return n
}

func (m matcher) nodeBound() int {
	return 12 + 2*len(m.values) + 12*len(m.texts) + 8*len(m.bounds)
}

// condNodeBound bounds the nodes of a condition's text: every node expr
// makes consumes at least one character of its own but the implicit ones
// (a predicate's closure and pointer), which a character never brings more
// than one of.
func condNodeBound(cond string) int { return 2*len(cond) + 2 }
