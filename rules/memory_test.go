package rules_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/auditbus/auditbus/rules"

	"github.com/auditbus/auditbus/rules/rulestest"
)

// maxBytesPerRule is issue #13's bound on the memory a loaded rule keeps.
const maxBytesPerRule = 4096

// TestLoadedRuleMemory holds a loaded, compiled realistic rule to at most
// maxBytesPerRule of heap, measured with the runtime's own accounting
// after a collection; so a change that makes rules heavier to keep (a
// program compiled per rule, a parse tree kept) fails here rather than in
// a deployment of 100,000 rules.
func TestLoadedRuleMemory(t *testing.T) {
	const n = 10000
	src := rulestest.Rules(n, scaleSeed)
	before := heapInUse()
	set := loadSet(t, src)
	perRule := float64(heapInUse()-before) / n
	runtime.KeepAlive(set)
	t.Logf("%.0f bytes per loaded rule over %d rules", perRule, n)
	if perRule > maxBytesPerRule {
		t.Errorf("a loaded rule keeps %.0f bytes, want at most %d", perRule, maxBytesPerRule)
	}
}

// TestSharedConditionMemory: rules of one file with the same condition
// share its program, so a condition repeated over many rules costs about
// nothing per rule.
func TestSharedConditionMemory(t *testing.T) {
	const n = 2000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\nname: r%d\npattern: {type: [t%d]}\ncondition: 'data.user != \"ci-bot\" && data.n > 3'\ntargets: [{id: out, log: {}}]\n", i, i)
	}
	before := heapInUse()
	set := loadSet(t, []byte(b.String()))
	perRule := float64(heapInUse()-before) / n
	runtime.KeepAlive(set)
	if perRule > maxBytesPerRule/2 {
		t.Errorf("a rule with a shared condition keeps %.0f bytes, want at most %d", perRule, maxBytesPerRule/2)
	}
}

// TestTargetSettingsMemory: a rule keeps its targets' settings, and only
// them, not the nodes of the rest of its document.
func TestTargetSettingsMemory(t *testing.T) {
	const n = 5000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\nname: r%d\ndescription: rule %d\npattern:\n  type: [\"cvm:CloudEvent:ApiCall\", \"cvm:CloudEvent:ConsoleCall\"]\n"+
			"  data: {eventName: [\"RunInstances\"], errorCode: [0], resources: {resourceName: [\"ins-%08d\"]}}\n"+
			"targets:\n  - id: hook\n    webhook: {url: \"http://127.0.0.1:9/hook\", headers: {X-Source: auditbus}}\n", i, i, i)
	}
	before := heapInUse()
	set := loadSet(t, []byte(b.String()))
	perRule := float64(heapInUse()-before) / n
	runtime.KeepAlive(set)
	t.Logf("%.0f bytes per loaded rule over %d rules", perRule, n)
	if perRule > maxBytesPerRule {
		t.Errorf("a rule with webhook settings keeps %.0f bytes, want at most %d", perRule, maxBytesPerRule)
	}
}

// TestParsedRulesKeepNoSource: rules parsed from a file keep no part of
// its bytes (no substring, no node pointing into them), so the file is
// collected once parsed. The file is large enough to be parsed in chunks
// on several goroutines, with the fast reader reusing its nodes.
func TestParsedRulesKeepNoSource(t *testing.T) {
	src := rulestest.Rules(2000, scaleSeed)
	w := weak.Make(&src[0])
	parsed, err := rules.ParseFile("rules.yaml", src)
	if err != nil || len(parsed) != 2000 {
		t.Fatalf("parsed %d rules, error %v; want 2000 and none", len(parsed), err)
	}
	// Two cycles: a parsing goroutine may still be on its way out, its
	// chunk in hand, during the first.
	runtime.GC()
	runtime.GC()
	if w.Value() != nil {
		t.Error("the file's bytes are still reachable from its parsed rules")
	}
	runtime.KeepAlive(parsed)
}
