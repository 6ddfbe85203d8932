package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel kinds. Callers map them to HTTP status and error codes with
// errors.Is; the *Error that wraps them carries the details for the message.
var (
	ErrMalformed            = errors.New("malformed body")
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	ErrTooLarge             = errors.New("body too large")
	ErrMissingAttribute     = errors.New("missing required attribute")
	ErrInvalidAttribute     = errors.New("invalid attribute")
)

// Error says what is wrong with a request, and where: which batch element
// and which attribute, so a client can fix its producer without guessing.
type Error struct {
	Kind      error  // one of the sentinels above
	Index     int    // batch element index; -1 when not a batch or not element-specific
	Attribute string // attribute concerned; "" if none
	Msg       string // what, where and why
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Index >= 0 {
		b.WriteString("event ")
		b.WriteString(strconv.Itoa(e.Index))
		b.WriteString(": ")
	}
	if e.Attribute != "" {
		fmt.Fprintf(&b, "attribute %s: ", Quote(e.Attribute))
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, attr, format string, args ...any) *Error {
	return &Error{Kind: kind, Index: -1, Attribute: attr, Msg: fmt.Sprintf(format, args...)}
}

func malformed(format string, args ...any) *Error {
	return newError(ErrMalformed, "", format, args...)
}

func invalid(attr, format string, args ...any) *Error {
	return newError(ErrInvalidAttribute, attr, format, args...)
}

func missing(attr, format string, args ...any) *Error {
	return newError(ErrMissingAttribute, attr, format, args...)
}

// atIndex attributes err to batch element i. Every error this package
// creates is an *Error, so the type assertion only fails for a nil err.
func atIndex(err error, i int) error {
	var e *Error
	if errors.As(err, &e) {
		e.Index = i
	}
	return err
}

// Quote quotes a client-supplied value for an error message, shortened so
// that a huge bad value does not turn into a huge error response. Every
// endpoint that names a bad value uses it.
func Quote(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
