package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/sources"
	"github.com/auditbus/auditbus/rules"
)

// runRulesValidate loads every file as serve would and reports every
// problem as file:line:col, failing when there is one. Rules that load are
// then linted: parts that can never match, conditions that cannot work,
// event names no catalogued product emits (warnings) and disabled rules
// (info) are printed to stderr sorted by position. Warnings fail the
// command only with --strict.
//
// With --json the whole report is one JSON document on stdout instead,
// and the exit status is the same.
func runRulesValidate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rules validate", stderr)
	strict := fs.Bool("strict", false, "fail (exit status 1) when there are warnings; info lines never fail")
	asJSON := jsonFlag(fs, "the report")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: auditbus rules validate [--strict] PATH...")
		return errUsage
	}
	rep := validateReport{Paths: fs.Args(), Problems: []validateEntry{}, Findings: []validateEntry{}}
	set, err := router.LoadRules(fs.Args())
	var errs rules.Errors
	switch {
	case errors.As(err, &errs):
		for _, e := range errs {
			rep.Problems = append(rep.Problems, validateEntry{e.Pos.String(), e.Rule, "error", e.Msg})
		}
	case err != nil:
		return err
	default:
		rep.Rules = set.Len()
		for _, w := range lintRules(set.Rules()) {
			rep.Findings = append(rep.Findings, validateEntry{w.Pos.String(), w.Rule, w.Severity.String(), w.Msg})
		}
	}
	verdict := rep.verdict(*strict)
	if *asJSON {
		if err := writeJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		rep.writeText(stdout, stderr, verdict == nil)
	}
	return verdict
}

// validateReport is what rules validate found; --json prints it whole.
type validateReport struct {
	Rules    int             `json:"rules"` // rules loaded (0 when there are problems)
	Paths    []string        `json:"paths"`
	Problems []validateEntry `json:"problems"` // errors: nothing loads
	Findings []validateEntry `json:"findings"` // lint warnings and info
}

// validateEntry is one problem or finding; Position is file:line:col,
// 1-based, or the file alone.
type validateEntry struct {
	Position string `json:"position"`
	Rule     string `json:"rule,omitempty"`
	Severity string `json:"severity"` // error, warning or info
	Message  string `json:"message"`
}

func (e validateEntry) String() string {
	rule := ""
	if e.Rule != "" {
		rule = fmt.Sprintf(" rule %q:", e.Rule)
	}
	sev := ""
	if e.Severity != "error" {
		sev = " " + e.Severity + ":"
	}
	return fmt.Sprintf("%s:%s%s %s", e.Position, rule, sev, e.Message)
}

func (rep validateReport) writeText(stdout, stderr io.Writer, ok bool) {
	for _, e := range rep.Problems {
		fmt.Fprintln(stderr, e)
	}
	for _, e := range rep.Findings {
		fmt.Fprintln(stderr, e)
	}
	if ok {
		fmt.Fprintf(stdout, "%d rules OK in %s\n", rep.Rules, strings.Join(rep.Paths, ", "))
	}
}

// verdict fails on problems, and on warnings with --strict.
func (rep validateReport) verdict(strict bool) error {
	if len(rep.Problems) > 0 {
		return fmt.Errorf("%d problem(s) found", len(rep.Problems))
	}
	warnings := 0
	for _, e := range rep.Findings {
		if e.Severity == rules.SeverityWarning.String() {
			warnings++
		}
	}
	if strict && warnings > 0 {
		return fmt.Errorf("%d warning(s), and --strict makes warnings fail", warnings)
	}
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
