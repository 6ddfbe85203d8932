package main

import (
	"encoding/json"
	"errors"
	"strings"
	"syscall"

	"github.com/auditbus/auditbus/router/auth"
)

// hintError is a failure that knows the flag that fixes it; run prints
// the hint on its own line after the error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return &hintError{err, hint} }

// phraseHints translate what the server or a library says, meant for
// API clients, into the flag a CLI user passes instead.
var phraseHints = []struct{ phrase, hint string }{
	{"pass ?cluster=NAME", "pass --cluster NAME: the cluster the records come from"},
}

// hintFor is the hint for err: its own, the one for how the API refused
// it, or the one for a phrase it holds.
func hintFor(err error) string {
	var h *hintError
	if errors.As(err, &h) {
		return h.hint
	}
	var ae *apiErr
	switch {
	case errors.As(err, &ae) && ae.code == auth.CodeUnauthenticated:
		return "pass --token-file FILE or set AUDITBUS_TOKEN (a token from `auditbus token create`), or --client-cert and --client-key"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens at that address: start `auditbus serve`, or pass --url (env AUDITBUS_URL) for the server"
	}
	msg := err.Error()
	for _, p := range phraseHints {
		if strings.Contains(msg, p.phrase) {
			return p.hint
		}
	}
	return ""
}

// recordShape names the --format of a file holding the raw records of a
// source rather than CloudEvents: "cloudaudit", "cts", "k8s-audit", or ""
// when the first object looks like a CloudEvent or like none of them.
func recordShape(src []byte) string {
	vals, err := splitJSON(src)
	if err != nil {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(vals[0].raw, &obj) != nil || obj["specversion"] != nil {
		return ""
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if obj[k] == nil {
				return false
			}
		}
		return true
	}
	var apiVersion string
	_ = json.Unmarshal(obj["apiVersion"], &apiVersion)
	switch {
	case has("trace_id") || has("trace_name") || has("traces"):
		return "cts"
	case has("auditID") || strings.HasPrefix(apiVersion, "audit.k8s.io/"):
		return "k8s-audit"
	case has("userIdentity", "eventName") || has("eventSource", "requestID"):
		return "cloudaudit"
	}
	return ""
}
