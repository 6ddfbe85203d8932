// Command genrules writes a generated rule set and events for `auditbus
// rules bench`, so anyone can reproduce the matching figures of issue #4:
//
//	go run ./examples/bench/genrules -rules 10000 -events 200 -match 0.1 -seed 1 -o /tmp/bench
//	go run ./cmd/auditbus rules bench --rules /tmp/bench/rules.yaml --events /tmp/bench/events.ndjson
//
// It writes DIR/rules.yaml (-rules rules, one YAML document each) and
// DIR/events.ndjson (-events structured CloudEvents, one per line, of which
// the fraction -match match exactly one rule and the rest none), both from
// package rulestest: the same -rules and -seed give the same files on any
// machine. DIR is created if needed; existing files are replaced.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/auditbus/auditbus/rules/rulestest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "genrules:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("genrules", flag.ContinueOnError)
	nRules := fs.Int("rules", 1000, "number of rules")
	nEvents := fs.Int("events", 200, "number of events")
	ratio := fs.Float64("match", 0.1, "fraction of events that match exactly one rule, 0 to 1")
	seed := fs.Uint64("seed", 1, "generator seed")
	dir := fs.String("o", ".", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	case *nRules < 0 || *nEvents < 1:
		return errors.New("-rules must be at least 0 and -events at least 1")
	case !(*ratio >= 0 && *ratio <= 1):
		return errors.New("-match must be between 0 and 1")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "rules.yaml"), rulestest.Rules(*nRules, *seed), 0o644); err != nil {
		return err
	}
	var ndjson bytes.Buffer
	matching := 0
	for _, e := range rulestest.Events(*nRules, *nEvents, *seed, *ratio) {
		ndjson.Write(e.Raw)
		ndjson.WriteByte('\n')
		if e.WantRule != "" {
			matching++
		}
	}
	if err := os.WriteFile(filepath.Join(*dir, "events.ndjson"), ndjson.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d rules; %s: %d events, %d built to match one rule\n",
		filepath.Join(*dir, "rules.yaml"), *nRules, filepath.Join(*dir, "events.ndjson"), *nEvents, matching)
	return nil
}
