package consoletest

import (
	"context"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// Unlabelled lists (as outer HTML) the controls of the loaded page that
// have no accessible name: a form control with no <label for>, no
// wrapping label, no aria-label or aria-labelledby, or a button with
// neither text nor aria-label. Hidden inputs are not controls.
func Unlabelled(t testing.TB, tab context.Context) []string {
	t.Helper()
	return Get(t, tab, "find unlabelled controls", chromedp.Evaluate[[]string](`[...document.querySelectorAll(
  "input:not([type=hidden]), select, textarea, button")].filter(e =>
  !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby") &&
  !(e.tagName === "BUTTON" && e.textContent.trim())
).map(e => e.outerHTML.slice(0, 120))`))
}

// Landmarks lists the page's landmark elements present of main and nav.
func Landmarks(t testing.TB, tab context.Context) []string {
	t.Helper()
	return Get(t, tab, "find landmarks", chromedp.Evaluate[[]string](
		`["main", "nav"].filter(tag => document.querySelector(tag))`))
}

// focusedJS describes the focused element: its id, else its tag and
// href or text.
const focusedJS = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "body";
  if (e.id) return "#" + e.id;
  if (e.href) { const u = new URL(e.href); return "a " + u.pathname + u.hash; }
  return e.tagName.toLowerCase() + " " + e.textContent.trim();
})()`

// Focused describes the focused element: its id, else its tag and href
// or text.
func Focused(t testing.TB, tab context.Context) string {
	t.Helper()
	return Get(t, tab, "read focus", chromedp.Evaluate[string](focusedJS))
}

// Tab presses the Tab key once and returns what has the focus then.
func Tab(t testing.TB, tab context.Context) string {
	t.Helper()
	Do(t, tab, "press Tab", chromedp.KeyEvent("\t"))
	return Focused(t, tab)
}

// TabTo presses Tab from the top of the page until want (as Focused
// describes it) has the focus, failing the test when a walk through the
// whole page never reaches it.
func TabTo(t testing.TB, tab context.Context, want string) {
	t.Helper()
	n := Get(t, tab, "count focusable", chromedp.Evaluate[int](`(document.activeElement && document.activeElement.blur(),
  document.querySelectorAll("a[href], input:not([type=hidden]), select, textarea, button, summary").length)`))
	for range 2*n + 4 { // the walk may start anywhere and wrap
		if Tab(t, tab) == want {
			return
		}
	}
	t.Fatalf("Tab never reaches %s", want)
}

// controlsJS lists the controls shown in main (not those inside a closed
// <details>, whose summary Tab reaches instead), as markers the Tab walk
// of Unreachable compares the focused element with.
const controlsJS = `[...document.querySelectorAll("main input:not([type=hidden]), main select, main textarea, main button")]
  .filter(e => e.checkVisibility()).map(e => e.outerHTML.slice(0, 60))`

const activeJS = `document.activeElement ? document.activeElement.outerHTML.slice(0, 60) : ""`

// Unreachable lists the controls shown in main that pressing Tab from
// the top of the page never focuses (as the start of their outer HTML).
func Unreachable(t testing.TB, tab context.Context) []string {
	t.Helper()
	controls := Get(t, tab, "find controls", chromedp.Evaluate[[]string](controlsJS))
	reached := map[string]bool{}
	Do(t, tab, "focus the top", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.scrollTo(0,0)`))
	for i := 0; i < 3*len(controls)+40 && len(reached) < len(controls); i++ {
		Do(t, tab, "press Tab", chromedp.KeyEvent("\t"))
		if el := Get(t, tab, "read focus", chromedp.Evaluate[string](activeJS)); slices.Contains(controls, el) {
			reached[el] = true
		}
	}
	var out []string
	for _, c := range controls {
		if !reached[c] {
			out = append(out, c)
		}
	}
	return out
}

// CheckPage checks the loaded page the same way for every page: each
// control has a name, Tab reaches every control in main, and the page
// has exactly the landmarks want (main and nav when want is nil). It
// logs the page's weight and first paint, failing when nothing was
// measured, and keeps a screenshot named name.
func CheckPage(t testing.TB, tab context.Context, name string, want ...string) PageMetrics {
	t.Helper()
	if bad := Unlabelled(t, tab); len(bad) > 0 {
		t.Errorf("%s: controls without a label: %v", name, bad)
	}
	if want == nil {
		want = []string{"main", "nav"}
	}
	if got := Landmarks(t, tab); !slices.Equal(got, want) {
		t.Errorf("%s: landmarks %v, want %v", name, got, want)
	}
	for _, c := range Unreachable(t, tab) {
		t.Errorf("%s: Tab never reaches %s", name, c)
	}
	m := Measure(t, tab)
	t.Logf("page %-13s HTML %5d B + JS/CSS %5d B = %5d B (%5d B sent gzipped); first contentful paint %.0f ms",
		name, m.HTMLBytes, m.AssetBytes, m.Total(), m.Wire(), m.FirstPaintMS)
	if m.HTMLBytes == 0 || m.AssetBytes == 0 {
		t.Errorf("%s: measured nothing: %+v", name, m)
	}
	Screenshot(t, tab, name)
	return m
}
