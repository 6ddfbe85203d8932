package sinks

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The CloudEvents webhook abuse-protection headers (HTTP 1.1 Web Hooks
// for Event Delivery, section 4).
const (
	HeaderRequestOrigin   = "WebHook-Request-Origin"
	HeaderRequestCallback = "WebHook-Request-Callback"
	HeaderRequestRate     = "WebHook-Request-Rate"
	HeaderAllowedOrigin   = "WebHook-Allowed-Origin"
	HeaderAllowedRate     = "WebHook-Allowed-Rate"
)

// handshake sends the validation request: OPTIONS with this router's
// origin and the callback URL. Only a 2xx answer whose
// WebHook-Allowed-Origin names the origin (or "*") is consent; a status
// code alone is not. WebHook-Allowed-Rate, a positive integer of requests
// per minute or "*", caps the deliveries.
func (w *Webhook) handshake(ctx context.Context, s *Subscription) (Consent, error) {
	if w.origin == "" {
		return Consent{}, Permanent(errNoOrigin)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, w.cfg.URL, nil)
	if err != nil {
		return Consent{}, Permanent(err)
	}
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set(HeaderRequestOrigin, w.origin)
	req.Header.Set(HeaderRequestCallback, s.SubscribeURL)
	if s.RequestRate > 0 {
		req.Header.Set(HeaderRequestRate, strconv.Itoa(s.RequestRate))
	}
	resp, err := w.client.get().Do(req)
	if err != nil {
		return Consent{}, requestError(http.MethodOptions, w.shown, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return Consent{}, httpFailure(http.MethodOptions, w.shown, resp, snippet)
	}
	return w.readConsent(resp.Header), nil
}

// readConsent reads a 2xx answer to the validation request.
func (w *Webhook) readConsent(h http.Header) Consent {
	origins := h.Values(HeaderAllowedOrigin)
	if len(origins) == 0 {
		return Consent{Detail: "the answer has no " + HeaderAllowedOrigin + " header; waiting for a GET of the callback URL"}
	}
	if !allowsOrigin(origins, w.origin) {
		return Consent{Detail: fmt.Sprintf("%s %q does not name this router's origin %q", HeaderAllowedOrigin, strings.Join(origins, ","), w.origin)}
	}
	perMinute, err := AllowedRate(h.Get(HeaderAllowedRate))
	if err != nil {
		return Consent{Detail: err.Error()}
	}
	return Consent{Granted: true, PerMinute: perMinute}
}

func allowsOrigin(values []string, origin string) bool {
	for _, v := range values {
		for o := range strings.SplitSeq(v, ",") {
			if o = strings.TrimSpace(o); o == "*" || strings.EqualFold(o, origin) {
				return true
			}
		}
	}
	return false
}

// AllowedRate reads WebHook-Allowed-Rate: requests per minute, 0 for "*"
// or an absent header (no cap). Anything else is an error, since guessing
// at a cap the endpoint meant is worse than asking again.
func AllowedRate(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "*" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s %q is neither a positive number of requests per minute nor *", HeaderAllowedRate, v)
	}
	return n, nil
}

// errNoOrigin is a router bug: serve always names its origin.
var errNoOrigin = fmt.Errorf("handshake: no %s (the router did not provide one)", HeaderRequestOrigin)
