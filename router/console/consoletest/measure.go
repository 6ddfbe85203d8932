package consoletest

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// PageMetrics is what one loaded page cost, as the browser's Performance
// API saw it.
type PageMetrics struct {
	// HTMLBytes, ScriptBytes and StyleBytes are decoded body sizes.
	HTMLBytes, ScriptBytes, StyleBytes int64
	// FirstPaintMS is first-contentful-paint from the start of navigation.
	FirstPaintMS float64
}

// Total is HTML+JS+CSS.
func (m PageMetrics) Total() int64 { return m.HTMLBytes + m.ScriptBytes + m.StyleBytes }

const metricsJS = `(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  let js = 0, css = 0;
  for (const r of performance.getEntriesByType("resource")) {
    if (r.initiatorType === "script") js += r.decodedBodySize;
    else if (r.initiatorType === "link" || r.initiatorType === "css") css += r.decodedBodySize;
  }
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return {HTMLBytes: nav.decodedBodySize, ScriptBytes: js, StyleBytes: css, FirstPaintMS: fcp ? fcp.startTime : -1};
})()`

// Measure reads the metrics of the page the tab has loaded. Load it
// fresh (a new browser, or a cache-busting navigation) for the script
// and style to count.
func Measure(t testing.TB, tab context.Context) PageMetrics {
	t.Helper()
	return Get(t, tab, "measure page", chromedp.Evaluate[PageMetrics](metricsJS))
}
