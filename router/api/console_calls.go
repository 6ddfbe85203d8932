package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
)

// This file and the other console_*.go files are the console's way into
// the endpoints whose checks live in their handlers (bus scoping,
// parameter validation): call runs the endpoint's own handler in-process,
// so the console cannot drift from what the API accepts or refuses.

// CallError is an endpoint's refusal as the console sees it: the HTTP
// status the endpoint answered, its error code and message.
type CallError struct {
	Status  int
	Code    string
	Message string
}

func (e *CallError) Error() string { return e.Message }

// call runs h on a request of ctx (which carries the identity) with the
// query q and the JSON body (nil: none), decoding a 2xx answer into out.
// Any other answer is a *CallError.
func call(ctx context.Context, h http.HandlerFunc, method string, q url.Values, body any, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	r := httptest.NewRequestWithContext(ctx, method, "/?"+q.Encode(), bytes.NewReader(raw))
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h(w, r)
	if w.Code/100 != 2 {
		var e errorBody
		json.Unmarshal(w.Body.Bytes(), &e) // a body not of that shape leaves the status text
		if e.Message == "" {
			e.Message = http.StatusText(w.Code)
		}
		return &CallError{Status: w.Code, Code: e.Code, Message: e.Message}
	}
	if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
