package sinks

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
)

// A header that HTTP (or NATS, whose headers are written the same way)
// cannot carry fails the same way on every attempt, so a request holding
// one is a permanent failure, found before anything is sent, rather than
// a network error retried until max_age. In a binary-mode CloudEvents
// request the event's own attributes are headers: ingest refuses control
// characters in them, but an event published onto the bus by another tool
// may still hold one.

// ErrUnbuildable marks a delivery whose request cannot be built as the
// target is configured (a header value the event makes invalid): it is
// permanent, and was never sent.
var ErrUnbuildable = errors.New("the request cannot be built")

// checkHeaders returns a permanent ErrUnbuildable naming the first header
// (in name order) that net/http would refuse to send; nil if every one is
// valid.
func checkHeaders(h http.Header) error {
	for name, values := range h {
		if checkHeader(name, values...) != nil {
			// The error names the first bad header in sorted order, the
			// same whatever the map's order; sorting costs only then.
			for _, name := range slices.Sorted(maps.Keys(h)) {
				if err := checkHeader(name, h[name]...); err != nil {
					return Permanent(fmt.Errorf("%w: %w", ErrUnbuildable, err))
				}
			}
		}
	}
	return nil
}

// checkHeader reports a name that is not an HTTP token, or a value with a
// control character other than tab: what net/http's client refuses, and
// what would let a value end a header line and start another.
func checkHeader(name string, values ...string) error {
	if name == "" {
		return fmt.Errorf("a header has an empty name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenByte(name[i]) {
			return fmt.Errorf("header name %q: byte %d (%q) is not allowed in an HTTP header name", name, i, name[i])
		}
	}
	for _, v := range values {
		for i := 0; i < len(v); i++ {
			if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
				return fmt.Errorf("header %s: the value holds the control character %U at byte %d, which a header cannot carry", name, rune(c), i)
			}
		}
	}
	return nil
}

// isTokenByte is RFC 9110's tchar.
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// checkConfigHeaders validates a target's headers setting when the rule
// is loaded, so a bad one is a rule error and not failed deliveries.
func checkConfigHeaders(headers map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		if err := checkHeader(name, headers[name]); err != nil {
			return fmt.Errorf("headers: %w", err)
		}
	}
	return nil
}
