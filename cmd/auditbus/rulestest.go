package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
	"github.com/auditbus/auditbus/router/cejson"
	"github.com/auditbus/auditbus/rules"
)

const rulesTestUsage = "usage: auditbus rules test --rules PATH --event FILE [--bus BUS] [--rule NAME]... [--json]"

// runRulesTest prints, for each event of the file, the rules it matches and
// then why each rule of the bus (or each --rule) did or did not match. The
// verdict comes from the engine (Set.Match); the explanations are computed
// separately, clause by clause, and a disagreement between the two is a bug
// in auditbus, reported loudly with a non-zero exit.
func runRulesTest(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rules test", stderr)
	var paths, only []string
	fs.Var(&listFlag{list: &paths}, "rules", "rule file or directory (repeatable)")
	fs.Var(&listFlag{list: &only}, "rule", "explain only this rule (repeatable; default every rule of the bus)")
	eventFile := fs.String("event", "", `CloudEvents file (object, array or NDJSON; "-" for stdin)`)
	busName := fs.String("bus", "default", "bus the events are on")
	asJSON := fs.Bool("json", false, "print one JSON document per event instead of text")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if len(paths) == 0 || *eventFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, rulesTestUsage)
		return errUsage
	}
	set, err := router.LoadRules(paths)
	if err != nil {
		return reportRuleErrors(err, stderr)
	}
	onBus, shown, err := busRules(set, *busName, only)
	if err != nil {
		fmt.Fprintf(stderr, "auditbus rules test: %v\n", err)
		return errUsage
	}
	if len(onBus) == 0 {
		fmt.Fprintf(stderr, "warning: no rules on bus %q\n", *busName)
	}
	events, err := readEventFile(*eventFile, os.Stdin)
	if err != nil {
		return err
	}
	bugs := 0
	for i := range events {
		rep, err := testEvent(set, *busName, &events[i], onBus)
		if err != nil {
			return err
		}
		for _, d := range rep.disagreements() {
			fmt.Fprintln(stderr, "BUG: "+d)
			bugs++
		}
		if err := rep.write(stdout, shown, *asJSON); err != nil {
			return err
		}
	}
	if bugs > 0 {
		return fmt.Errorf("%d disagreement(s) between the engine and its explanation: this is a bug in auditbus, please report it with the rule and the event", bugs)
	}
	return nil
}

// busRules returns every rule of bus, enabled or not, and the subset to
// explain: all of them, or the ones named, which must exist on bus.
func busRules(set *rules.Set, busName string, names []string) (onBus, shown []*rules.Rule, err error) {
	var elsewhere []string
	for _, r := range set.Rules() {
		if r.Bus == busName {
			onBus = append(onBus, r)
		} else if slices.Contains(names, r.Name) {
			elsewhere = append(elsewhere, fmt.Sprintf("%s is on bus %q", r.Name, r.Bus))
		}
	}
	if len(names) == 0 {
		return onBus, onBus, nil
	}
	for _, name := range names {
		i := slices.IndexFunc(onBus, func(r *rules.Rule) bool { return r.Name == name })
		if i < 0 {
			hint := ""
			if len(elsewhere) > 0 {
				hint = " (" + strings.Join(elsewhere, ", ") + "; use --bus)"
			}
			return nil, nil, fmt.Errorf("--rule %q: no such rule on bus %q%s", name, busName, hint)
		}
		if !slices.Contains(shown, onBus[i]) {
			shown = append(shown, onBus[i])
		}
	}
	return onBus, shown, nil
}

// eventReport is what testing one event found: the engine's answer and an
// explanation of every rule of the bus.
type eventReport struct {
	event        *ce.Event
	subject      string
	result       rules.Result
	explanations []*rules.Explanation // parallel to the bus's rules
}

func testEvent(set *rules.Set, busName string, e *ce.Event, onBus []*rules.Rule) (*eventReport, error) {
	raw, err := cejson.Marshal(e)
	if err != nil {
		return nil, err
	}
	res, err := set.Match(busName, raw)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", e.ID(), err)
	}
	// Explain sees the event exactly as Set.Match does: decoded from the
	// stored JSON form, not as the file reader built it.
	var stored ce.Event
	if err := cejson.Unmarshal(raw, &stored); err != nil {
		return nil, fmt.Errorf("event %s: %w", e.ID(), err)
	}
	env := rules.NewEnv(&stored)
	rep := &eventReport{event: e, subject: bus.Subject(busName, e), result: res}
	for _, r := range onBus {
		rep.explanations = append(rep.explanations, r.Explain(env))
	}
	return rep, nil
}

func (rep *eventReport) matchedNames() []string {
	names := make([]string, len(rep.result.Rules))
	for i, r := range rep.result.Rules {
		names[i] = r.Name
	}
	return names
}

// disagreements lists every rule whose explanation's verdict differs from
// the engine's.
func (rep *eventReport) disagreements() []string {
	matched := rep.matchedNames()
	var out []string
	for _, x := range rep.explanations {
		engine := slices.Contains(matched, x.Rule)
		if engine != x.Matched {
			out = append(out, fmt.Sprintf("event %s, rule %s (bus %s): the engine says %s, its explanation says %s",
				rep.event.ID(), x.Rule, x.Bus, verdict(engine), verdict(x.Matched)))
		}
	}
	return out
}

func verdict(matched bool) string {
	if matched {
		return "match"
	}
	return "no match"
}

// jsonReport is the --json form of one event's report.
type jsonReport struct {
	Event        string               `json:"event"`
	Matched      []string             `json:"matched"`
	Errors       []string             `json:"errors,omitempty"`
	Explanations []*rules.Explanation `json:"explanations"`
}

func (rep *eventReport) write(w io.Writer, shown []*rules.Rule, asJSON bool) error {
	var xs []*rules.Explanation
	for _, x := range rep.explanations {
		if slices.ContainsFunc(shown, func(r *rules.Rule) bool { return r.Name == x.Rule }) {
			xs = append(xs, x)
		}
	}
	if asJSON {
		doc := jsonReport{Event: rep.event.ID(), Matched: rep.matchedNames(), Explanations: xs}
		if doc.Explanations == nil {
			doc.Explanations = []*rules.Explanation{}
		}
		for _, err := range rep.result.Errors {
			doc.Errors = append(doc.Errors, err.Error())
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false) // numeric bounds such as "<=" stay readable
		return enc.Encode(doc)
	}
	var b strings.Builder
	label := fmt.Sprintf("event %s (%s, %s)", rep.event.ID(), rep.event.Type(), rep.subject)
	if names := rep.matchedNames(); len(names) == 0 {
		fmt.Fprintf(&b, "%s: no rule matches\n", label)
	} else {
		fmt.Fprintf(&b, "%s: matches %s\n", label, strings.Join(names, ", "))
	}
	for _, err := range rep.result.Errors {
		fmt.Fprintf(&b, "  error: %s\n", firstLine(err.Error()))
	}
	for _, x := range xs {
		b.WriteString(indent(x.Text(), "  "))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(text, prefix string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

// firstLine drops the source excerpt expr appends to runtime errors; the
// explanation below shows the condition itself.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
