package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
)

// runRulesTest prints, for each event of the file, the rules it matches.
func runRulesTest(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rules test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var paths []string
	fs.Var(&listFlag{list: &paths}, "rules", "rule file or directory (repeatable)")
	eventFile := fs.String("event", "", `CloudEvents file (object, array or NDJSON; "-" for stdin)`)
	busName := fs.String("bus", "default", "bus the events are on")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if len(paths) == 0 || *eventFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: auditbus rules test --rules PATH --event FILE")
		return errUsage
	}
	set, err := router.LoadRules(paths)
	if err != nil {
		return reportRuleErrors(err, stderr)
	}
	events, err := readEventFile(*eventFile, os.Stdin)
	if err != nil {
		return err
	}
	for i := range events {
		e := &events[i]
		raw, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("event %s: %w", e.ID(), err)
		}
		res, err := set.Match(*busName, raw)
		if err != nil {
			return fmt.Errorf("event %s: %w", e.ID(), err)
		}
		names := make([]string, len(res.Rules))
		for j, r := range res.Rules {
			names[j] = r.Name
		}
		label := fmt.Sprintf("event %s (%s, %s)", e.ID(), e.Type(), bus.Subject(*busName, e))
		if len(names) == 0 {
			fmt.Fprintf(stdout, "%s: no rule matches\n", label)
		} else {
			fmt.Fprintf(stdout, "%s: matches %s\n", label, strings.Join(names, ", "))
		}
		for _, err := range res.Errors {
			fmt.Fprintf(stdout, "  error: %v\n", err)
		}
	}
	return nil
}
