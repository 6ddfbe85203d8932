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
	"syscall"
)

// errUsage marks a command-line mistake (exit code 2); other errors exit 1.
var errUsage = errors.New("usage")

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the router: embedded NATS JetStream, HTTP API, rules, delivery", runServe},
		{"publish", "send CloudEvents from a file or stdin to a running server", runPublish},
		{"dlq", "list and redrive dead letters of a running server", runDLQ},
		{"index", "rebuild the audit index from the events stream", runIndex},
		{"search", "search the audit index of a running server (filters or a rule pattern)", runSearch},
		{"tail", "follow the events stream live from NATS, optionally through a rule pattern", runTail},
		{"rules", "validate rule files, explain which rules match an event, or benchmark matching", runRules},
		{"nats-user", "make a subscriber user entry for serve's --nats-users file", runNATSUser},
		{"health", "probe a running server's readiness (or liveness) for container healthchecks", runHealth},
		{"token", "create an API token or access key pair and print its auth file entry", runToken},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "auditbus %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "auditbus: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "auditbus: a CloudEvents event bus router for cloud audit logs\n\nUsage: auditbus <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `auditbus <command> -h` for a command's flags.")
}
