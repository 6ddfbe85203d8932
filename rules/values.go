package rules

import "slices"

// ExactStrings returns the exact string values the rule's pattern accepts
// at path (for example "data", "eventName"), from every branch of $or, in
// pattern order. Anything-but values and other operators are left out:
// this serves static checks such as "no product emits this event name".
func (r *Rule) ExactStrings(path ...string) []string {
	if r.pattern == nil {
		return nil
	}
	return r.pattern.exactStrings(path, nil)
}

func (p *pattern) exactStrings(path []string, out []string) []string {
	for _, c := range p.clauses {
		for _, alt := range c.or {
			out = alt.exactStrings(path, out)
		}
		if c.group != nil {
			out = c.group.pat.exactStrings(path, out)
		}
		if c.leaf == nil || !slices.Equal(c.leaf.path, path) {
			continue
		}
		for _, m := range c.leaf.matchers {
			if m.op != opExact || m.but {
				continue
			}
			for _, v := range m.values {
				if s, ok := v.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}
