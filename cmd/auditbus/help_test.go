package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"strings"
	"testing"
)

// leafCommand is a command of the tree with its path ("dlq list").
type leafCommand struct {
	path string
	cmd  *command
}

// everyCommand walks the command tree the way help and completion do, so
// a command added to commands() is covered by these tests unchanged.
func everyCommand() (parents, leaves []leafCommand) {
	var walk func(prefix string, list []command)
	walk = func(prefix string, list []command) {
		for i := range list {
			c := &list[i]
			p := strings.TrimSpace(prefix + " " + c.name)
			if c.run == nil {
				parents = append(parents, leafCommand{p, c})
				walk(p, c.subs)
			} else {
				leaves = append(leaves, leafCommand{p, c})
			}
		}
	}
	walk("", commands())
	return parents, leaves
}

// TestHelpEveryCommand: -h and --help (and -help) on every command and
// subcommand print its help on stdout, nothing on stderr, and exit 0;
// a leaf's help lists every flag it defines, a parent's every subcommand.
func TestHelpEveryCommand(t *testing.T) {
	parents, leaves := everyCommand()
	if len(leaves) < 15 {
		t.Fatalf("walked only %d commands", len(leaves))
	}
	for _, l := range leaves {
		fs, _ := describe(context.Background(), l.cmd)
		if fs == nil {
			t.Errorf("%s: no FlagSet seen; build its flags with newFlagSet so help and completion see them", l.path)
			continue
		}
		var want []string
		fs.VisitAll(func(f *flag.Flag) { want = append(want, "\n  -"+f.Name) })
		if l.path == "serve" && !strings.Contains(strings.Join(want, ""), "-config") {
			t.Errorf("serve defines no --config")
		}
		checkHelp(t, l.path, want)
	}
	for _, p := range parents {
		var want []string
		for _, s := range p.cmd.subs {
			want = append(want, "\n  "+s.name+" ")
		}
		checkHelp(t, p.path, want)
	}
	if code, out, _ := cli(t, context.Background(), "help", "rules", "validate"); code != 0 || !strings.HasPrefix(out, "Usage: auditbus rules validate ") {
		t.Errorf("help rules validate: exit %d:\n%s", code, out)
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		code, out, _ := cli(t, context.Background(), args...)
		if code != 0 || !strings.Contains(out, "completion") || !strings.Contains(out, "rules") {
			t.Errorf("%v: exit %d:\n%s", args, code, out)
		}
	}
}

func checkHelp(t *testing.T, path string, want []string) {
	t.Helper()
	for _, h := range []string{"-h", "--help", "-help"} {
		args := append(strings.Fields(path), h)
		code, out, errOut := cli(t, context.Background(), args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "Usage: auditbus "+path+" ") {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
			continue
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: help lacks %q:\n%s", args, strings.TrimSpace(w), out)
			}
		}
	}
}

// TestHelpAfterOtherFlags: a help flag anywhere before "--" wins over the
// rest of the command line, which is not run.
func TestHelpAfterOtherFlags(t *testing.T) {
	code, out, _ := cli(t, context.Background(), "publish", "--file", "/nonexistent", "--help")
	if code != 0 || !strings.Contains(out, "-file") {
		t.Errorf("exit %d: %s", code, out)
	}
}

// TestEveryCommandHasJSON: every command that prints results has --json.
func TestEveryCommandHasJSON(t *testing.T) {
	_, leaves := everyCommand()
	for _, l := range leaves {
		fs, _ := describe(context.Background(), l.cmd)
		has := fs != nil && fs.Lookup("json") != nil
		if has == l.cmd.noJSON {
			t.Errorf("%s: --json defined %v, noJSON %v", l.path, has, l.cmd.noJSON)
		}
	}
}

// TestSubcommandMistakes: a parent without or with a wrong subcommand is
// a usage error that names the subcommands.
func TestSubcommandMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rules"}, `auditbus rules: missing subcommand (want validate, test, bench)`},
		{[]string{"rules", "--strict"}, `auditbus rules: unknown subcommand "--strict" (want validate, test, bench)`},
		{[]string{"dlq", "lst"}, `auditbus dlq: unknown subcommand "lst" (want list, redrive)`},
		{[]string{"frobnicate", "--help"}, `auditbus: unknown command "frobnicate"`},
	} {
		code, out, errOut := cli(t, context.Background(), tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %s", tc.args, code, errOut)
		}
	}
}

// TestHelpOfPlainFlagSet: a command that builds its flags with
// flag.NewFlagSet, as commands did before newFlagSet, still has its usage
// shown as help and its flags offered for completion.
func TestHelpOfPlainFlagSet(t *testing.T) {
	c := &command{name: "plain", summary: "a command in the old style", run: func(_ context.Context, args []string, _, stderr io.Writer) error {
		fs := flag.NewFlagSet("plain", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.String("since", "", "only events since this time")
		fs.Bool("json", false, "print JSON")
		if err := fs.Parse(args); err != nil {
			return errUsage
		}
		return nil
	}}
	var b bytes.Buffer
	writeHelp(context.Background(), &b, "plain", c)
	if !strings.Contains(b.String(), "Usage: auditbus plain [flags]") || !strings.Contains(b.String(), "\n  -since string\n") {
		t.Errorf("help:\n%s", b.String())
	}
	if got := strings.Join(flagNames(context.Background(), c), " "); got != "json since" {
		t.Errorf("flags %q, want json since", got)
	}
}
