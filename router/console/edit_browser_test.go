package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/auditbus/auditbus/router/console/consoletest"
)

// TestBrowserRuleEdit edits an API rule: a YAML error is shown at
// line:col (1-based) and nothing stored; a good edit is saved and runs.
func TestBrowserRuleEdit(t *testing.T) {
	r := consoletest.Start(t, consoletest.Options{})
	putRule(t, r, "console-edited", apiRule)
	tab := consoletest.Browser(t)
	consoletest.SignIn(t, tab, r, consoletest.AdminToken)

	broken := "name: console-edited\npattern:\n  source: [\"a\"]\nenabled: maybe\ntargets:\n  - id: out\n    log: {}\n"
	consoletest.Do(t, tab, "save a broken document",
		chromedp.Navigate(r.Console+"rules/default/console-edited"),
		chromedp.Click(chromedp.CSS(`a[href$="/edit"]`)),
		chromedp.WaitVisible(chromedp.ID("document")),
		chromedp.SetValue(chromedp.ID("document"), broken),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("problems")))
	problems := consoletest.Get(t, tab, "problems", chromedp.Text(chromedp.ID("problems")))
	if !strings.HasPrefix(problems, "4:10: ") {
		t.Errorf("problems %q, want line:col 4:10 (1-based: the value of enabled)", problems)
	}
	if kept := consoletest.Get(t, tab, "document", chromedp.Value(chromedp.ID("document"))); kept != broken {
		t.Errorf("the editor lost the text: %q", kept)
	}
	consoletest.Screenshot(t, tab, "rule-edit-error")

	fixed := strings.Replace(apiRule, "cloudaudit.tencentcloudapi.com", "cts.huaweicloud.com", 1)
	consoletest.Do(t, tab, "save a good document",
		chromedp.SetValue(chromedp.ID("document"), fixed),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("saved")),
		chromedp.Navigate(r.Console+"rules/default/console-edited"),
		chromedp.WaitVisible(chromedp.ID("targets")))
	if expr := consoletest.Get(t, tab, "expression", chromedp.Text(chromedp.CSS("main pre"))); !strings.Contains(expr, "cts.huaweicloud.com") {
		t.Errorf("the saved rule does not run: its expression is %q", expr)
	}
	consoletest.Screenshot(t, tab, "rule")
}
