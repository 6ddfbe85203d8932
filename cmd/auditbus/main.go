// Command auditbus is the CloudEvents event bus router for cloud audit logs:
// `auditbus serve` runs it, the other commands publish events, check rules
// and report the version. Run `auditbus help` for the list.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// errUsage marks a command-line mistake (exit code 2); other errors exit 1.
var errUsage = errors.New("usage")

// command is a node of the command tree: a leaf runs, a parent only
// groups its subs. The tree is what help, the --help table test and shell
// completion walk, so a command added here is covered by all three.
type command struct {
	name, summary string
	// args is the synopsis of the positional arguments, for help ("PATH...").
	args string
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	subs []command
	// noJSON: the command prints no results to script against (serve runs
	// a server, completion prints a shell script), so it has no --json.
	noJSON bool
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the router: embedded NATS JetStream, HTTP API, rules, delivery", run: runServe, noJSON: true},
		{name: "publish", summary: "send CloudEvents from a file or stdin to a running server", run: runPublish},
		{name: "dlq", summary: "list and redrive dead letters of a running server", subs: []command{
			{name: "list", summary: "list dead letters, newest last", run: runDLQList},
			{name: "redrive", summary: "send dead letters again, to their target or another of the rule", run: runDLQRedrive},
		}},
		{name: "index", summary: "rebuild the audit index from the events stream", subs: []command{
			{name: "rebuild", summary: "empty the audit index and re-index the events stream", run: runIndexRebuild},
		}},
		{name: "replay", summary: "send a time range of events through the live or a draft rule set again, or see what it would do", subs: []command{
			{name: "run", summary: "start a replay and follow it to its end (interrupting cancels it)", run: runReplayRun},
			{name: "status", summary: "a replay's progress and report", args: "ID", run: runReplayStatus},
			{name: "list", summary: "the replays the server knows", run: runReplayList},
			{name: "cancel", summary: "stop a replay", args: "ID", run: runReplayCancel},
		}},
		{name: "search", summary: "search the audit index of a running server (filters or a rule pattern)", run: runSearch},
		{name: "tail", summary: "follow the events stream live from NATS, optionally through a rule pattern", run: runTail},
		{name: "rules", summary: "validate rule files, explain which rules match an event, or benchmark matching", subs: []command{
			{name: "validate", summary: "load rule files as serve does and report every problem", args: "PATH...", run: runRulesValidate},
			{name: "test", summary: "explain, clause by clause, which rules match each event", run: runRulesTest},
			{name: "bench", summary: "measure how fast the rules match a file of events", run: runRulesBench},
		}},
		{name: "nats-user", summary: "make a subscriber user entry for serve's --nats-users file", run: runNATSUser},
		{name: "health", summary: "probe a running server's readiness (or liveness) for container healthchecks", run: runHealth},
		{name: "token", summary: "create an API token or access key pair and print its auth file entry", subs: []command{
			{name: "create", summary: "make a token or access key pair and print its auth file entry", run: runTokenCreate},
		}},
		{name: "completion", summary: "print a shell completion script (bash or zsh)", subs: []command{
			{name: "bash", summary: "bash completion: source <(auditbus completion bash)", run: runCompletionBash, noJSON: true},
			{name: "zsh", summary: "zsh completion: source <(auditbus completion zsh)", run: runCompletionZsh, noJSON: true},
		}},
		{name: "version", summary: "print the version", run: runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run finds the command that args name, answers a help request (-h,
// -help, --help anywhere before "--", or help before the command) with its
// help on stdout and exit 0,
// and otherwise runs it: exit 0, 1 for a failure (printed with the hint
// that fixes it, if any), 2 for a command-line mistake.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 && args[0] == "help" { // help rules validate
		return run(ctx, append(slices.Clone(args[1:]), "--help"), stdout, stderr)
	}
	if len(args) == 0 || args[0] == "help" || wantsHelp(args[:1]) {
		usage(stdout)
		return 0
	}
	path, c, rest := resolve(args)
	if c == nil {
		fmt.Fprintf(stderr, "auditbus: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if wantsHelp(rest) {
		writeHelp(ctx, stdout, path, c)
		return 0
	}
	if c.run == nil {
		if len(rest) == 0 {
			fmt.Fprintf(stderr, "auditbus %s: missing subcommand (want %s)\n\n", path, subNames(c))
		} else {
			fmt.Fprintf(stderr, "auditbus %s: unknown subcommand %q (want %s)\n\n", path, rest[0], subNames(c))
		}
		writeHelp(ctx, stderr, path, c)
		return 2
	}
	err := c.run(ctx, rest, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "auditbus %s: %v\n", path, err)
		if h := hintFor(err); h != "" {
			fmt.Fprintf(stderr, "hint: %s\n", h)
		}
		return 1
	}
}

// resolve walks the tree along args: the command path ("rules validate"),
// the deepest command named, and the arguments after it. c is nil when
// args[0] names no command.
func resolve(args []string) (path string, c *command, rest []string) {
	list := commands()
	var names []string
	for i, a := range args {
		next := find(list, a)
		if next == nil {
			return strings.Join(names, " "), c, args[i:]
		}
		c, names, list = next, append(names, a), next.subs
	}
	return strings.Join(names, " "), c, nil
}

func find(list []command, name string) *command {
	for i := range list {
		if list[i].name == name {
			return &list[i]
		}
	}
	return nil
}

// wantsHelp reports whether args ask for help the way the flag package
// spells it, before a "--" that ends the flags.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

func subNames(c *command) string {
	names := make([]string, len(c.subs))
	for i, s := range c.subs {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "auditbus: a CloudEvents event bus router for cloud audit logs\n\nUsage: auditbus <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `auditbus <command> -h` for a command's flags.")
}
