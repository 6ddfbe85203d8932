package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// describer is the stderr a command is run with to learn its flags: a
// FlagSet made by newFlagSet hands itself over when asked for its usage
// (by the "-h" describe passes), after the command defined every flag. A
// command that builds its FlagSet with flag.NewFlagSet instead still
// prints its usage here, which help then shows as it is.
type describer struct {
	bytes.Buffer
	fs *flag.FlagSet
}

// newFlagSet is the FlagSet every command parses its flags with: errors
// go to stderr, and help and completion can see its flags.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "Run `auditbus %s -h` for its flags.\n", name) }
	if d, ok := stderr.(*describer); ok {
		fs.Usage = func() { d.fs = fs }
	}
	return fs
}

// describe runs a leaf command with "-h" to capture its FlagSet; nothing
// else runs, as every command parses its flags before doing anything.
// The FlagSet is nil when the command did not use newFlagSet; text is
// then what it printed for -h.
func describe(ctx context.Context, c *command) (fs *flag.FlagSet, text string) {
	if c.run == nil {
		return nil, ""
	}
	d := &describer{}
	_ = c.run(ctx, []string{"-h"}, io.Discard, d)
	return d.fs, d.String()
}

// writeHelp prints a command's help: its synopsis and summary, then its
// subcommands or every flag with its default.
func writeHelp(ctx context.Context, w io.Writer, path string, c *command) {
	if c.run == nil {
		fmt.Fprintf(w, "Usage: auditbus %s <subcommand> [flags]\n\n%s\n\nSubcommands:\n", path, capitalize(c.summary))
		for _, s := range c.subs {
			fmt.Fprintf(w, "  %-10s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(w, "\nRun `auditbus %s <subcommand> -h` for its flags.\n", path)
		return
	}
	fs, text := describe(ctx, c)
	synopsis := strings.TrimSpace("auditbus " + path + " [flags] " + c.args)
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, capitalize(c.summary))
	switch {
	case fs != nil && hasFlags(fs):
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	case fs == nil && text != "":
		fmt.Fprintf(w, "\n%s", text)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// usageFlagLine finds the flag names in the flag package's usage text.
var usageFlagLine = regexp.MustCompile(`(?m)^  -([A-Za-z0-9][\w.-]*)`)

// flagNames are a leaf command's flags, sorted: from its FlagSet, or read
// from its usage text when it has none of newFlagSet's.
func flagNames(ctx context.Context, c *command) []string {
	fs, text := describe(ctx, c)
	var names []string
	if fs != nil {
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	} else {
		for _, m := range usageFlagLine.FindAllStringSubmatch(text, -1) {
			names = append(names, m[1])
		}
	}
	sort.Strings(names)
	return names
}
