package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/sources"
	"github.com/auditbus/auditbus/rules"
)

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: auditbus rules validate [--strict] PATH... | auditbus rules test --rules PATH --event FILE | auditbus rules bench --rules PATH --events FILE")
		return errUsage
	}
	switch args[0] {
	case "validate":
		return runRulesValidate(args[1:], stdout, stderr)
	case "test":
		return runRulesTest(args[1:], stdout, stderr)
	case "bench":
		return runRulesBench(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "auditbus rules: unknown subcommand %q (want validate, test or bench)\n", args[0])
		return errUsage
	}
}

// runRulesValidate loads every file as serve would and reports every
// problem as file:line:col, failing when there is one. Rules that load are
// then linted: parts that can never match, conditions that cannot work,
// event names no catalogued product emits (warnings) and disabled rules
// (info) are printed to stderr sorted by position. Warnings fail the
// command only with --strict.
func runRulesValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rules validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "fail (exit status 1) when there are warnings; info lines never fail")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: auditbus rules validate [--strict] PATH...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	set, err := router.LoadRules(fs.Args())
	if err != nil {
		return reportRuleErrors(err, stderr)
	}
	warnings := 0
	for _, w := range lintRules(set.Rules()) {
		fmt.Fprintln(stderr, w)
		if w.Severity == rules.SeverityWarning {
			warnings++
		}
	}
	if *strict && warnings > 0 {
		return fmt.Errorf("%d warning(s), and --strict makes warnings fail", warnings)
	}
	fmt.Fprintf(stdout, "%d rules OK in %s\n", set.Len(), strings.Join(fs.Args(), ", "))
	return nil
}

// lintRules gathers what rules.Lint and the catalog check find in every
// rule, sorted by position so that the output reads like the files.
func lintRules(rs []*rules.Rule) []rules.Warning {
	var out []rules.Warning
	for _, r := range rs {
		out = append(out, rules.Lint(r)...)
		for _, msg := range catalogWarnings(r) {
			out = append(out, rules.Warning{Pos: r.Pos, Rule: r.Name, Severity: rules.SeverityWarning, Msg: msg})
		}
	}
	slices.SortStableFunc(out, rules.CompareWarnings)
	return out
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
