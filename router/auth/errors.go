package auth

import (
	"fmt"
	"time"
)

// Error codes of refused requests, in the API's error shape. Part of the
// API contract: never renumber one.
const (
	CodeUnauthenticated = "AB.4010" // 401: no valid identity
	CodeForbidden       = "AB.4030" // 403: the identity lacks the action or the bus
	CodeThrottled       = "AB.4290" // 429: too many failed attempts from this address
)

// Error is a refused request: what to answer (Status, Code, Msg, and for
// 429 RetryAfter) and, for metrics and the log only, which kind of
// credential failed (Reason) and why (Detail): a client learns no more
// than that its credential is not valid.
type Error struct {
	Status     int
	Code       string
	Msg        string
	RetryAfter time.Duration
	Reason     string
	Detail     error
}

func (e *Error) Error() string {
	if e.Detail != nil {
		return fmt.Sprintf("%s (%s: %v)", e.Msg, e.Reason, e.Detail)
	}
	return e.Msg
}

// Challenge is the WWW-Authenticate value of a 401.
const Challenge = `Bearer realm="auditbus", SDK-HMAC-SHA256 realm="auditbus"`

// Forbidden is the 403 for an identity that may not touch bus, for
// endpoints that learn the bus from the request.
func Forbidden(id *Identity, bus string) *Error {
	return &Error{Status: 403, Code: CodeForbidden, Msg: fmt.Sprintf("identity %q may not use bus %q", id.Name, bus)}
}
