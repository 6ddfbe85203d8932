package consoletest

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// Unlabelled lists (as outer HTML) the form controls of the loaded page
// that have no label: no <label for>, no wrapping label, no aria-label or
// aria-labelledby. Hidden inputs are not controls.
func Unlabelled(t testing.TB, tab context.Context) []string {
	t.Helper()
	return Get(t, tab, "find unlabelled controls", chromedp.Evaluate[[]string](`[...document.querySelectorAll(
  "input:not([type=hidden]), select, textarea")].filter(e =>
  !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby")
).map(e => e.outerHTML)`))
}

// Landmarks lists the page's landmark elements present of main and nav.
func Landmarks(t testing.TB, tab context.Context) []string {
	t.Helper()
	return Get(t, tab, "find landmarks", chromedp.Evaluate[[]string](
		`["main", "nav"].filter(tag => document.querySelector(tag))`))
}

// Focused describes the focused element: its id, else its tag and href
// or text.
func Focused(t testing.TB, tab context.Context) string {
	t.Helper()
	return Get(t, tab, "read focus", chromedp.Evaluate[string](`(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "body";
  if (e.id) return "#" + e.id;
  if (e.href) { const u = new URL(e.href); return "a " + u.pathname + u.hash; }
  return e.tagName.toLowerCase() + " " + e.textContent.trim();
})()`))
}

// Tab presses the Tab key once and returns what has the focus then.
func Tab(t testing.TB, tab context.Context) string {
	t.Helper()
	Do(t, tab, "press Tab", chromedp.KeyEvent("\t"))
	return Focused(t, tab)
}
