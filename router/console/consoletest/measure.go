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
	// stylesheets it loads (each counted whole, as a first visit pays),
	// AssetWireBytes the same as sent to a browser that takes gzip.
	HTMLBytes, AssetBytes, AssetWireBytes int64
	// FirstPaintMS is first-contentful-paint from the start of the
	// navigation, as the browser's Paint Timing reports it.
	FirstPaintMS float64
}

// Total is HTML+JS+CSS.
func (m PageMetrics) Total() int64 { return m.HTMLBytes + m.AssetBytes }

// Wire is HTML+JS+CSS as sent (HTML is not compressed).
func (m PageMetrics) Wire() int64 { return m.HTMLBytes + m.AssetWireBytes }

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
		m.AssetBytes += fetchSize(t, u, "")
		m.AssetWireBytes += fetchSize(t, u, "gzip")
	}
	return m
}

// fetchSize is the size of u's body as sent with Accept-Encoding enc
// (set by hand, the client does not decompress).
func fetchSize(t testing.TB, u, enc string) int64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", enc)
	if enc == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("asset %s: %v", u, err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("asset %s: %s", u, resp.Status)
	}
	return n
}
