package rules

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/rules/rulestest"
)

// TestParseFileInChunksAsInOnePass: a file parsed in chunks on several
// goroutines, its nodes reused from one document to the next, gives the
// rules (targets and their settings included) and the errors (messages,
// positions, order) of the same file parsed in one pass with nodes of its
// own, whatever kind of error a chunk holds.
func TestParseFileInChunksAsInOnePass(t *testing.T) {
	var docs []string
	for _, d := range documentTexts(rulestest.Rules(600, 5)) {
		docs = append(docs, string(d))
	}
	broken := func(every int, edit func(string) string) string {
		out := make([]string, len(docs))
		for i, d := range docs {
			if i%every == every/2 {
				d = edit(d)
			}
			out[i] = d
		}
		return strings.Join(out, "")
	}
	for _, tc := range []struct {
		name, src string
		errs      bool
	}{
		{"valid", strings.Join(docs, ""), false},
		{"target settings", broken(3, func(d string) string {
			return strings.Replace(d, "log: {}", "webhook: {url: \"http://127.0.0.1:9/a\", headers: {X-Rule: r}}", 1)
		}), false},
		{"rule errors", broken(97, func(d string) string { return strings.Replace(d, "targets:", "targetz:", 1) }), true},
		{"condition errors", broken(89, func(d string) string { return strings.Replace(d, "pattern:", "condition: 'data.x +'\npattern:", 1) }), true},
		{"documents for yaml.v3", broken(50, func(d string) string { return strings.Replace(d, "description: ", "description: |\n  ", 1) }), false},
		{"duplicate names", broken(150, func(string) string { return "---\n" + strings.TrimPrefix(docs[3], "---\n") }), true},
		{"syntax error", broken(400, func(d string) string { return d + "bad: [\n" }), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src)
			if n := len(splitDocuments(src, 4096)); n < 10 {
				t.Fatalf("cut into %d chunks only", n)
			}
			// One pass, every document's nodes its own: the reference.
			wantRules, wantErr := parseFileChunked("r.yaml", src, len(src)+1, false, nil)
			gotRules, gotErr := parseFileChunked("r.yaml", src, 4096, true, nil)
			if (wantErr != nil) != tc.errs {
				t.Fatalf("error %v, want one: %v", wantErr, tc.errs)
			}
			if errString(gotErr) != errString(wantErr) {
				t.Fatalf("in chunks:\n%v\nin one pass:\n%v", gotErr, wantErr)
			}
			if got, want := ruleList(gotRules), ruleList(wantRules); got != want {
				t.Fatalf("in chunks %d rules, in one pass %d:\n%.500s\n%.500s", len(gotRules), len(wantRules), got, want)
			}
		})
	}
}

func ruleList(rs []*Rule) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %s %s %q %q\n", r.Name, r.Pos, r.pattern.source(), r.Condition, r.Description)
		for _, tg := range r.Targets {
			settings, err := yaml.Marshal(&tg.Config)
			if err != nil {
				panic(err)
			}
			fmt.Fprintf(&b, "  %s %s %s\n", tg.ID, tg.Kind, settings)
		}
	}
	return b.String()
}
