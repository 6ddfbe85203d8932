package main

import (
	"errors"
	"regexp"
	"strings"
)

// shellCommand is one command of a shell block: its lines joined (a
// trailing \, |, && or a here-document continue it) and the output the doc
// shows for it: the comment lines right below it, before any blank line,
// with "# " taken off.
type shellCommand struct {
	line   string // as written, continuation lines joined with "\n"
	at     int    // its first line in the block, from 0
	output []string
	exact  bool // output is a terminal's (below a "$ " prompt), compared line by line
}

var heredoc = regexp.MustCompile(`<<-?'?(\w+)'?`)

// shellCommands splits a shell block into its commands. In a block written
// as a terminal session, the commands are the lines after a "$ " prompt
// (and their continuations) and the lines below each, up to the next
// prompt, are its output.
func shellCommands(text string) []shellCommand {
	if strings.HasPrefix(text, "$ ") {
		return promptCommands(text)
	}
	var (
		cmds    []shellCommand
		lines   = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		outputs = false // comment lines now are the last command's output
	)
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "":
			outputs = false
		case strings.HasPrefix(l, "#"):
			if outputs {
				c := &cmds[len(cmds)-1]
				c.output = append(c.output, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
			}
		default:
			c := shellCommand{line: lines[i], at: i}
			for continues(lines[i]) && i+1 < len(lines) {
				i++
				c.line += "\n" + lines[i]
			}
			if m := heredoc.FindStringSubmatch(c.line); m != nil {
				for i+1 < len(lines) {
					i++
					c.line += "\n" + lines[i]
					if strings.TrimSpace(lines[i]) == m[1] {
						break
					}
				}
			}
			cmds = append(cmds, c)
			outputs = true
		}
	}
	return cmds
}

func continues(line string) bool {
	l := strings.TrimSpace(stripComment(line))
	return strings.HasSuffix(l, "\\") || strings.HasSuffix(l, "|") || strings.HasSuffix(l, "&&")
}

// stripComment drops an unquoted # comment that ends a line.
func stripComment(line string) string {
	q := byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}

// splitWords splits a command line into words as sh would for simple
// commands: quotes, backslash-newline, a # comment; no expansions.
func splitWords(line string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
		q     byte
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			q, in = c, true
		case c == '\\' && i+1 < len(line) && line[i+1] == '\n':
			i++
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				words, in = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '#' && !in:
			for i < len(line) && line[i] != '\n' {
				i++
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if q != 0 {
		return nil, errors.New("unterminated quote")
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

func promptCommands(text string) []shellCommand {
	var cmds []shellCommand
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "$ ") {
			if len(cmds) > 0 {
				c := &cmds[len(cmds)-1]
				c.output = append(c.output, lines[i])
			}
			continue
		}
		c := shellCommand{line: strings.TrimPrefix(lines[i], "$ "), at: i, exact: true}
		for continues(lines[i]) && i+1 < len(lines) {
			i++
			c.line += "\n" + lines[i]
		}
		cmds = append(cmds, c)
	}
	return cmds
}
