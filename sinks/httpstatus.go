package sinks

import (
	"fmt"
	"net/http"
)

// httpFailure is the *Error for an HTTP answer that is not a success, with
// the same mapping for every sink that calls a URL (webhooks, function
// invocations): 408, 429 and 5xx are retryable, honouring Retry-After;
// every other status (400, 401, 403, 404, 410, 413, 3xx since redirects
// are never followed, ...) is permanent. snippet is the start of the
// answer's body, kept in the message for whoever reads the failure.
func httpFailure(method, target string, resp *http.Response, snippet []byte) *Error {
	return &Error{
		Status:     resp.StatusCode,
		Retryable:  retryableStatus(resp.StatusCode),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After")),
		Err:        fmt.Errorf("%s %s: %s %q", method, target, http.StatusText(resp.StatusCode), snippet),
	}
}
