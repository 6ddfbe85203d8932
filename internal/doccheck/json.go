package doccheck

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// How a doc shortens a JSON example: `...` for members or elements left
// out, or in the place of a value.
var (
	elidedMembers = regexp.MustCompile(`,\s*\.\.\.\s*([}\]])|([{\[])\s*\.\.\.\s*,`)
	elidedValue   = regexp.MustCompile(`\.\.\.`)
)

// ElidedJSON decodes a JSON example in which `...` (outside strings) stands
// for members or elements left out, or for a value (read as null). The
// error says what is not JSON once the elisions are read so.
func ElidedJSON(text string) (any, error) {
	s := elidedMembers.ReplaceAllString(text, "$1$2")
	s = replaceOutsideStrings(s, elidedValue, "null")
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON once `...` is read as left-out members or values: %w\n%s", err, s)
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value:\n%s", s)
	}
	return v, nil
}

// replaceOutsideStrings replaces re's matches that are not inside a JSON
// string.
func replaceOutsideStrings(s string, re *regexp.Regexp, with string) string {
	var out strings.Builder
	in, esc, last := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"' && !in: // a string starts: replace in what came before
			out.WriteString(re.ReplaceAllString(s[last:i], with))
			in, last = true, i
		case c == '"': // the string ends: keep it as it is
			out.WriteString(s[last : i+1])
			in, last = false, i+1
		}
	}
	if in {
		out.WriteString(s[last:])
	} else {
		out.WriteString(re.ReplaceAllString(s[last:], with))
	}
	return out.String()
}
