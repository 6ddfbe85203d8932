package consoletest

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// PageMetrics is what one loaded page costs.
type PageMetrics struct {
	// HTMLBytes is the page's decoded body; AssetBytes the scripts and
	// stylesheets it loads (each counted whole, as a first visit pays).
	HTMLBytes, AssetBytes int64
	// FirstPaintMS is first-contentful-paint from the start of the
	// navigation, as the browser's Paint Timing reports it.
	FirstPaintMS float64
}

// Total is HTML+JS+CSS.
func (m PageMetrics) Total() int64 { return m.HTMLBytes + m.AssetBytes }

type pageFacts struct {
	HTMLBytes    int64
	Assets       []string
	FirstPaintMS float64
}

// metricsJS waits for the first contentful paint (it may come after the
// element a test waited for is in the DOM).
const metricsJS = `new Promise(resolve => {
  const nav = performance.getEntriesByType("navigation")[0];
  const assets = [...document.querySelectorAll("script[src]")].map(s => s.src)
    .concat([...document.querySelectorAll("link[rel=stylesheet]")].map(l => l.href));
  const done = ms => resolve({HTMLBytes: nav.decodedBodySize, Assets: assets, FirstPaintMS: ms});
  new PerformanceObserver((list, obs) => {
    for (const e of list.getEntries()) {
      if (e.name === "first-contentful-paint") { obs.disconnect(); done(e.startTime); }
    }
  }).observe({type: "paint", buffered: true});
})`

// Measure reads the metrics of the page the tab has loaded, fetching its
// scripts and stylesheets to count their size.
func Measure(t testing.TB, tab context.Context) PageMetrics {
	t.Helper()
	f := Get(t, tab, "measure page", chromedp.Evaluate[pageFacts](metricsJS, chromedp.EvalAwaitPromise))
	m := PageMetrics{HTMLBytes: f.HTMLBytes, FirstPaintMS: f.FirstPaintMS}
	for _, u := range f.Assets {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("asset %s: %v", u, err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("asset %s: %s", u, resp.Status)
		}
		m.AssetBytes += n
	}
	return m
}
