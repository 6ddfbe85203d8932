package hss

import (
	"fmt"
	"net/http"
)

// HSS error codes this face answers (HSS API reference, "Error Codes");
// CodeRead is auditbus's own, HSS listing none for a store that did not
// answer.
const (
	CodeParam  = "HSS.0001" // 400: a query parameter is missing or invalid
	CodeDenied = "HSS.0010" // 401: no valid identity ("Access denied")
	CodePerm   = "HSS.0013" // 403: the identity lacks the action ("Insufficient permissions")
	CodeRead   = "HSS.5030" // 503: the audit index did not answer; retrying is safe
)

// Error is an answer in HSS's error shape. Err is its cause, for the log
// and errors.Is, never shown to the client.
type Error struct {
	Status int    `json:"-"`
	Code   string `json:"error_code"`
	Msg    string `json:"error_msg"`
	Err    error  `json:"-"`
}

// Error is the code and message, then the cause if any.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Msg
}

// Unwrap is the cause.
func (e *Error) Unwrap() error { return e.Err }

func badParam(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeParam, Msg: fmt.Sprintf(format, args...)}
}

// CodeFor is the HSS code of an error answer of another part of the API
// (authentication, a method not allowed) on the HSS path, by its status.
func CodeFor(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusTooManyRequests:
		return CodeDenied
	case http.StatusForbidden:
		return CodePerm
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotFound:
		return CodeParam
	}
	return CodeRead
}
