package rules

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text renders x as the lines `auditbus rules test` prints: a header with
// the verdict, one line per leaf clause (pass or FAIL, path, values found
// or "missing", wanted matchers), $or alternatives indented below their
// clause, and the condition last. Columns are aligned; values longer than
// 40 characters and matcher lists longer than 100 are clipped with "...".
// The text ends with a newline.
func (x *Explanation) Text() string {
	verdict := "no match"
	switch {
	case x.Matched:
		verdict = "match"
	case !x.Enabled:
		verdict = "no match (rule disabled)"
	}
	var rows []textRow
	if x.Error != "" {
		rows = append(rows, textRow{text: "error: " + firstErrLine(x.Error)})
	} else if len(x.Clauses) == 0 {
		rows = append(rows, textRow{text: "pattern  empty: matches every event"})
	}
	rows = clauseRows(rows, x.Clauses, 0)
	if c := x.Condition; c != nil {
		rows = append(rows, textRow{text: fmt.Sprintf("condition  %-7s  %s", c.state(), clipText(oneLineText(c.Expr), maxWantsText))})
		if c.Error != "" {
			rows = append(rows, textRow{indent: 1, text: "error: " + firstErrLine(c.Error)})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rule %s (bus %s): %s\n", x.Rule, x.Bus, verdict)
	writeRows(&b, rows)
	return b.String()
}

const (
	maxValueText = 40
	maxWantsText = 100
)

// textRow is one output line: either a leaf (aligned columns) or free text.
type textRow struct {
	indent                     int
	leaf                       bool
	status, path, value, wants string
	text                       string
}

func clauseRows(rows []textRow, cs []ClauseResult, indent int) []textRow {
	for _, c := range cs {
		if c.Group != nil {
			rows = append(rows, textRow{indent: indent, text: fmt.Sprintf("%s  %s: all fields below on one object: %d of %d pass",
				passText(c.Pass), c.Path, c.Passing, c.Objects)})
			rows = clauseRows(rows, c.Group, indent+1)
			continue
		}
		if c.Or == nil {
			rows = append(rows, textRow{indent: indent, leaf: true, status: passText(c.Pass),
				path: c.Path, value: valuesText(c), wants: clipText(string(c.Wants), maxWantsText)})
		} else {
			rows = append(rows, textRow{indent: indent, text: passText(c.Pass) + "  $or: " + orSummary(c)})
			for i, alt := range c.Or {
				rows = append(rows, textRow{indent: indent + 1, text: fmt.Sprintf("%s  alternative %d", passText(alt.Pass), i+1)})
				rows = clauseRows(rows, alt.Clauses, indent+2)
			}
		}
		if c.Error != "" {
			rows = append(rows, textRow{indent: indent + 3, text: "error: " + firstErrLine(c.Error)})
		}
	}
	return rows
}

// writeRows pads leaf rows so that values and wants start in one column
// across nesting levels.
func writeRows(b *strings.Builder, rows []textRow) {
	pathEnd, valueWidth := 0, 0
	for _, r := range rows {
		if r.leaf {
			pathEnd = max(pathEnd, 2*r.indent+textWidth(r.status)+2+textWidth(r.path))
			valueWidth = max(valueWidth, textWidth(r.value))
		}
	}
	for _, r := range rows {
		pad := strings.Repeat("  ", r.indent+1)
		if !r.leaf {
			b.WriteString(pad + r.text + "\n")
			continue
		}
		head := strings.Repeat("  ", r.indent) + r.status + "  " + r.path
		b.WriteString("  " + padText(head, pathEnd) + "   " + padText(r.value, valueWidth) + "   wants " + r.wants + "\n")
	}
}

func passText(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

func orSummary(c ClauseResult) string {
	n := 0
	for _, alt := range c.Or {
		if alt.Pass {
			n++
		}
	}
	return fmt.Sprintf("%d of %d alternatives pass", n, len(c.Or))
}

func (c *ConditionResult) state() string {
	switch {
	case !c.Evaluated:
		return "skipped"
	case c.Error != "":
		return "ERROR"
	default:
		return passText(c.Pass)
	}
}

// valuesText lists the values found as JSON, comma-separated; the list is
// the set of candidates, not an array in the event.
func valuesText(c ClauseResult) string {
	if c.Missing {
		return "missing"
	}
	var b strings.Builder
	for i, v := range c.Values {
		if i > 0 {
			b.WriteString(", ")
		}
		// Stop early on huge arrays: 4 bytes per rune is enough to clip.
		if b.WriteString(jsonText(v)); b.Len() > 4*maxValueText {
			break
		}
	}
	return clipText(b.String(), maxValueText)
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return s
}

func textWidth(s string) int { return utf8.RuneCountInString(s) }

func padText(s string, n int) string {
	if w := textWidth(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }

// firstErrLine drops the source excerpt expr appends to its error messages.
func firstErrLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
