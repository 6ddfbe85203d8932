package doccheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// Block is one fenced code block of a Markdown file.
type Block struct {
	File   string // the path the file was read from
	Line   int    // line of the opening fence, from 1
	Info   string // the fence's info string ("sh", "yaml", or "")
	Text   string // the content, fence indentation removed; ends in "\n" unless empty
	Marker Marker // the marker just before the fence; Kind "" when there is none
}

// Marker is the HTML comment just before a block: <!-- kind: args -->, or
// <!-- kind --> without arguments.
type Marker struct {
	Kind string   // e.g. "run", "test", "check"
	Args []string // the words after "kind:", split on white space
	Line int      // line of the comment
}

// String is the marker as written (normalised white space).
func (m Marker) String() string {
	if len(m.Args) == 0 {
		return "<!-- " + m.Kind + " -->"
	}
	return "<!-- " + m.Kind + ": " + strings.Join(m.Args, " ") + " -->"
}

// Where is "file:line" of the block's opening fence.
func (b Block) Where() string { return fmt.Sprintf("%s:%d", b.File, b.Line) }

// ParseFile reads path and returns its fenced blocks in order.
func ParseFile(path string) ([]Block, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, raw)
}

// Parse returns the fenced blocks (``` or ~~~, possibly indented, as in a
// list item) of a Markdown document; name is what Block.File says. An
// unterminated block or a malformed marker is an error naming its line.
func Parse(name string, src []byte) ([]Block, error) {
	var (
		blocks []Block
		prev   string // the previous line, trimmed
		cur    *Block
		fence  string // the opening fence's marker run, while in a block
		indent int
		body   strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur != nil {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
				cur.Text = body.String()
				blocks = append(blocks, *cur)
				cur, prev = nil, trimmed
				continue
			}
			body.WriteString(dedent(line, indent))
			body.WriteByte('\n')
			continue
		}
		if f := openingFence(trimmed); f != "" {
			m, err := parseMarker(prev, n-1)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, n-1, err)
			}
			cur = &Block{File: name, Line: n, Info: strings.TrimSpace(trimmed[len(f):]), Marker: m}
			fence, indent = f, len(line)-len(strings.TrimLeft(line, " "))
			body.Reset()
			continue
		}
		prev = trimmed
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: code block never closed", name, cur.Line)
	}
	return blocks, nil
}

// openingFence returns the run of three or more backticks or tildes that
// opens a block on this (trimmed) line, or "".
func openingFence(trimmed string) string {
	for _, c := range []string{"`", "~"} {
		if strings.HasPrefix(trimmed, c+c+c) {
			return trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, c))]
		}
	}
	return ""
}

func dedent(line string, indent int) string {
	for i := 0; i < indent && strings.HasPrefix(line, " "); i++ {
		line = line[1:]
	}
	return line
}

// parseMarker reads <!-- kind: args --> from the line before a fence; any
// other line means no marker.
func parseMarker(line string, n int) (Marker, error) {
	if !strings.HasPrefix(line, "<!--") {
		return Marker{}, nil
	}
	if !strings.HasSuffix(line, "-->") {
		return Marker{}, fmt.Errorf("a marker must fit on one line: <!-- kind: args -->")
	}
	inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "<!--"), "-->"))
	kind, args, _ := strings.Cut(inner, ":")
	kind = strings.TrimSpace(kind)
	if kind == "" || strings.ContainsAny(kind, " \t") {
		return Marker{}, fmt.Errorf("marker %q: want <!-- kind --> or <!-- kind: args -->", line)
	}
	return Marker{Kind: kind, Args: strings.Fields(args), Line: n}, nil
}
