package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/rules"
)

// patternHeader is the rule document a typed pattern is compiled in: the
// pattern follows on the next line, indented by patternIndent, so the
// rule language's positions map back to the text typed.
const (
	patternHeader = "name: console-pattern\ntargets: [{id: console, log: {}}]\npattern:\n"
	patternIndent = "  "
)

// ErrNotPattern: a typed pattern is not a mapping of event attributes.
var ErrNotPattern = errors.New("want an event pattern: a mapping such as type: [\"tke:CloudEvent:ApiCall\"]")

// PatternText compiles text, an event pattern in the rule language (YAML
// or JSON, as under a rule's pattern:), as PatternRule does, and returns
// it as JSON too (for a search request). Blank text is no pattern: a nil
// rule, every event. Errors are rules.Errors positioned line:col in text
// (1-based, file "pattern"; CRLF and CR end lines as LF does), or ErrNotPattern.
func PatternText(text string) (*rules.Rule, json.RawMessage, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil, nil
	}
	// A form's textarea sends CRLF; YAML also breaks lines at a lone CR.
	text = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(text)
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	doc := patternHeader + patternIndent + strings.Join(lines, "\n"+patternIndent) + "\n"
	rs, err := rules.ParseFile("pattern", []byte(doc))
	if err != nil {
		return nil, nil, patternErrors(err)
	}
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		return nil, nil, fmt.Errorf("pattern: %w", err) // ParseFile read it: not reached
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, nil, ErrNotPattern
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("pattern: %w", err)
	}
	return rs[0], raw, nil
}

// patternErrors moves the positions of err's rules.Errors from the
// wrapping document to the text typed; a position in the header (never
// the text's fault) becomes the whole pattern.
func patternErrors(err error) error {
	var es rules.Errors
	if !errors.As(err, &es) {
		return fmt.Errorf("pattern: %w", err)
	}
	header := strings.Count(patternHeader, "\n")
	out := make(rules.Errors, 0, len(es))
	for _, e := range es {
		c := *e
		c.Rule = ""
		if c.Pos.Line > header {
			c.Pos.Line -= header
			c.Pos.Col = max(1, c.Pos.Col-len(patternIndent))
		} else {
			c.Pos.Line, c.Pos.Col = 0, 0
		}
		out = append(out, &c)
	}
	return out
}
