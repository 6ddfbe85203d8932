package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// completionEntry is what to offer after a command path: the names of
// its subcommands, or the --flags of a leaf (files otherwise).
type completionEntry struct {
	path  string
	words []string
	leaf  bool
}

// completionEntries walks the command tree, so the scripts always offer
// every command and every flag the binary has.
func completionEntries(ctx context.Context) []completionEntry {
	var out []completionEntry
	var walk func(path string, list []command)
	walk = func(path string, list []command) {
		e := completionEntry{path: path}
		for i := range list {
			e.words = append(e.words, list[i].name)
		}
		if path == "" {
			e.words = append(e.words, "help")
		}
		out = append(out, e)
		for i := range list {
			c := &list[i]
			p := strings.TrimSpace(path + " " + c.name)
			if c.run == nil {
				walk(p, c.subs)
				continue
			}
			leaf := completionEntry{path: p, leaf: true}
			for _, f := range flagNames(ctx, c) {
				leaf.words = append(leaf.words, "--"+f)
			}
			out = append(out, leaf)
		}
	}
	walk("", commands())
	return out
}

// commandPaths is the case pattern of every path that names a command.
func commandPaths(entries []completionEntry) string {
	var ps []string
	for _, e := range entries {
		if e.path != "" {
			ps = append(ps, fmt.Sprintf("%q", e.path))
		}
	}
	return strings.Join(ps, "|")
}

func runCompletionBash(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := noArgs("completion bash", args, stderr); err != nil {
		return err
	}
	entries := completionEntries(ctx)
	var b strings.Builder
	b.WriteString(`# bash completion for auditbus: source <(auditbus completion bash)
_auditbus() {
	local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath="" next i
	for ((i = 1; i < COMP_CWORD; i++)); do
		next="${cmdpath:+$cmdpath }${COMP_WORDS[i]}"
		case "$next" in
		` + commandPaths(entries) + `) cmdpath="$next" ;;
		*) break ;;
		esac
	done
	local words=""
	case "$cmdpath" in
`)
	for _, e := range entries {
		fmt.Fprintf(&b, "\t%q) words=%q", e.path, strings.Join(e.words, " "))
		if e.leaf {
			b.WriteString(`; [[ "$cur" == -* ]] || words=""`)
		}
		b.WriteString(" ;;\n")
	}
	b.WriteString(`	esac
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _auditbus auditbus
`)
	_, err := io.WriteString(stdout, b.String())
	return err
}

func runCompletionZsh(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := noArgs("completion zsh", args, stderr); err != nil {
		return err
	}
	entries := completionEntries(ctx)
	var b strings.Builder
	b.WriteString(`#compdef auditbus
# zsh completion for auditbus: source <(auditbus completion zsh), after compinit
_auditbus() {
	local cmdpath="" next i
	for ((i = 2; i < CURRENT; i++)); do
		next="${cmdpath:+$cmdpath }${words[i]}"
		case "$next" in
		(` + commandPaths(entries) + `) cmdpath="$next" ;;
		(*) break ;;
		esac
	done
	case "$cmdpath" in
`)
	for _, e := range entries {
		list := strings.Join(e.words, " ")
		if e.leaf {
			fmt.Fprintf(&b, "\t(%q) if [[ $PREFIX == -* ]]; then compadd -- %s; else _files; fi ;;\n", e.path, list)
		} else {
			fmt.Fprintf(&b, "\t(%q) compadd -- %s ;;\n", e.path, list)
		}
	}
	b.WriteString(`	esac
}
if (( $+functions[compdef] )); then
	compdef _auditbus auditbus
fi
`)
	_, err := io.WriteString(stdout, b.String())
	return err
}

// noArgs parses a command that takes no flags and no arguments.
func noArgs(name string, args []string, stderr io.Writer) error {
	fs := newFlagSet(name, stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "auditbus %s takes no arguments\n", name)
		return errUsage
	}
	return nil
}
