package rules

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The conformance corpus (testdata/eventbridge/corpus.json) holds
// pattern/event pairs with EventBridge's answer, each naming where the
// fact comes from: aws/event-ruler's test suite (its assertions, and the
// cases of its correctness-cases.json, whose names state the answer) and
// the examples of the EventBridge documentation. An EventBridge event is
// an auditbus event's data, so each case runs as the pattern {data: P}
// over a CloudEvent whose data is the event.
//
// differences.json lists, by case id, the answers auditbus still gives
// differently on purpose, with the reason; every other case must agree.

type conformanceCase struct {
	ID      int             `json:"id"`
	Source  string          `json:"source"`
	Pattern json.RawMessage `json:"pattern"`
	Event   json.RawMessage `json:"event"`
	Match   bool            `json:"match"`
}

func loadConformance(t *testing.T) ([]conformanceCase, map[int]string) {
	t.Helper()
	var cases []conformanceCase
	var diffs map[string]string
	for file, into := range map[string]any{"corpus.json": &cases, "differences.json": &diffs} {
		b, err := os.ReadFile(filepath.Join("testdata", "eventbridge", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	known := map[int]string{}
	for id, reason := range diffs {
		var n int
		if _, err := fmt.Sscan(id, &n); err != nil || reason == "" {
			t.Fatalf("differences.json: %q needs a case id and a reason", id)
		}
		known[n] = reason
	}
	return cases, known
}

// conformanceAnswer runs one case through both engines, which must agree.
// refused reports a pattern auditbus does not load.
func conformanceAnswer(t *testing.T, c conformanceCase) (match, refused bool) {
	t.Helper()
	doc := fmt.Sprintf("name: c%d\npattern: {\"data\": %s}\ntargets: [{id: out, log: {}}]\n", c.ID, c.Pattern)
	rs, err := ParseFile("corpus.yaml", []byte(doc))
	if err != nil {
		return false, true
	}
	set, err := Compile(rs)
	if err != nil {
		t.Fatalf("case %d: %v", c.ID, err)
	}
	raw := []byte(fmt.Sprintf(`{"specversion":"1.0","id":"c%d","source":"corpus","type":"corpus","datacontenttype":"application/json","data":%s}`, c.ID, c.Event))
	res, err := set.Match(DefaultBus, raw)
	if err != nil {
		t.Fatalf("case %d: match: %v", c.ID, err)
	}
	env, err := decodeEnv(raw)
	if err != nil {
		t.Fatalf("case %d: %v", c.ID, err)
	}
	ref, err := rs[0].Match(env)
	if err != nil || ref != (len(res.Rules) == 1) {
		t.Errorf("case %d: the engines disagree: reference %v (%v), indexed %d rule(s)\n%s", c.ID, ref, err, len(res.Rules), rs[0].Expr())
	}
	return ref, false
}

func TestConformance(t *testing.T) {
	cases, known := loadConformance(t)
	if len(cases) < 300 {
		t.Fatalf("the corpus has %d cases; it should have hundreds", len(cases))
	}
	agree, refused := 0, 0
	var unexpected []string
	for _, c := range cases {
		got, ref := conformanceAnswer(t, c)
		if ref {
			refused++
		}
		ok := !ref && got == c.Match
		if ok {
			agree++
		}
		reason, listed := known[c.ID]
		switch {
		case ok && listed:
			unexpected = append(unexpected, fmt.Sprintf("case %d now agrees with EventBridge: remove it from differences.json (%s)", c.ID, reason))
		case !ok && !listed:
			what := fmt.Sprintf("auditbus says %v", got)
			if ref {
				what = "auditbus refuses the pattern"
			}
			unexpected = append(unexpected, fmt.Sprintf("case %d (%s): EventBridge says %v, %s\n  pattern %s\n  event   %s",
				c.ID, c.Source, c.Match, what, c.Pattern, c.Event))
		}
		delete(known, c.ID)
	}
	for id := range known {
		unexpected = append(unexpected, fmt.Sprintf("differences.json lists case %d, which the corpus does not have", id))
	}
	slices.Sort(unexpected)
	if len(unexpected) > 0 {
		t.Errorf("%d unexpected result(s):\n%s", len(unexpected), strings.Join(unexpected, "\n"))
	}
	t.Logf("conformance: %d of %d cases agree with EventBridge (%.1f%%); %d pattern(s) refused",
		agree, len(cases), 100*float64(agree)/float64(len(cases)), refused)
}
