package sinks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"gopkg.in/yaml.v3"
)

// drainLimit is how much of an answer beyond what is kept is read and
// thrown away so the connection can be reused; a longer answer costs a
// new connection rather than an unbounded read.
const drainLimit = 64 << 10

// errSnippetBytes bounds the answer quoted in a failure's message, as for
// webhooks.
const errSnippetBytes = 512

// httpInvoker calls a function through its HTTP invocation endpoint.
type httpInvoker struct {
	url     string
	shown   string // url redacted, for errors
	async   bool
	headers map[string]string
	client  *lazyClient
}

func newHTTPInvoker(node *yaml.Node, cfg FunctionConfig, guard *Guard) (*httpInvoker, error) {
	if err := refuseOptions(node, "url", "max_concurrency"); err != nil {
		return nil, err
	}
	if _, err := parseTargetURL(cfg.URL); err != nil {
		return nil, err
	}
	if err := checkConfigHeaders(cfg.Headers); err != nil {
		return nil, err
	}
	h := &httpInvoker{url: cfg.URL, shown: RedactURL(cfg.URL), headers: cfg.Headers}
	switch cfg.Invocation {
	case "", InvocationSync:
	case InvocationAsync:
		h.async = true
	default:
		return nil, fmt.Errorf("invocation %q: want sync or async", cfg.Invocation)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultFunctionURLTimeout
	}
	h.client = newLazyClient(guard, timeout)
	return h, nil
}

func (h *httpInvoker) check() error { return nil }

func (h *httpInvoker) close() { h.client.closeIdle() }

// invoke POSTs body and maps the answer (see Function).
func (h *httpInvoker) invoke(ctx context.Context, body []byte, contentType string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return nil, Permanent(fmt.Errorf("build request for %s: %w", h.shown, err))
	}
	for k, v := range h.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", contentType)
	if err := checkHeaders(req.Header); err != nil {
		return nil, fmt.Errorf("build request for %s: %w", h.shown, err)
	}
	resp, err := h.client.get().Do(req)
	if err != nil {
		return nil, requestError(http.MethodPost, h.shown, err)
	}
	defer resp.Body.Close()
	// The status decides: an answer cut short by a broken connection is
	// still the answer of a function that ran.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	ok := resp.StatusCode/100 == 2
	switch {
	case h.async && resp.StatusCode == http.StatusAccepted, !h.async && ok:
		return answer, nil
	case h.async && ok:
		return nil, Permanent(fmt.Errorf("POST %s: async invocation answered %d %s, want 202 Accepted "+
			"(is this a synchronous endpoint? the function may have run already, so it is not retried): %q",
			h.shown, resp.StatusCode, http.StatusText(resp.StatusCode), snippet(answer)))
	}
	return nil, httpFailure(http.MethodPost, h.shown, resp, snippet(answer))
}

func snippet(b []byte) []byte {
	if len(b) > errSnippetBytes {
		return b[:errSnippetBytes]
	}
	return b
}
