package rules

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxWildcardStars caps the * of one wildcard value. Matching stays linear
// either way; the cap keeps patterns readable and refuses the generated
// patterns that would make every event pay for them.
const maxWildcardStars = 8

// glob is a compiled EventBridge wildcard: literal parts with a * between
// each two. A leading or trailing * shows as an empty first or last part.
type glob struct {
	parts []string
}

// parseGlob splits w at its unescaped stars, unescaping \* and \\. Errors
// name the rule the author broke.
func parseGlob(w string) (glob, error) {
	if !utf8.ValidString(w) {
		return glob{}, fmt.Errorf("wildcard is not valid UTF-8")
	}
	var g glob
	var part strings.Builder
	stars := 0
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '*':
			if i+1 < len(w) && w[i+1] == '*' {
				return glob{}, fmt.Errorf("consecutive * are not allowed")
			}
			if stars++; stars > maxWildcardStars {
				return glob{}, fmt.Errorf("more than %d * in one wildcard; split the pattern or use prefix/suffix", maxWildcardStars)
			}
			g.parts = append(g.parts, part.String())
			part.Reset()
		case '\\':
			if i+1 >= len(w) || (w[i+1] != '*' && w[i+1] != '\\') {
				return glob{}, fmt.Errorf("backslash may only escape * or \\")
			}
			i++
			part.WriteByte(w[i])
		default:
			part.WriteByte(c)
		}
	}
	g.parts = append(g.parts, part.String())
	return g, nil
}

// match reports whether s matches: the first part is a prefix, the last a
// suffix, and the middle parts occur in order between them. Taking each
// middle part's leftmost occurrence is enough: it leaves the most room for
// the parts after it.
func (g glob) match(s string) bool {
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(g.parts) == 1 {
		return s == first
	}
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	middle := s[len(first) : len(s)-len(last)]
	for _, p := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(middle, p)
		if i < 0 {
			return false
		}
		middle = middle[i+len(p):]
	}
	return true
}
