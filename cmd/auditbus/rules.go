package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/sources"
	"github.com/auditbus/auditbus/rules"
)

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: auditbus rules validate PATH... | auditbus rules test --rules PATH --event FILE")
		return errUsage
	}
	switch args[0] {
	case "validate":
		return runRulesValidate(args[1:], stdout, stderr)
	case "test":
		return runRulesTest(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "auditbus rules: unknown subcommand %q (want validate or test)\n", args[0])
		return errUsage
	}
}

// runRulesValidate checks every file and reports every problem as
// file:line:col, exiting non-zero when there is one.
func runRulesValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rules validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: auditbus rules validate PATH...")
		return errUsage
	}
	set, err := router.LoadRules(fs.Args())
	if err != nil {
		return reportRuleErrors(err, stderr)
	}
	for _, r := range set.Rules() {
		for _, w := range catalogWarnings(r) {
			fmt.Fprintf(stderr, "%s: rule %q: warning: %s\n", r.Pos, r.Name, w)
		}
	}
	fmt.Fprintf(stdout, "%d rules OK in %s\n", set.Len(), strings.Join(fs.Args(), ", "))
	return nil
}

// catalogWarnings flags data.eventName values that no catalogued product
// emits: usually a typo, and a rule that can never match. Only products the
// catalog lists are judged; when a rule names none by type or source, every
// catalogued product is.
func catalogWarnings(r *rules.Rule) []string {
	var products []string
	for _, t := range r.ExactStrings("type") {
		if p, _ := bus.ProductKind(t); p != "" {
			products = append(products, p)
		}
	}
	for _, src := range r.ExactStrings("source") {
		p, _, _ := strings.Cut(src, ".")
		products = append(products, p)
	}
	var judged []string
	for _, p := range products {
		if sources.CatalogedProduct(p) {
			judged = append(judged, p)
		}
	}
	if len(products) > 0 && len(judged) == 0 {
		return nil
	}
	var warnings []string
	for _, name := range r.ExactStrings("data", "eventName") {
		if !emitted(name, judged) {
			warnings = append(warnings, fmt.Sprintf("event name %q is not an operation of %s in the CloudAudit catalog", name, productList(judged)))
		}
	}
	return warnings
}

func emitted(name string, products []string) bool {
	if len(products) == 0 {
		return sources.KnownEventName(name)
	}
	for _, p := range products {
		if _, ok := sources.LookupEvent(p, name); ok {
			return true
		}
	}
	return false
}

func productList(products []string) string {
	if len(products) == 0 {
		return "any product"
	}
	return strings.Join(products, " or ")
}

func reportRuleErrors(err error, stderr io.Writer) error {
	var errs rules.Errors
	if !errors.As(err, &errs) {
		return err
	}
	for _, e := range errs {
		fmt.Fprintln(stderr, e)
	}
	return fmt.Errorf("%d problem(s) found", len(errs))
}
